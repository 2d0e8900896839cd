import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers';
import { bareRepository, commitByHand, git, gitDaemonForSuite, gitDaemonTests, writeFile } from '../git-helpers';

/** A fleet module with one `<name>/prod` site per entry of `remotes` (its gitRemote, or none). */
function fleetModule(remotes: Record<string, string | undefined>, maxConnections = 500): string {
  const root = join(import.meta.dirname, '..', '..');
  const file = join(tempDir(), 'fleet.ts');
  const sites = Object.entries(remotes).map(([name, remote]) => `{
  name: '${name}',
  build(scope, catalog) {
    const site = new Site(scope, '${name}', { domain: '${name}.example.com'${remote ? `, gitRemote: '${remote}'` : ''} });
    const env = site.addEnvironment('prod');
    env.addCluster();
    env.addInstance('mysql', { service: catalog.service('mysql'), settings: { maxConnections: ${maxConnections} } });
    return site;
  },
}`);
  writeFileSync(file, `import { Site } from '${root}/constructs';\nimport type { SiteDefinition } from '${root}/sites';\nexport const fleet: SiteDefinition[] = [${sites.join(', ')}];\n`);
  return file;
}

describe('siteforge publish', () => {
  it('publishes the example fleet to local bare repositories and prints one line per repository and a table', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['publish', '--direct', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^\[1\/13\] .+: published main@[0-9a-f]{7}$/m);
    expect(result.out).toMatch(/^environment +repo +branch +commit +files changed +result$/m);
    expect(result.out).toMatch(/^acme\/prod +\S+\/\.remotes\/acme-prod\.git +main +[0-9a-f]{7} +\d+ +published$/m);
    expect(result.out).toContain('published 13, unchanged 0, failed 0 of 13 repositories');
    const again = await runCli(['publish', '--direct', '--out', out]);
    expect(again.out).toContain('published 0, unchanged 13, failed 0 of 13 repositories');
  });

  it('refuses --direct with --branch, which would name a review branch it does not push', async () => {
    const out = join(tempDir(), 'dist');
    const result = await runCli(['publish', '--direct', '--branch', 'tune', '--out', out]);
    expect([result.code, result.err.trim()]).toStrictEqual([2, "error: option '--direct' cannot be used with option '--branch <name>'"]);
    expect(existsSync(out)).toBe(false);
  });

  it('publishes with a relative --out, as npm start does from the project folder', async () => {
    // GIVEN the working directory is a fresh folder and --out is relative to it
    const cwd = process.cwd();
    const dir = tempDir();
    process.chdir(dir);
    try {
      // WHEN a site is published, then synthesized and published again with --no-synth
      const fleet = fleetModule({ shop: undefined });
      const first = await runCli(['publish', '--direct', '--out', 'dist', '--fleet', fleet]);
      expect([first.code, first.err]).toStrictEqual([0, '']);
      expect(first.out).toContain('published 1, unchanged 0, failed 0 of 1 repository');
      expect((await runCli(['synth', '--out', 'dist', '--fleet', fleetModule({ shop: undefined }, 900)])).code).toBe(0);
      const second = await runCli(['publish', '--direct', '--no-synth', '--out', 'dist', '--fleet', fleet]);
      // THEN both land in dist/.remotes, and no working clone is left behind
      expect(second.out).toContain('published 1, unchanged 0, failed 0 of 1 repository');
      expect(git(join(dir, 'dist/.remotes/shop-prod.git'), 'log', '--format=%s', 'main').split('\n')).toHaveLength(2);
      expect(existsSync(join(dir, 'dist/.siteforge-work'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('exits 1 on drift and names the file and the commit on stderr', async () => {
    const out = join(tempDir(), 'dist');
    expect((await runCli(['publish', '--direct', '--out', out, '--fleet', fleetModule({ shop: undefined })])).code).toBe(0);
    const sha = commitByHand(join(out, '.remotes/shop-prod.git'), 'Tune mysql by hand', (dir) => writeFile(dir, 'values/mysql.yaml', 'x: 1\n'));
    const result = await runCli(['publish', '--direct', '--out', out, '--fleet', fleetModule({ shop: undefined }, 900)]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^shop\/prod +\S+ +main +[0-9a-f]{7} +0 +drift in 1 file$/m);
    expect(result.err).toContain(`  values/mysql.yaml edited by:\n    ${sha} Hand Editor: Tune mysql by hand\n`);
    const forced = await runCli(['publish', '--direct', '--out', out, '--overwrite-drift', '--fleet', fleetModule({ shop: undefined }, 900)]);
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^shop\/prod .* published \(drift overwritten\)$/m);
  });

  it('refuses a review branch that git could read as an option, exit 1', async () => {
    const result = await runCli(['publish', '--out', tempDir(), '--branch=--force']);
    expect(result).toMatchObject({ code: 1, err: expect.stringContaining('error: review branch "siteforge/--force" is not a valid branch name') });
  });

  describe('with a git daemon', () => {
    const daemon = gitDaemonForSuite();

    it.skipIf(!gitDaemonTests)('publishes the reachable repositories, reports the unreachable one and exits 1', async () => {
      // GIVEN three sites, the third on a port nothing listens on
      bareRepository(join(daemon.served, 'one-prod.git'));
      bareRepository(join(daemon.served, 'two-prod.git'));
      const fleet = fleetModule({ one: `${daemon.url}/{site}-{env}.git`, two: `${daemon.url}/{site}-{env}.git`, three: 'git://127.0.0.1:9/{site}-{env}.git' });
      // WHEN the fleet is published
      const result = await runCli(['publish', '--direct', '--out', tempDir(), '--fleet', fleet]);
      // THEN two succeed, one fails with its reason, and the exit code is 1
      expect(result.code).toBe(1);
      expect(result.out).toMatch(new RegExp(`^one/prod +git://127\\.0\\.0\\.1:\\d+/one-prod\\.git +main +[0-9a-f]{7} +\\d+ +published$`, 'm'));
      expect(result.out).toMatch(/^two\/prod +.* published$/m);
      expect(result.out).toMatch(/^three\/prod +git:\/\/127\.0\.0\.1:9\/three-prod\.git +main +- +0 +failed$/m);
      expect(result.out).toContain('published 2, unchanged 0, failed 1 of 3 repositories');
      expect(result.err).toMatch(/^three\/prod: unable to connect to 127\.0\.0\.1/m);
      expect(git(join(daemon.served, 'one-prod.git'), 'log', '--format=%s', 'main')).toMatch(/^siteforge: one\/prod: /);
    });
  });
});

describe('siteforge diff', () => {
  it('exits 0 with --exit-code when nothing differs and 1 when something does', async () => {
    const out = join(tempDir(), 'dist');
    await runCli(['publish', '--direct', '--out', out, '--fleet', fleetModule({ shop: undefined })]);
    const same = await runCli(['diff', '--exit-code', '--out', out, '--fleet', fleetModule({ shop: undefined })]);
    expect(same).toMatchObject({ code: 0, out: expect.stringContaining('shop/prod (') });
    const changed = await runCli(['diff', '--exit-code', '--format', 'json', '--out', out, '--fleet', fleetModule({ shop: undefined }, 900)]);
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.out).environments[0].files).toStrictEqual([
      { change: 'changed', path: 'values/mysql.yaml', fields: [{ change: 'changed', path: 'primary.configuration', old: expect.stringContaining('max_connections=500'), new: expect.stringContaining('max_connections=900'), lines: [{ change: 'removed', line: 4, text: 'max_connections=500' }, { change: 'added', line: 4, text: 'max_connections=900' }] }], lines: [] },
    ]);
    expect((await runCli(['diff', '--out', out, '--fleet', fleetModule({ shop: undefined }, 900)])).code).toBe(0);
  });

  it('rejects an unknown format as a usage error', async () => {
    expect((await runCli(['diff', '--format', 'html'])).code).toBe(2);
  });
});
