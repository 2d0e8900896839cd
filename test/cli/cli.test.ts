import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleet } from '../../sites';
import { readTree, runCli, tempDir } from '../helpers';

/** A fleet module in a temporary folder, importing siteforge from this checkout. */
function fleetModule(body: string): string {
  const dir = tempDir();
  const root = join(import.meta.dirname, '..', '..');
  const file = join(dir, 'fleet.ts');
  writeFileSync(file, `import { Site, Exposure } from '${root}/constructs';\nimport type { SiteDefinition } from '${root}/sites';\n${body}\n`);
  return file;
}

const brokenFleet = () => fleetModule(`
export const fleet: SiteDefinition[] = [{
  name: 'acme',
  build(scope, catalog) {
    const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
    const env = site.addEnvironment('prod');
    env.addCluster();
    env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 2 });
    return site;
  },
}, {
  name: 'beta',
  build(scope, catalog) {
    const site = new Site(scope, 'beta', { domain: 'beta.example.com' });
    const env = site.addEnvironment('prod');
    env.addCluster();
    env.addInstance('admin', { service: catalog.service('portal-admin') });
    return site;
  },
}];`);

describe('siteforge CLI', () => {
  it('synth writes every example environment and lists them, exit 0', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['synth', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/acme\/prod +\d+ files: \d+ written, 0 deleted, 0 unchanged/);
    expect(result.out).toMatch(/synthesized 13 environments into/);
    expect(existsSync(join(out, 'demo/all-in-one/README.md'))).toBe(true);
  });

  it('synth says which environments it did not render because their inputs did not change, and --render-all renders them', async () => {
    const out = join(tempDir(), 'dist');
    await runCli(['synth', '--out', out]);
    const again = await runCli(['synth', '--out', out]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/demo\/all-in-one +38 files: inputs unchanged, not rendered\n/);
    // acme/prod reads the vault password: its values are checked against their fingerprints instead.
    expect(again.out).toMatch(/acme\/prod +\d+ files: inputs unchanged, not rendered\n/);
    expect(again.out).toMatch(/synthesized 13 environments into .*: 0 files written, 0 deleted; 13 not rendered \(inputs unchanged\)\n/);
    const all = await runCli(['synth', '--out', out, '--render-all']);
    expect(all.out).not.toMatch(/not rendered/);
    expect(all.out).toMatch(/demo\/all-in-one +38 files: 0 written, 0 deleted, 38 unchanged\n/);
  });

  it('synth shows its progress site by site on the status line, and takes the line away before it prints', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['synth', '--out', out]);
    expect(result.code).toBe(0);
    const printed = result.statuses.indexOf('<out>');
    const progress = result.statuses.slice(0, printed - 1);
    const sites = progress.map((status) => status.match(/^synth: (\d+)\/(\d+) sites \((\d+)%\), \d+ s$/)?.slice(1).map(Number));
    expect(sites).toStrictEqual(fleet.map((_, i) => [i + 1, fleet.length, Math.floor(((i + 1) / fleet.length) * 100)]));
    expect(result.statuses[printed - 1]).toBe('');
    // Found unchanged counts too.
    const again = await runCli(['synth', '--out', out]);
    expect(again.statuses.filter((s) => s.startsWith('synth: '))).toHaveLength(fleet.length);
  });

  // util-linux's script runs a command on a pseudo-terminal (Debian's bsdutils, always installed; BSD's takes other options).
  const utilLinuxScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') ?? false;

  it.skipIf(!utilLinuxScript && process.env.CI !== 'true')('on a terminal, the progress line is drawn in place on standard error and erased before the table; in a log it is not there', () => {
    const root = join(import.meta.dirname, '..', '..');
    const out = join(tempDir(), 'dist');
    const command = `${process.execPath} ${join(root, 'bin/siteforge.js')} synth --site demo --out ${out}`;
    const env = { ...process.env, SITEFORGE_VAULT_PASSWORD: 'example-fleet-only' };
    const terminal = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env });
    expect(terminal).toMatch(/^\r\x1b\[Ksynth: 1\/1 sites \(100%\), \d+ s\r\x1b\[K.*demo\/all-in-one +38 files: 38 written/);
    const log = spawnSync(process.execPath, [join(root, 'bin/siteforge.js'), 'synth', '--site', 'demo', '--out', out], { encoding: 'utf8', env });
    expect(log.status).toBe(0);
    expect(log.stderr).toBe('');
    expect(log.stdout).toMatch(/^\S*demo\/all-in-one +38 files: inputs unchanged, not rendered\n/);
  });

  it('a synth that fails takes its status line away before the errors are printed', async () => {
    const result = await runCli(['synth', '--out', join(tempDir(), 'dist'), '--fleet', brokenFleet()]);
    expect(result.code).toBe(1);
    expect(result.statuses.slice(-3)).toStrictEqual([expect.stringMatching(/^synth: 2\/2 sites \(100%\), \d+ s$/), '', '<err>']);
  });

  it('publish shows the progress of its synth, then one line per repository', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['publish', '--direct', '--out', out, '--site', 'demo']);
    expect(result.code).toBe(0);
    expect(result.statuses.slice(0, 2)).toStrictEqual([expect.stringMatching(/^synth: 1\/1 sites \(100%\), \d+ s$/), '']);
    expect(result.out).toMatch(/^\[1\/\d+\] demo\/[a-z-]+: published/m);
  });

  it('validate reads no output folder, not even one named like the folder it pretends to render into', async () => {
    // GIVEN, in the current folder, an output written with another vault password, in a folder named unused
    const dir = tempDir();
    const password = process.env.SITEFORGE_VAULT_PASSWORD;
    process.env.SITEFORGE_VAULT_PASSWORD = 'another-fleet-entirely';
    try {
      expect((await runCli(['synth', '--out', join(dir, 'unused')])).code).toBe(0);
    } finally {
      process.env.SITEFORGE_VAULT_PASSWORD = password;
    }
    // WHEN validate runs there with the fleet's own password
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // THEN it checks the fleet alone, reading none of those vaults
      expect(await runCli(['validate'])).toMatchObject({ code: 0, out: '13 environments valid\n' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('validate reports the problems of every site at once and exits 1 without a stack', async () => {
    const result = await runCli(['validate', '--fleet', brokenFleet()]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('error: 3 problems:');
    expect(result.err).toContain('  - acme/prod/es: nodes must be at least 3 for profile cluster, got 2');
    expect(result.err).toContain('  - beta/prod/admin: portal-admin depends on mysql');
    expect(result.err).toContain('  - beta/prod/admin: portal-admin depends on redis');
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  it('synth with an invalid fleet exits 1 and writes nothing, not even the new output folder', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['synth', '--out', out, '--fleet', brokenFleet()]);
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on an unknown option', async () => {
    const result = await runCli(['synth', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.err).toContain("error: unknown option '--bogus'");
  });

  it('runs as an executable, with the heap limit of its shebang, and prints its version', () => {
    const root = join(import.meta.dirname, '..', '..');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(readFileSync(join(root, 'bin/siteforge.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-old-space-size=512 --max-semi-space-size=4');
    expect(execFileSync(join(root, 'bin/siteforge.js'), ['--version'], { encoding: 'utf8' })).toBe(`${version}\n`);
  });

  it('writes the same bytes whatever the locale (in Danish, aa sorts after z)', () => {
    const root = join(import.meta.dirname, '..', '..');
    const fleet = fleetModule(`
export const fleet: SiteDefinition[] = [{
  name: 'locale',
  build(scope, catalog) {
    const site = new Site(scope, 'locale', { domain: 'locale.example.com' });
    const env = site.addEnvironment('prod');
    env.addCluster();
    for (const name of ['zz-cache', 'aa-cache']) env.addInstance(name, { service: catalog.service('redis') });
    return site;
  },
}];`);
    const synthUnder = (locale: string) => {
      const out = join(tempDir(), 'dist');
      execFileSync(join(root, 'bin/siteforge.js'), ['synth', '--fleet', fleet, '--out', out], { env: { ...process.env, LC_ALL: locale, LANG: locale }, encoding: 'utf8' });
      return readTree(out);
    };
    const plain = synthUnder('C');
    expect(plain['locale/prod/README.md'].indexOf('aa-cache')).toBeLessThan(plain['locale/prod/README.md'].indexOf('zz-cache'));
    expect(synthUnder('da_DK.UTF-8')).toStrictEqual(plain);
  });

  it.each(['synth', 'validate', 'sites', 'diff', 'publish', 'catalog list', 'catalog show'])('%s --help says what --catalog defaults to', async (command) => {
    // WHEN a fleet command's help is shown, THEN --catalog says it defaults to the built-in catalog
    const result = await runCli([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.out.replace(/\s+/g, ' ')).toContain('--catalog <dir> catalog folder (default: the built-in catalog)');
  });

  it.each(['synth', 'publish'])('%s --help says --workers takes a number or auto, as it does', async (command) => {
    // GIVEN --workers auto, which the command accepts
    expect((await runCli([command, '--workers', 'auto', '--help'])).code).toBe(0);
    // WHEN its help is shown, THEN it says so
    const result = await runCli([command, '--help']);
    expect(result.out.replace(/\s+/g, ' ')).toContain('--workers <n> threads that build and render sites in parallel: a number, or auto (default: auto: one per 40 sites that need rendering, at most one per core)');
  });

  it.each([[[]], [['catalog']]])('exits 2, with the help on stderr, when no command is given: %j', async (argv) => {
    // WHEN siteforge (or a command with subcommands) is run without a command
    const result = await runCli(argv);
    // THEN it is a usage error, as an unknown command is, so a script with an empty command fails
    expect(result).toMatchObject({ code: 2, out: '', err: expect.stringContaining('Usage: siteforge') });
  });

  it.each([[['--help']], [['help']], [['help', 'synth']], [['catalog', '--help']]])('exits 0 when help is asked for: %j', async (argv) => {
    const result = await runCli(argv);
    expect(result).toMatchObject({ code: 0, err: '', out: expect.stringContaining('Usage: siteforge') });
  });

  it('exits 2 on an unknown command', async () => {
    expect((await runCli(['synthesize'])).code).toBe(2);
  });

  it('exits 1 on an unknown site, listing the sites', async () => {
    const result = await runCli(['synth', '--site', 'nope', '--out', tempDir()]);
    expect(result).toMatchObject({ code: 1, err: 'error: unknown site "nope"; the fleet has demo, acme, choerodon, koca, blueking, rainbond\n' });
  });

  it('exits 1, naming where, when a site definition\'s own code fails', async () => {
    const file = fleetModule(`export const fleet: SiteDefinition[] = [{ name: 'x', build() { throw new TypeError('oops'); } }];`);
    const result = await runCli(['validate', '--fleet', file]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^error: site x: its build failed: TypeError: oops \\(at ${file}:\\d+:\\d+\\)\\n$`));
  });

  it('exits 3 with the stack when siteforge fails on what a site definition gives it (a bug: it should have said what is wrong)', async () => {
    // siteforge's own code failing: its YAML writer given what is not JSON data.
    const file = fleetModule(`import { toYaml } from '${join(import.meta.dirname, '..', '..')}/constructs/yaml';\nexport const fleet: SiteDefinition[] = [{ name: 'x', build(scope) { const site = new Site(scope, 'x', { domain: 'x.example.com' }); toYaml({ value: Symbol('not data') }); return site; } }];`);
    const result = await runCli(['validate', '--fleet', file]);
    expect(result.code).toBe(3);
    expect(result.err).toMatch(/internal error[\s\S]*Error: cannot write a symbol as YAML[\s\S]*\n\s+at scalarText /);
  });

  it('sites shows the fleet as a tree with placement and profile', async () => {
    const result = await runCli(['sites', '--site', 'acme']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('└─ prod [runtime zone] cluster https://k8s-prod.acme.internal:6443 via argocd, 4 VM hosts');
    expect(result.out).toMatch(/elasticsearch +elasticsearch 7\.8\.1, cluster x3, vm acme-es-1,acme-es-2,acme-es-3/);
  });

  it('sites --env shows only the sites that have the environment', async () => {
    const result = await runCli(['sites', '--env', 'prod']);
    expect(result.code).toBe(0);
    const siteLines = result.out.split('\n').filter((line) => /^[a-z]/.test(line));
    expect(siteLines).toStrictEqual(fleet.filter((d) => ['acme', 'koca', 'blueking', 'rainbond'].includes(d.name)).map((d) => expect.stringMatching(new RegExp(`^${d.name} \\(`))));
    expect(result.out).not.toMatch(/^demo /m);
  });

  it('catalog list shows name, version, kind, placements, profiles and ports, as its help says', async () => {
    const result = await runCli(['catalog', 'list']);
    expect(result.code).toBe(0);
    expect(result.out.split('\n')[0].split(/\s+/)).toStrictEqual(['NAME', 'VERSION', 'KIND', 'PLACEMENTS', 'PROFILES', 'PORTS']);
    expect((await runCli(['catalog', 'list', '--help'])).out.replace(/\s+/g, ' ')).toContain('name, version, kind (helm or native), placements, profiles and ports of every service');
    expect(result.out).toMatch(/^elasticsearch +7\.8\.1 +helm +kubernetes,vm +single,cluster +9200,9300$/m);
  });

  it('catalog show prints the settings with their defaults', async () => {
    const result = await runCli(['catalog', 'show', 'mysql']);
    expect(result.out).toMatch(/^  maxConnections +integer +500 +max_connections of the server$/m);
    expect((await runCli(['catalog', 'show', 'postgres'])).code).toBe(1);
  });

  it('catalog show says whose Ingress a chart-based service gets, and what its chart writes in APIs Kubernetes no longer serves', async () => {
    expect((await runCli(['catalog', 'show', 'kibana'])).out).toContain('chart: kibana 7.8.1 from https://helm.elastic.co\ningress: written by siteforge (networking.k8s.io/v1), not by the chart\n');
    expect((await runCli(['catalog', 'show', 'kafka'])).out).toContain('\npod disruption budget: written by siteforge for a cluster (policy/v1), not by the chart\n');
    const gitlab = (await runCli(['catalog', 'show', 'gitlab'])).out;
    expect(gitlab).not.toContain('ingress: written by siteforge');
    expect(gitlab).toContain('kubernetes: the chart writes HorizontalPodAutoscaler as autoscaling/v2beta1, not served since 1.25\n');
  });

  it('catalog show names the Service clients reach where a chart names it otherwise than after the instance', async () => {
    expect((await runCli(['catalog', 'show', 'redis'])).out).toContain('chart: redis 10.7.16 from https://charts.bitnami.com/bitnami\nclients reach: the Service <instance>-master, port 6379\n');
    expect((await runCli(['catalog', 'show', 'mysql'])).out).not.toContain('clients reach:');
  });

  it('catalog show lists the images a chart pulls that a registry mirror does not get', async () => {
    expect((await runCli(['catalog', 'show', 'gitlab'])).out).toMatch(/\nnot mirrored: the chart also pulls registry\.gitlab\.com\/gitlab-org\/build\/cng\/gitlab-shell, .*docker\.io\/bitnami\/postgresql.*\n/);
    expect((await runCli(['catalog', 'show', 'mysql'])).out).not.toContain('not mirrored:');
  });

  it('npx cdk8s synth runs the same synth through cdk8s.yaml', () => {
    // GIVEN the cdk8s CLI (a dev dependency) and an output folder
    const out = join(tempDir(), 'cdk8s-out');
    // WHEN it synthesizes (no upgrade check: it would ask the npm registry)
    execFileSync('npx', ['cdk8s', 'synth', '--check-upgrade', 'false', '--output', out], { cwd: join(import.meta.dirname, '..', '..'), stdio: 'pipe' });
    // THEN every example environment is there, as siteforge synth writes it
    expect(existsSync(join(out, 'acme/prod/README.md'))).toBe(true);
    expect(existsSync(join(out, 'demo/all-in-one/.siteforge/state.json'))).toBe(true);
  });
});
