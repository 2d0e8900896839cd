import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledProgram, DEFAULT_FLEET, fleetArgument, fleetFileOf, PROGRAM_CACHE_DIR, type CompiledProgram } from '../../engine/compiled-program.js';
import { loadFleet } from '../../engine/fleet';
import { synth } from '../../engine/synth';
import type { SiteDefinition } from '../../sites/site-definition';
import { originalStack } from '../../engine/original-stack';
import type { Io } from '../../cli/io';
import { builtinCatalog, tempDir } from '../helpers';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'siteforge.js');

// A compiled program imports its packages by name, so its folder must be inside siteforge's.
const caches: string[] = [];
afterEach(() => {
  for (const dir of caches.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function programCache(): string {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'siteforge-test-program-'));
  caches.push(dir);
  return dir;
}

/** Marks `paths` last changed a minute ago: as a user's files are, unlike files a test just wrote (see SETTLE_MS). */
function settle(...paths: string[]): void {
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (const path of paths) utimesSync(path, aMinuteAgo, aMinuteAgo);
}

/**
 * A folder `fleet` in a project whose package.json says `"type": type` (so node reads its
 * `.ts` files as that, whatever the temporary folder holds above), and the project folder.
 */
function projectFolder(type: 'module' | 'commonjs'): { project: string; dir: string } {
  const project = tempDir();
  writeFileSync(join(project, 'package.json'), `{ "type": "${type}" }\n`);
  const dir = join(project, 'fleet');
  mkdirSync(dir);
  return { project, dir };
}

/** A fleet of one site per name, in a folder of its own, importing siteforge from this checkout and the names from `names.ts`. */
function fleetFolder(names: readonly string[], options: { settled?: boolean } = {}): { dir: string; file: string } {
  const { project, dir } = projectFolder('module');
  writeFileSync(join(dir, 'names.ts'), `export const names: string[] = ${JSON.stringify(names)};\n`);
  const file = join(dir, 'fleet.ts');
  writeFileSync(file, `import { Site } from '${ROOT}/constructs';
import type { SiteDefinition } from '${ROOT}/sites/site-definition';
import { names } from './names';
export const fleet: SiteDefinition[] = names.map((name) => ({
  name,
  build(scope, catalog) {
    const site = new Site(scope, name, { domain: name + '.example.com' });
    site.addEnvironment('prod').addCluster();
    site.environments[0].addInstance('redis', { service: catalog.service('redis') });
    return site;
  },
}));
`);
  settle(join(project, 'package.json'), project);
  if (options.settled !== false) settle(dir);
  return { dir, file };
}

/** The site names of the fleet compiled into `build`. */
async function namesOf(build: CompiledProgram): Promise<string[]> {
  return ((await import(build.fleet!)) as { fleet: { name: string }[] }).fleet.map((d) => d.name);
}

function captureIo(): Io & { text: () => string } {
  const lines: string[] = [];
  return { out: (t) => lines.push(t), err: (t) => lines.push(t), status: () => {}, isTty: false, text: () => lines.join('\n') };
}

type Main = (argv: string[], io?: Io, compiled?: CompiledProgram) => Promise<number>;

describe('fleetArgument', () => {
  it.each([
    [[], DEFAULT_FLEET],
    [['synth', '--fleet', 'a.ts'], 'a.ts'],
    [['synth', '--fleet=b.ts', '--out', 'x'], 'b.ts'],
    [['synth', '--fleet', 'a.ts', '--fleet=b.ts'], 'b.ts'],
    [['synth', '--fleet', 'a.ts', '--', '--fleet', 'c.ts'], 'a.ts'],
    [['synth', '--fleet'], DEFAULT_FLEET],
  ])('reads %j as %s', (argv, fleet) => {
    expect(fleetArgument(argv)).toBe(fleet);
  });
});

describe('fleetFileOf', () => {
  it('resolves against the working folder; the default falls back to the example fleet; another missing file is none', () => {
    const { dir } = fleetFolder(['a']);
    expect(fleetFileOf('fleet.ts', dir)).toBe(join(dir, 'fleet.ts'));
    expect(fleetFileOf(DEFAULT_FLEET, dir)).toBe(join(ROOT, 'sites', 'index.ts'));
    expect(fleetFileOf('missing.ts', dir)).toBeUndefined();
  });
});

describe('compiledProgram', () => {
  it('compiles siteforge with the fleet once, and runs it: the fleet built with the CLI own classes, so an unchanged environment is not rendered again', async () => {
    const cacheDir = programCache();
    const { file } = fleetFolder(['alpha', 'beta']);
    const first = await compiledProgram({ fleetFile: file, cacheDir });
    const again = await compiledProgram({ fleetFile: file, cacheDir });
    expect(first.built).toBe(true);
    expect(again).toStrictEqual({ ...first, built: false });
    expect(first.fleetFile).toBe(file);

    const { main } = (await import(first.cli)) as { main: Main };
    const out = join(tempDir(), 'dist');
    const io = captureIo();
    expect(await main(['synth', '--fleet', file, '--out', out], io, first)).toBe(0);
    expect(await main(['synth', '--fleet', file, '--out', out], io, first)).toBe(0);
    // Were the fleet's Site another class than the renderer's, its input hash could not be written down.
    expect(io.text()).toMatch(/synthesized 2 environments into .*: 0 files written, 0 deleted; 2 not rendered \(inputs unchanged\)/);
  });

  it('compiles further entry points with siteforge and the fleet, sharing their modules; a build of its own per set of entries', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    const entry = join(dir, 'probe.ts');
    writeFileSync(entry, `import { Site } from '${ROOT}/constructs';
import { fleet } from './fleet';
export const here = import.meta.url;
export const sameSite = (site: unknown) => site instanceof Site;
export const sameFleet = (other: unknown) => other === fleet;
`);
    settle(dir);
    const plain = await compiledProgram({ fleetFile: file, cacheDir });
    const withProbe = await compiledProgram({ fleetFile: file, cacheDir, entries: { probe: entry } });
    expect(plain.entries).toStrictEqual({});
    expect(withProbe.dir).not.toBe(plain.dir);
    expect(withProbe.entries).toStrictEqual({ probe: pathToFileURL(join(withProbe.dir, 'probe.js')).href });
    expect((await compiledProgram({ fleetFile: file, cacheDir, entries: { probe: entry } })).built).toBe(false);

    const probe = (await import(withProbe.entries.probe)) as { here: string; sameSite: (s: unknown) => boolean; sameFleet: (f: unknown) => boolean };
    const { fleet } = (await import(withProbe.fleet!)) as { fleet: SiteDefinition[] };
    const { App } = await import('cdk8s');
    expect(probe.here).toBe(pathToFileURL(entry).href);
    expect(probe.sameFleet(fleet)).toBe(true);
    expect(probe.sameSite(fleet[0].build(new App(), builtinCatalog()))).toBe(true);

    for (const name of ['cli', 'fleet', 'Probe', '../x', 'chunk-abc']) {
      await expect(compiledProgram({ fleetFile: file, cacheDir, entries: { [name]: entry } })).rejects.toThrow(`an entry point cannot be named ${JSON.stringify(name)}`);
    }
    await expect(compiledProgram({ fleetFile: file, cacheDir, entries: { probe: 'probe.ts' } })).rejects.toThrow('entry point probe: "probe.ts" is not an absolute path');

    // Its record goes, once another build is written, with the entry point.
    rmSync(entry);
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['edited'];\n");
    settle(dir);
    await compiledProgram({ fleetFile: file, cacheDir });
    const records = readdirSync(cacheDir).filter((name) => name.endsWith('.json')).map((name) => JSON.parse(readFileSync(join(cacheDir, name), 'utf8')) as { entries?: unknown });
    expect(records.map((r) => r.entries)).toStrictEqual([undefined]);
  });

  it('gives modules swapped between entry points builds of their own, though they read the same files', async () => {
    const cacheDir = programCache();
    const dir = tempDir();
    const [p, q] = ['p', 'q'].map((name) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, `export const which = '${name}';\n`);
      return file;
    });
    settle(dir);
    const which = async (url: string) => ((await import(url)) as { which: string }).which;
    const first = await compiledProgram({ fleetFile: p, cacheDir, entries: { tool: q } });
    const swapped = await compiledProgram({ fleetFile: q, cacheDir, entries: { tool: p } });
    expect(swapped.dir).not.toBe(first.dir);
    expect([await which(first.fleet!), await which(first.entries.tool)]).toStrictEqual(['p', 'q']);
    expect([await which(swapped.fleet!), await which(swapped.entries.tool)]).toStrictEqual(['q', 'p']);
  });

  it('compiles again when a source, a file an import may now find, a link or a config file above one changes, and never changes a build it wrote', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    // The fleet imports ./names.js, which is JavaScript until a names.ts comes beside it.
    rmSync(join(dir, 'names.ts'));
    writeFileSync(join(dir, 'names.js'), "export const names = ['alpha'];\n");
    writeFileSync(file, readFileSync(file, 'utf8').replace("from './names'", "from './names.js'"));
    settle(dir);
    const builds = [await compiledProgram({ fleetFile: file, cacheDir })];
    const changes: [string, () => void, string[]][] = [
      ['the fleet module', () => writeFileSync(file, readFileSync(file, 'utf8').replace('names.map(', 'names.concat([\'edited\']).map(')), ['alpha', 'edited']],
      ['a module it imports', () => writeFileSync(join(dir, 'names.js'), "export const names = ['gamma'];\n"), ['gamma', 'edited']],
      // ./names.js finds names.ts first, as tsx does (and TypeScript allows).
      ['a new file beside them that an import now finds', () => writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['ts'];\n"), ['ts', 'edited']],
      ['a tsconfig.json in their folder', () => writeFileSync(join(dir, 'tsconfig.json'), '{ "extends": "./base.json" }\n'), ['ts', 'edited']],
      ['the tsconfig it extends', () => writeFileSync(join(dir, 'base.json'), '{ "compilerOptions": { "strict": true } }\n'), ['ts', 'edited']],
      ['a link the import goes through, pointed elsewhere', () => {
        writeFileSync(join(dir, 'other-names.ts'), "export const names: string[] = ['linked'];\n");
        rmSync(join(dir, 'names.ts'));
        symlinkSync(join(dir, 'other-names.ts'), join(dir, 'names.ts'));
      }, ['linked', 'edited']],
      ['that link pointed back', () => {
        rmSync(join(dir, 'names.ts'));
        symlinkSync(join(dir, 'names.js'), join(dir, 'names.ts'));
      }, ['gamma', 'edited']],
    ];
    for (const [what, change, names] of changes) {
      change();
      settle(dir, ...['tsconfig.json', 'base.json'].map((f) => join(dir, f)).filter(existsSync));
      const build = await compiledProgram({ fleetFile: file, cacheDir });
      expect(build.built, what).toBe(true);
      expect(await namesOf(build), what).toStrictEqual(names);
      expect((await compiledProgram({ fleetFile: file, cacheDir })).built, `${what}, asked again`).toBe(false);
      builds.push(build);
    }
    expect(new Set(builds.map((b) => b.dir)).size).toBe(builds.length);
    for (const build of builds) expect(existsSync(join(build.dir, 'fleet.js'))).toBe(true);
    expect(await namesOf(builds[0])).toStrictEqual(['alpha']);
  });

  it('notices a file an import may now find in a folder that holds no source itself', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    mkdirSync(join(dir, 'lists', 'names'), { recursive: true });
    writeFileSync(join(dir, 'lists', 'names', 'index.ts'), "export const names: string[] = ['from-index'];\n");
    writeFileSync(file, readFileSync(file, 'utf8').replace("from './names'", "from './lists/names'"));
    settle(dir, join(dir, 'lists'), join(dir, 'lists', 'names'));
    const first = await compiledProgram({ fleetFile: file, cacheDir });
    expect(await namesOf(first)).toStrictEqual(['from-index']);
    writeFileSync(join(dir, 'lists', 'names.ts'), "export const names: string[] = ['beside-the-folder'];\n"); // esbuild prefers it
    settle(join(dir, 'lists'));
    const second = await compiledProgram({ fleetFile: file, cacheDir });
    expect(second.built).toBe(true);
    expect(await namesOf(second)).toStrictEqual(['beside-the-folder']);
  });

  it('uses but does not keep a build whose folders changed as it began, since esbuild may have read them before', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha'], { settled: false });
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
    settle(dir);
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(false);
  });

  it('keeps import.meta.url meaning the file it is written in, and leaves the words in a string alone', async () => {
    const cacheDir = programCache();
    const { file } = fleetFolder(['alpha']);
    writeFileSync(file, `${readFileSync(file, 'utf8')}export const where = [import.meta.url, import.meta.dirname, 'import.meta.url, in words'];\n`);
    const { fleet } = await compiledProgram({ fleetFile: file, cacheDir });
    expect(((await import(fleet!)) as { where: string[] }).where).toStrictEqual([pathToFileURL(file).href, dirname(file), 'import.meta.url, in words']);
  });

  it.each([
    ['imports a path built at run time', (dir: string) => writeFileSync(join(dir, 'fleet.ts'), `${readFileSync(join(dir, 'fleet.ts'), 'utf8')}export const load = (name: string) => import(\`./\${name}.ts\`);\n`)],
    ['maps imports in its tsconfig.json', (dir: string) => writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": { /* where */ "paths": { "@names": ["./names.ts"] } } }\n')],
    ['extends a package\'s tsconfig', (dir: string) => writeFileSync(join(dir, 'tsconfig.json'), '{ "extends": "@tsconfig/node20/tsconfig.json" }\n')],
  ])('uses but does not keep a build whose fleet %s, since its record cannot follow where that looks', async (_, make) => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    make(dir);
    settle(dir, ...['tsconfig.json'].map((f) => join(dir, f)).filter(existsSync));
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
  });

  it('leaves itself out of the build: the program imports this very file, whose code must not be rewritten as a source', async () => {
    const cacheDir = programCache();
    const { file } = fleetFolder(['alpha']);
    const { dir } = await compiledProgram({ fleetFile: file, cacheDir });
    const texts = readdirSync(dir).filter((name) => name.endsWith('.js')).map((name) => readFileSync(join(dir, name), 'utf8'));
    expect(texts.some((text) => text.includes(`from "${pathToFileURL(join(ROOT, 'engine', 'compiled-program.js')).href}"`))).toBe(true);
    expect(texts.some((text) => text.includes('sources-as-read'))).toBe(false);
  });

  it('gives the same sources the same folder, whoever compiles them at once, and leaves no staging folder', async () => {
    const cacheDir = programCache();
    const { file } = fleetFolder(['alpha']);
    const inThisProcess = await Promise.all([compiledProgram({ fleetFile: file, cacheDir }), compiledProgram({ fleetFile: file, cacheDir })]);
    expect(inThisProcess.map((p) => p.built)).toStrictEqual([true, true]);
    expect(inThisProcess[1].dir).toBe(inThisProcess[0].dir);

    const otherCache = programCache();
    const script = `const { compiledProgram } = await import(${JSON.stringify(join(ROOT, 'engine', 'compiled-program.js'))});
process.stdout.write((await compiledProgram({ fleetFile: ${JSON.stringify(file)}, cacheDir: ${JSON.stringify(otherCache)} })).dir);`;
    const run = promisify(execFile);
    const dirs = await Promise.all([1, 2, 3].map(async () => (await run(process.execPath, ['--input-type=module', '-e', script])).stdout));
    expect(new Set(dirs).size).toBe(1);
    expect(readdirSync(otherCache).filter((name) => name.startsWith('.'))).toStrictEqual([]);
    expect(readdirSync(otherCache).filter((name) => !name.endsWith('.json'))).toStrictEqual([dirs[0].split('/').at(-1)]);
  });

  it('removes, once it writes a build, one no record names after an hour unused, any other after a day, and the record of a fleet module that is gone', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    const [used, stale, gone] = [fleetFolder(['beta']), fleetFolder(['gamma']), fleetFolder(['delta'])];
    const replaced = await compiledProgram({ fleetFile: file, cacheDir });
    const [usedBuild, staleBuild, goneBuild] = await Promise.all([used, stale, gone].map((f) => compiledProgram({ fleetFile: f.file, cacheDir })));
    rmSync(gone.file);
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['edited'];\n");
    settle(dir);
    const current = await compiledProgram({ fleetFile: file, cacheDir });
    const records = () => readdirSync(cacheDir).filter((name) => name.endsWith('.json'));
    expect(records()).toHaveLength(3); // the gone fleet's record went with that build
    expect([replaced, goneBuild].map((b) => existsSync(b.dir))).toStrictEqual([true, true]); // used within the hour

    const ago = (ms: number) => new Date(Date.now() - ms);
    for (const build of [replaced, goneBuild, current]) utimesSync(build.dir, ago(2 * 60 * 60 * 1000), ago(2 * 60 * 60 * 1000));
    for (const build of [usedBuild, staleBuild]) utimesSync(build.dir, ago(2 * 24 * 60 * 60 * 1000), ago(2 * 24 * 60 * 60 * 1000));
    expect((await compiledProgram({ fleetFile: used.file, cacheDir })).built).toBe(false); // used now: marked
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['again'];\n");
    settle(dir);
    const next = await compiledProgram({ fleetFile: file, cacheDir });
    const kept = (builds: Record<string, { dir: string }>) => Object.fromEntries(Object.entries(builds).map(([name, b]) => [name, existsSync(b.dir)]));
    expect(kept({ replaced, goneBuild, current, staleBuild, usedBuild, next })).toStrictEqual({
      replaced: false, goneBuild: false, current: false, staleBuild: false, usedBuild: true, next: true,
    });
    expect(records()).toHaveLength(3);
  });

  it('keeps a build it compiles again after an edit is undone, however old, and runs it', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    const first = await compiledProgram({ fleetFile: file, cacheDir });
    const names = readFileSync(join(dir, 'names.ts'), 'utf8');
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['beta'];\n");
    settle(dir);
    await compiledProgram({ fleetFile: file, cacheDir });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    utimesSync(first.dir, twoDaysAgo, twoDaysAgo);
    writeFileSync(join(dir, 'names.ts'), names);
    settle(dir);
    const again = await compiledProgram({ fleetFile: file, cacheDir });
    expect(again).toStrictEqual({ ...first, built: true });
    expect(await namesOf(again)).toStrictEqual(['alpha']);
  });

  it('remembers a fleet module it could not compile until a file it read changes', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(join(dir, 'names.ts'), 'export const names = [;\n');
    settle(dir);
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow('Unexpected ";"');
    const [record] = readdirSync(cacheDir).filter((name) => name.endsWith('.json'));
    const writtenAt = statSync(join(cacheDir, record)).mtimeMs;
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow('Unexpected ";"');
    expect(statSync(join(cacheDir, record)).mtimeMs).toBe(writtenAt); // told again, not compiled again
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['fixed'];\n");
    expect((await compiledProgram({ fleetFile: file, cacheDir })).built).toBe(true);
  });

  it('compiles again when an import that found nothing may now find a file: x.ts where x.js was asked for', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(file, readFileSync(file, 'utf8').replace("from './names'", "from './typed-names.js'"));
    settle(dir);
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow('Could not resolve "./typed-names.js"');
    writeFileSync(join(dir, 'typed-names.ts'), "export const names: string[] = ['typed'];\n");
    settle(dir);
    expect(await namesOf(await compiledProgram({ fleetFile: file, cacheDir }))).toStrictEqual(['typed']);
  });

  it('finds and runs modules as tsx does: x.ts before x.tsx, and every import run whatever sideEffects says', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(join(dir, 'names.tsx'), "export const names: string[] = ['from-tsx'];\n");
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'package.json'), '{ "type": "module", "sideEffects": false }\n');
    writeFileSync(join(dir, 'lib', 'register.ts'), "(globalThis as Record<string, unknown>).registered = 'registered';\n");
    writeFileSync(file, readFileSync(file, 'utf8').replace("import { names } from './names';", "import { names as found } from './names';\nimport './lib/register';\nconst names = [...found, String((globalThis as Record<string, unknown>).registered)];"));
    settle(dir);
    expect(await namesOf(await compiledProgram({ fleetFile: file, cacheDir }))).toStrictEqual(['alpha', 'registered']);
  });

  it('refuses what a bundle would run otherwise than the sources: an import named by an expression, modules importing each other', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(join(dir, 'plugin.ts'), "export const names: string[] = ['plugged'];\n");
    writeFileSync(file, "export const fleet = (await import(new URL('./plugin.ts', import.meta.url).href)).names;\n");
    settle(dir);
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow(`${file} imports a module named by an expression (import(x)), which a compiled program cannot find as the sources do: run from source`);
    writeFileSync(join(dir, 'a.ts'), "import { suffix } from './b';\nexport const prefix = 'acme';\nexport const name = `${prefix}-${suffix}`;\n");
    writeFileSync(join(dir, 'b.ts'), "import { prefix } from './a';\nexport const suffix = `${prefix}-two`;\n");
    writeFileSync(file, "import { name } from './a';\nexport const fleet = [name];\n");
    settle(dir);
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow(`${join(dir, 'a.ts')} → ${join(dir, 'b.ts')} → ${join(dir, 'a.ts')} import each other in a cycle`);
    expect(readdirSync(cacheDir).filter((name) => !name.endsWith('.json'))).toStrictEqual([]);
  });

  it('never keeps a build that imports a path built at run time, a comment in the way or not', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'plugins', 'alpha.ts'), "export const name = 'alpha';\n");
    writeFileSync(file, "import { readdirSync } from 'node:fs';\nexport const fleet: string[] = [];\nfor (const f of readdirSync(new URL('./plugins/', import.meta.url)).sort()) fleet.push((await import(/* @vite-ignore */ `./plugins/${f}`)).name);\n");
    settle(dir);
    const first = await compiledProgram({ fleetFile: file, cacheDir });
    expect(((await import(first.fleet!)) as { fleet: string[] }).fleet).toStrictEqual(['alpha']);
    writeFileSync(join(dir, 'plugins', 'beta.ts'), "export const name = 'beta';\n");
    settle(dir);
    const second = await compiledProgram({ fleetFile: file, cacheDir });
    expect(second.built).toBe(true);
    expect(((await import(second.fleet!)) as { fleet: string[] }).fleet).toStrictEqual(['alpha', 'beta']);
  });

  it('compiles a CommonJS module as CommonJS (a return at its top level), as from source', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(join(dir, 'helper.cjs'), 'exports.names = ["from-cjs"];\nif (exports.names) return;\n');
    writeFileSync(file, readFileSync(file, 'utf8').replace("import { names } from './names';", "import helper from './helper.cjs';\nconst names: string[] = helper.names;"));
    settle(dir);
    expect(await namesOf(await compiledProgram({ fleetFile: file, cacheDir }))).toStrictEqual(['from-cjs']);
  });

  it('loads CommonJS packages with require and ESM ones with import, and compiles again when such a package changes', async () => {
    // GIVEN a CommonJS and an ESM package, and a fleet inside siteforge's folder that imports them and cdk8s-plus-28
    const cacheDir = programCache();
    const id = randomUUID().slice(0, 8);
    const fakePackage = (name: string, type: 'commonjs' | 'module', version: string) => {
      const dir = join(ROOT, 'node_modules', name);
      mkdirSync(dir, { recursive: true });
      caches.push(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, type, main: 'index.js' }));
      writeFileSync(join(dir, 'index.js'), type === 'module' ? 'export const kind = "esm";\n' : 'exports.kind = "cjs";\n');
      settle(join(dir, 'package.json'), join(dir, 'index.js'), dir, dirname(dir));
    };
    const cjs = `siteforge-test-cjs-${id}`;
    const esm = `siteforge-test-esm-${id}`;
    fakePackage(cjs, 'commonjs', '1.0.0');
    fakePackage(esm, 'module', '1.0.0');
    const project = mkdtempSync(join(ROOT, 'test', '.tmp-fleet-'));
    caches.push(project);
    const fleetFile = join(project, 'fleet.ts');
    writeFileSync(fleetFile, `import { kind as a } from '${cjs}';\nimport { kind as b } from '${esm}';\nimport * as kplus from 'cdk8s-plus-28';\nexport const fleet = [a, b, typeof kplus.Deployment];\n`);
    settle(fleetFile, project, dirname(project));
    // WHEN it is compiled and run
    const program = await compiledProgram({ fleetFile, cacheDir });
    expect(((await import(program.fleet!)) as { fleet: string[] }).fleet).toStrictEqual(['cjs', 'esm', 'function']);
    // THEN the CommonJS packages are required (node's import would scan their sources for names first), the ESM one imported
    const text = readdirSync(program.dir).filter((name) => name.endsWith('.js')).map((name) => readFileSync(join(program.dir, name), 'utf8')).join('\n');
    for (const name of [cjs, 'cdk8s-plus-28']) {
      expect(text).toContain(`__siteforge_require(${JSON.stringify(name)})`);
      expect(text).not.toContain(`from ${JSON.stringify(name)}`);
    }
    expect(text).toContain(`from ${JSON.stringify(esm)}`);
    // WHEN the CommonJS package changes (another version), THEN the program is compiled again
    expect((await compiledProgram({ fleetFile, cacheDir })).built).toBe(false);
    fakePackage(cjs, 'commonjs', '1.0.1');
    const again = await compiledProgram({ fleetFile, cacheDir });
    expect(again.built).toBe(true);
    expect(again.dir).not.toBe(program.dir);
  });

  it('refuses a fleet module it cannot compile: a syntax error, or a package imported from outside siteforge', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['alpha']);
    writeFileSync(file, 'export const fleet = [ {;\n');
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow('Expected identifier but found ";"');
    writeFileSync(file, "import { App } from 'cdk8s';\nexport const fleet = [App];\n");
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow(`${file} imports the package cdk8s, which must resolve from its own folder`);
    const inside = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'siteforge-test-fleet-'));
    caches.push(inside);
    const nested = join(inside, 'fleet.ts');
    writeFileSync(nested, "import { helper } from 'fleet-helper';\nexport const fleet = [helper];\n");
    await expect(compiledProgram({ fleetFile: nested, cacheDir })).rejects.toThrow(`${nested} imports the package fleet-helper, which must resolve from its own folder`);
    // Inside siteforge's folder, but not in a folder its imports look in (whose changes would keep other tests' builds from being kept).
    const project = mkdtempSync(join(ROOT, 'test', '.tmp-fleet-'));
    caches.push(project);
    mkdirSync(join(project, 'node_modules'));
    writeFileSync(join(project, 'fleet.ts'), "import { helper } from 'fleet-helper';\nexport const fleet = [helper];\n");
    await expect(compiledProgram({ fleetFile: join(project, 'fleet.ts'), cacheDir })).rejects.toThrow('imports the package fleet-helper, which must resolve from its own folder');
    writeFileSync(file, "export const fleet = [import.meta.resolve('./names')];\n");
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow(`${file} uses import.meta other than url, dirname or filename`);
    writeFileSync(file, "const __siteforge_import_meta_url = 'mine';\nexport const fleet = [import.meta.url, __siteforge_import_meta_url];\n");
    await expect(compiledProgram({ fleetFile: file, cacheDir })).rejects.toThrow(`${file} uses a name siteforge keeps for compiled modules (__siteforge_import_meta_*, __siteforge_require, __siteforge_createRequire)`);
    expect(readdirSync(cacheDir).filter((name) => !name.endsWith('.json'))).toStrictEqual([]);
    expect(existsSync(join(dir, 'fleet.ts'))).toBe(true);
  });
});

describe('compiledProgram where nothing can be kept', () => {
  it('rejects when its folder cannot be made (the CLI then runs from source)', async () => {
    const blocked = join(programCache(), 'a-file');
    writeFileSync(blocked, '');
    const { file } = fleetFolder(['alpha']);
    await expect(compiledProgram({ fleetFile: file, cacheDir: join(blocked, 'program') })).rejects.toThrow(/ENOTDIR/);
  });
});

describe('synth worker threads', () => {
  it('run the build this process runs from, even when the fleet changed since', async () => {
    const cacheDir = programCache();
    const { dir, file } = fleetFolder(['a1', 'a2', 'a3', 'a4']);
    // This thread runs the build too, as the CLI does: its engine, its constructs, its fleet.
    const program = await compiledProgram({ fleetFile: file, cacheDir, entries: { engine: join(ROOT, 'engine/index.ts') } });
    const { fleet } = (await import(program.fleet!)) as { fleet: SiteDefinition[] };
    const compiled = (await import(program.entries.engine)) as typeof import('../../engine');
    writeFileSync(join(dir, 'names.ts'), "export const names: string[] = ['b1', 'b2', 'b3', 'b4'];\n");
    const outDir = tempDir();
    const report = await compiled.synth({ fleet, fleetModule: file, program, catalog: builtinCatalog(), outDir, workers: 2, renderInThisThread: false });
    expect(report.environments.map((e) => e.repo)).toStrictEqual(['a1/prod', 'a2/prod', 'a3/prod', 'a4/prod']);
    expect(readdirSync(outDir).filter((name) => !name.startsWith('.')).sort()).toStrictEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('run from source when the fleet cannot be compiled', async () => {
    const { dir, file } = fleetFolder(['c1', 'c2', 'c3']);
    // A fleet outside siteforge that imports a package from its own node_modules runs from source only.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(ROOT, 'node_modules', 'constructs'), join(dir, 'node_modules', 'constructs'));
    writeFileSync(file, `import { Construct } from 'constructs';\n${readFileSync(file, 'utf8')}\nexport const base = Construct;\n`);
    await expect(compiledProgram({ fleetFile: file, cacheDir: programCache() })).rejects.toThrow('imports the package constructs');
    const { fleet } = await loadFleet(file);
    const outDir = tempDir();
    const report = await synth({ fleet, fleetModule: file, catalog: builtinCatalog(), outDir, workers: 2, renderInThisThread: false });
    expect(report.environments.map((e) => e.repo)).toStrictEqual(['c1/prod', 'c2/prod', 'c3/prod']);
    expect(readdirSync(join(outDir, 'c2', 'prod'))).toContain('manifests');
  });
});

describe('loadFleet from a compiled program', () => {
  it('refuses a fleet module other than the one compiled, saying how to run', async () => {
    const compiled = fleetFolder(['alpha']);
    const asked = fleetFolder(['beta']);
    await expect(loadFleet(asked.file, { dir: '/nowhere', cli: 'file:///nowhere/cli.js', synthWorker: 'file:///nowhere/synth-worker.js', fleetFile: compiled.file, fleet: 'file:///nowhere/fleet.js', entries: {}, built: false }))
      .rejects.toThrow(`fleet module ${asked.file}: siteforge compiled ${compiled.file} when it started, reading --fleet from the command line before parsing it; give --fleet once, as --fleet <module>, or run with SITEFORGE_FROM_SOURCE=1`);
  });

  it('reports a fleet module that does not compile or import as invalid input, compiled or from source, without a stack', () => {
    const { dir, file } = fleetFolder(['alpha']);
    const broken: [string, string][] = [
      ['export const fleet = [ {;\n', 'Expected identifier but found ";"'],
      ["import { names } from './nowhere';\nexport const fleet = names;\n", `Cannot find module '${join(dir, 'nowhere')}' imported from ${file}`],
      [`import { Nothing } from '${ROOT}/constructs/index.ts';\nexport const fleet = [Nothing];\n`, "does not provide an export named 'Nothing'"],
      // A site file that forgot its export: one with no export at all, which esbuild would
      // compile as a CommonJS module whose names read undefined.
      ["import { site } from './site';\nexport const fleet = [site];\n", "does not provide an export named 'site'"],
    ];
    writeFileSync(join(dir, 'site.ts'), `import { Site } from '${ROOT}/constructs';\nconst site = { name: 'alpha', build: (scope: never) => new Site(scope, 'alpha', { domain: 'alpha.example.com' }) };\nvoid site;\n`);
    for (const [text, message] of broken) {
      writeFileSync(file, text);
      for (const env of [{}, { SITEFORGE_FROM_SOURCE: '1' }]) {
        const result = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8', env: { ...process.env, ...env } });
        expect(result.status, `${text} ${JSON.stringify(env)}`).toBe(1);
        expect(result.stderr).toContain(`error: fleet module ${file} cannot be loaded: `);
        expect(result.stderr).toContain(message);
        expect(result.stderr).not.toMatch(/\n +at /);
      }
    }
  });

  it('runs compiled a fleet module node reads as CommonJS, and from source says how to make it an ES module, without a stack', () => {
    const { dir } = projectFolder('commonjs');
    const file = join(dir, 'fleet.ts');
    writeFileSync(file, `import { Site } from '${ROOT}/constructs';\nexport const fleet = [{ name: 'alpha', build: (scope: never) => new Site(scope, 'alpha', { domain: 'alpha.example.com' }) }];\n`);
    const compiled = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8' });
    expect([compiled.status, compiled.stdout]).toStrictEqual([0, 'alpha (alpha.example.com)\n']);
    const fromSource = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8', env: { ...process.env, SITEFORGE_FROM_SOURCE: '1' } });
    expect([fromSource.status, fromSource.stderr]).toStrictEqual([1, `error: fleet module ${file} cannot be loaded: running from source, node reads fleet.ts as CommonJS (no package.json above it says "type": "module"), but it is written as an ES module; add "type": "module" to the package.json of its project, or name it fleet.mts\n`]);
  });

  it('runs a CommonJS fleet module (exports.fleet, module.exports = { fleet }), and reports one requiring a file that is not there as invalid input', () => {
    // GIVEN a CommonJS fleet module, exporting its fleet one way or the other
    const { dir } = projectFolder('commonjs');
    const file = join(dir, 'fleet.cjs');
    const site = `{ name: 'alpha', build: (scope) => new Site(scope, 'alpha', { domain: 'alpha.example.com' }) }`;
    for (const exported of [`exports.fleet = [${site}];`, `module.exports = { fleet: [${site}] };`]) {
      writeFileSync(file, `const { Site } = require('${ROOT}/constructs/site.ts');\n${exported}\n`);
      // WHEN siteforge runs it, THEN it reads the fleet
      const result = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8' });
      expect([result.status, result.stdout, result.stderr], exported).toStrictEqual([0, 'alpha (alpha.example.com)\n', '']);
    }
    // GIVEN one that requires a file that is not there, WHEN run (from source, as it cannot be compiled)
    writeFileSync(file, `const { names } = require('./nowhere');\nexports.fleet = names;\n`);
    const missing = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8' });
    // THEN it is invalid input, named, without a stack
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(new RegExp(`^error: fleet module ${file} cannot be loaded: Cannot find module '\\./nowhere'`));
    expect(missing.stderr).not.toMatch(/\n +at /);
  });

  it('reports the mistake in a fleet module node reads as CommonJS that does not compile, not how to make it an ES module', () => {
    // GIVEN a project whose package.json does not say "type": "module", and a fleet module
    // in it with a syntax error, an import of a file that is not there, or of a name not exported
    const { dir } = projectFolder('commonjs');
    const file = join(dir, 'fleet.ts');
    writeFileSync(join(dir, 'site.ts'), `import { Site } from '${ROOT}/constructs';\nconst site = { name: 'alpha', build: (scope: never) => new Site(scope, 'alpha', { domain: 'alpha.example.com' }) };\nvoid site;\n`);
    const broken: [string, string][] = [
      ['export const fleet = [ {;\n', `${file}:1:24: Expected identifier but found ";"`],
      ["import { names } from './nowhere';\nexport const fleet = names;\n", `${file}:1:22: Could not resolve "./nowhere"`],
      ["import { site } from './site';\nexport const fleet = [site];\n", `${file}:1:9: Import "site" will always be undefined because the file "${relative(ROOT, join(dir, 'site.ts'))}" has no exports`],
      [`import { Nothing } from '${ROOT}/constructs/index.ts';\nexport const fleet = [Nothing];\n`, `${file}:1:9: No matching export in "constructs/index.ts" for import "Nothing"`],
    ];
    for (const [text, message] of broken) {
      writeFileSync(file, text);
      // WHEN siteforge loads it, compiled (which falls back to source) or from source
      for (const env of [{}, { SITEFORGE_FROM_SOURCE: '1' }]) {
        const result = spawnSync(BIN, ['sites', '--fleet', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
        // THEN it names the mistake where it is, as invalid input, and no stack
        expect([result.status, result.stderr], `${text} ${JSON.stringify(env)}`).toStrictEqual([1, `error: fleet module ${file} cannot be loaded: ${message}\n`]);
      }
    }
  });

  it('from source, passes on node\'s own error when an ES module fleet requires an ES module with top-level await through CommonJS', () => {
    // GIVEN fleet.mts, an ES module whatever the package.json says, which imports a CommonJS
    // module that requires an ES module with top-level await
    const { dir } = projectFolder('module');
    const file = join(dir, 'fleet.mts');
    writeFileSync(file, `import { Site } from '${ROOT}/constructs';\nimport { domain } from './lib.cjs';\nexport const fleet = [{ name: 'alpha', build: (scope: never) => new Site(scope, 'alpha', { domain }) }];\n`);
    writeFileSync(join(dir, 'lib.cjs'), "exports.domain = require('./domain.mjs').domain;\n");
    writeFileSync(join(dir, 'domain.mjs'), "export const domain = await Promise.resolve('alpha.example.com');\n");
    // WHEN loaded from source
    const fromSource = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8', env: { ...process.env, SITEFORGE_FROM_SOURCE: '1' } });
    // THEN the error is node's, naming the module that requires and the one required, not a CommonJS fleet module
    expect(fromSource.status).toBe(1);
    expect(fromSource.stderr).not.toContain('as CommonJS');
    expect(fromSource.stderr).toContain(`error: fleet module ${file} failed as it ran: Error: require() cannot be used on an ESM graph with top-level await`);
    expect(fromSource.stderr).toContain(`Requiring ${join(dir, 'domain.mjs')}`);
    // AND only once, without a stack: node rejects its own loader's promise with it too
    expect(fromSource.stderr.match(/require\(\) cannot be used/g)).toHaveLength(1);
    expect(fromSource.stderr).not.toMatch(/\n +at /);
  });

  it('reports the fleet\'s own code failing as it runs as invalid input, naming where, compiled or from source', () => {
    const { dir, file } = fleetFolder(['alpha']);
    // Modules importing each other: compiled, this runs from source (see above), where node throws.
    writeFileSync(join(dir, 'a.ts'), "import { suffix } from './b';\nexport const prefix = 'acme';\nexport const name = `${prefix}-${suffix}`;\n");
    writeFileSync(join(dir, 'b.ts'), "import { prefix } from './a';\nexport const suffix = `${prefix}-two`;\n");
    writeFileSync(file, "import { name } from './a';\nexport const fleet = [name];\n");
    writeFileSync(join(dir, 'sites.yaml'), '- alpha\n');
    writeFileSync(join(dir, 'yaml-import.ts'), "import names from './sites.yaml';\nexport const fleet = names;\n");
    settle(dir);
    for (const env of [{}, { SITEFORGE_FROM_SOURCE: '1' }]) {
      const cycle = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8', env: { ...process.env, ...env } });
      expect([cycle.status, cycle.stderr.trim()], JSON.stringify(env)).toStrictEqual([1, `error: fleet module ${file} failed as it ran: ReferenceError: Cannot access 'prefix' before initialization (at ${join(dir, 'b.ts')}:2:23)`]);
    }
    // A file node cannot import: compiled, esbuild refuses it too, and it runs from source.
    for (const env of [{}, { SITEFORGE_FROM_SOURCE: '1' }]) {
      const yaml = spawnSync(BIN, ['sites', '--fleet', join(dir, 'yaml-import.ts')], { encoding: 'utf8', env: { ...process.env, ...env } });
      expect([yaml.status, yaml.stderr], JSON.stringify(env)).toStrictEqual([1, expect.stringMatching(/^error: fleet module .*yaml-import\.ts cannot be loaded: Unknown file extension "\.yaml" for .*sites\.yaml\n$/)]);
    }
  });
});

describe('siteforge run compiled', () => {
  it('runs the fleet from the compiled program, and a bug report names the source files as a run from source does', () => {
    const { file } = fleetFolder(['alpha']);
    // siteforge's own code failing (its YAML writer given what is not JSON data): a bug in
    // siteforge (a failure in the fleet's own code is invalid input, see above)
    writeFileSync(file, `import { Site } from '${ROOT}/constructs';\nimport { toYaml } from '${ROOT}/constructs/yaml';\nexport const fleet = [{ name: 'alpha', build(scope) { const site = new Site(scope, 'alpha', { domain: 'alpha.example.com' }); toYaml({ value: Symbol('not data') }); return site; } }];\n`);
    const compiled = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8' });
    const fromSource = spawnSync(BIN, ['sites', '--fleet', file], { encoding: 'utf8', env: { ...process.env, SITEFORGE_FROM_SOURCE: '1' } });
    expect(compiled.status).toBe(3);
    expect(fromSource.status).toBe(3);
    // A compiled class's methods may be named after esbuild's binding (`_Site.addEnvironment`): the places are what must agree.
    const frames = (stderr: string) => stderr.split('\n').filter((line) => line.includes(' at ') && !/node_modules|node:|bin\/siteforge\.js/.test(line)).map((line) => line.replace(/ at _([A-Z]\w*)\./, ' at $1.'));
    expect(frames(compiled.stderr)[0]).toMatch(new RegExp(`at scalarText \\(${join(ROOT, 'constructs', 'yaml-emitter.ts')}:\\d+:\\d+\\)`));
    expect(frames(compiled.stderr).some((line) => new RegExp(`at Object\\.build \\(${file}:3:\\d+\\)`).test(line))).toBe(true);
    expect(frames(compiled.stderr)).toStrictEqual(frames(fromSource.stderr));
    expect(compiled.stderr).toContain(`\nsiteforge ran compiled, from ${PROGRAM_CACHE_DIR}/`);
    expect(fromSource.stderr).toMatch(/\nsiteforge ran from source\n$/);
    expect(frames(compiled.stderr).some((line) => line.includes(join(ROOT, 'engine', 'fleet.ts')))).toBe(true);
  });

  it('maps only frames of compiled files with a source map beside them', () => {
    const stack = 'Error: x\n    at f (file:///nowhere/a.js:1:2)\n    at g (/work/b.ts:3:4)';
    expect(originalStack(stack)).toBe(stack);
  });
});
