import fs, { appendFileSync, chmodSync, cpSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, type PathLike } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { loadCatalog } from '../../catalog';
import { Site, type Environment } from '../../constructs';
import { readState, synth, type EnvironmentResult } from '../../engine';
import { buildSite } from '../../engine/fleet';
import { readsVariables } from '../../engine/secrets/resolve';
import { publish } from '../../engine/publish';
import { synthSite } from '../../engine/site-synth';
import { renderChecked } from '../../engine/checked-render';
import { INDEX_FILE, intactOutput, readOutputIndex, recordSeenOutput } from '../../engine/output-index';
import { OutputTransaction, stageEnvironment, STATE_FILE } from '../../engine/output';
import { LOCK_FILE } from '../../engine/output-lock';
import { fleet, type SiteDefinition } from '../../sites';
import { builtinCatalog, catalogCopy, mtimes, readTree, seenNow, tempDir } from '../helpers';

const catalog = builtinCatalog();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Synthesizes `sites` into `outDir`; returns the repositories rendered and those written to. */
async function synthesize(outDir: string, sites: readonly SiteDefinition[] = fleet, options: { renderAll?: boolean; catalog?: typeof catalog } = {}) {
  const results: EnvironmentResult[] = [];
  await synth({ fleet: sites, catalog: options.catalog ?? catalog, outDir, renderAll: options.renderAll, onEnvironment: (e) => results.push(e) });
  return {
    rendered: results.filter((e) => e.rendered).map((e) => e.repo).sort(),
    written: results.filter((e) => e.written.length > 0).map((e) => e.repo).sort(),
  };
}

/** Repositories of the example fleet whose environments read environment variables (the vault password, Secret.fromEnv). */
const readingVariables = fleet.flatMap((definition) => {
  const site = buildSite(definition, catalog);
  return site.environments.filter(readsVariables).map((env) => `${site.name}/${env.name}`);
}).sort();

const allRepos = (outDir: string) => Object.keys(readTree(outDir)).filter((p) => p.endsWith('/.siteforge/state.json')).map((p) => p.split('/').slice(0, 2).join('/')).sort();

/** `definition` with another instance in its first environment: a change to that site only. */
function withExtraInstance(definition: SiteDefinition): SiteDefinition {
  return {
    name: definition.name,
    build: (scope: Construct, c: typeof catalog) => {
      const site = definition.build(scope, c);
      site.environments[0].addInstance('extra-cache', { service: c.service('redis') });
      return site;
    },
  };
}

/** A site `name` with one environment `prod` on a cluster, which `install` fills. */
function prodSite(name: string, install: (env: Environment, c: typeof catalog) => void): SiteDefinition {
  return {
    name,
    build(scope: Construct, c: typeof catalog) {
      const s = new Site(scope, name, { domain: `${name}.example.com` });
      const env = s.addEnvironment('prod');
      env.addCluster();
      install(env, c);
      return s;
    },
  };
}

/**
 * Runs `run` with the `failAt`-th move or removal of a file in `folder` failing, as if synth
 * were killed there (what runs after the throw only drops the staging folder); the number of
 * such calls when `failAt` is beyond them.
 */
async function failingAt(folder: string, failAt: number, run: () => Promise<unknown>): Promise<number> {
  const original = { renameSync: fs.renameSync, rmSync: fs.rmSync };
  let calls = 0;
  const count = (path: PathLike) => {
    if (String(path).startsWith(`${folder}/`) && ++calls === failAt) throw new Error(`killed at ${String(path)}`);
  };
  fs.renameSync = (from, to) => (count(to), original.renameSync(from, to));
  fs.rmSync = (path, options) => (count(path), original.rmSync(path, options));
  syncBuiltinESMExports();
  try {
    await run();
  } catch (e) {
    if (!/^killed at /.test((e as Error).message)) throw e;
  } finally {
    Object.assign(fs, original);
    syncBuiltinESMExports();
  }
  return calls;
}

describe('incremental synth', () => {
  it('renders nothing when nothing changed, not even the environments that read environment variables, and writes nothing', async () => {
    const outDir = tempDir();
    const first = await synthesize(outDir);
    const repos = allRepos(outDir);
    expect(first.rendered).toStrictEqual(repos);
    // The example fleet has VM credentials (the vault password) in acme/prod, koca/prod and rainbond.
    expect(readingVariables).toStrictEqual(['acme/prod', 'koca/prod', 'rainbond/demo', 'rainbond/prod']);
    const tree = readTree(outDir);
    const times = mtimes(outDir);

    const second = await synthesize(outDir);
    expect(second.rendered).toStrictEqual([]);
    expect(second.written).toStrictEqual([]);
    expect(readTree(outDir)).toStrictEqual(tree);
    expect(mtimes(outDir)).toStrictEqual(times);
  });

  it('renders every environment of a changed site and no other', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const before = readTree(join(outDir, 'choerodon'));
    const changed = fleet.map((d) => (d.name === 'choerodon' ? withExtraInstance(d) : d));
    const { rendered, written } = await synthesize(outDir, changed);
    const choerodon = ['choerodon/dev', 'choerodon/runtime', 'choerodon/single-cluster'];
    expect(rendered).toStrictEqual(choerodon);
    // Every environment of the site records the site's new inputHash; only dev got the instance.
    expect(written).toStrictEqual(choerodon);
    const after = readTree(join(outDir, 'choerodon'));
    const changedFiles = Object.keys(after).filter((path) => after[path] !== before[path]);
    expect(changedFiles.filter((path) => !path.startsWith('dev/'))).toStrictEqual(['runtime/.siteforge/state.json', 'single-cluster/.siteforge/state.json']);
    expect(changedFiles).toContain('dev/values/extra-cache.yaml');
  });

  it('renders an environment whose files were edited or deleted since, and puts them back', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const tree = readTree(outDir);
    appendFileSync(join(outDir, 'demo/all-in-one/README.md'), 'edited by hand\n');
    rmSync(join(outDir, 'blueking/stag/CODEOWNERS'));
    const { rendered, written } = await synthesize(outDir);
    expect(rendered).toContain('demo/all-in-one');
    expect(rendered).toContain('blueking/stag');
    expect(rendered).not.toContain('blueking/prod');
    expect(written).toStrictEqual(['blueking/stag', 'demo/all-in-one']);
    expect(readTree(outDir)).toStrictEqual(tree);
  });

  it('puts back a state file reformatted or with an entry dropped, and a file edited into bytes that are not UTF-8', async () => {
    const outDir = tempDir();
    // An owner whose name holds U+FFFD, which invalid UTF-8 also reads as.
    const replacement: SiteDefinition = {
      name: 'replacement',
      build(scope: Construct) {
        const site = new Site(scope, 'replacement', { domain: 'replacement.example.com', owners: ['team\uFFFD'] });
        site.addEnvironment('prod');
        return site;
      },
    };
    await synthesize(outDir, [...fleet, replacement]);
    const tree = readTree(outDir);
    const stateFile = join(outDir, 'demo/all-in-one', STATE_FILE);
    writeFileSync(stateFile, `${JSON.stringify(JSON.parse(readFileSync(stateFile, 'utf8')), null, 4)}\n`);
    const dropped = join(outDir, 'blueking/stag', STATE_FILE);
    const state = JSON.parse(readFileSync(dropped, 'utf8')) as { files: Record<string, string> };
    delete state.files.CODEOWNERS;
    writeFileSync(dropped, `${JSON.stringify(state, null, 2)}\n`);
    rmSync(join(outDir, 'blueking/stag/CODEOWNERS'));
    const codeowners = join(outDir, 'replacement/prod/CODEOWNERS');
    const bytes = readFileSync(codeowners);
    const fffd = bytes.indexOf(Buffer.from('\uFFFD'));
    writeFileSync(codeowners, Buffer.concat([bytes.subarray(0, fffd), Buffer.from([0xff]), bytes.subarray(fffd + 3)]));
    const { written } = await synthesize(outDir, [...fleet, replacement]);
    expect(written).toStrictEqual(['blueking/stag', 'demo/all-in-one', 'replacement/prod']);
    expect(readTree(outDir)).toStrictEqual(tree);
    expect(readFileSync(codeowners).equals(bytes)).toBe(true);
  });

  it('refuses, writing nothing, a folder where it writes a file and a file where it needs a folder', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    rmSync(join(outDir, 'blueking/prod/CODEOWNERS'));
    fs.mkdirSync(join(outDir, 'blueking/prod/CODEOWNERS'));
    const tree = readTree(outDir);
    await expect(synthesize(outDir)).rejects.toThrow(`${join(outDir, 'blueking/prod/CODEOWNERS')} is a folder where siteforge writes a file; move it out of the output folder and synth again`);
    expect(readTree(outDir)).toStrictEqual(tree);
    rmSync(join(outDir, 'blueking/prod/CODEOWNERS'), { recursive: true });

    rmSync(join(outDir, 'blueking/prod/values'), { recursive: true });
    writeFileSync(join(outDir, 'blueking/prod/values'), 'in the way\n');
    const withFile = readTree(outDir);
    await expect(synthesize(outDir)).rejects.toThrow(`${join(outDir, 'blueking/prod/values')} is not a folder, but siteforge writes ${join(outDir, 'blueking/prod/values')}/`);
    expect(readTree(outDir)).toStrictEqual(withFile);
    rmSync(join(outDir, 'blueking/prod/values'));
    await synthesize(outDir);
    expect(fs.existsSync(join(outDir, 'blueking/prod/CODEOWNERS'))).toBe(true);
  });

  it('turns a file it wrote into a folder of the same name, and back, even when stopped half way', async () => {
    const outDir = tempDir();
    const asFile = [{ path: 'config', content: 'a file\n' }, { path: 'README.md', content: '# shift\n' }];
    const asFolder = [{ path: 'config/app.yaml', content: 'a: 1\n' }, { path: 'config/db.yaml', content: 'b: 2\n' }, { path: 'README.md', content: '# shift\n' }];
    const write = (files: typeof asFile) => {
      const transaction = new OutputTransaction(outDir);
      try {
        transaction.add(stageEnvironment(outDir, transaction.stagingDir, 'shift/prod', files, 'inputs'));
        transaction.commit();
      } finally {
        transaction.abort();
      }
    };
    const tree = (files: typeof asFile) => Object.fromEntries(files.map((f) => [`shift/prod/${f.path}`, f.content]));
    const withoutState = () => Object.fromEntries(Object.entries(readTree(outDir)).filter(([path]) => !path.endsWith(STATE_FILE)));
    write(asFile);
    for (const [from, to] of [[asFile, asFolder], [asFolder, asFile]]) {
      for (let failAt = 1; ; failAt++) {
        write(from);
        const calls = await failingAt(join(outDir, 'shift'), failAt, async () => write(to));
        write(to);
        expect(withoutState(), `${from[0].path} to ${to[0].path}, stopped at ${failAt}`).toStrictEqual(tree(to));
        if (calls < failAt) break;
      }
    }
  });

  it('writes through a folder of a repository that is a link to a folder elsewhere', async () => {
    const outDir = tempDir();
    // A site whose only instance is named like a file of the repository's root.
    const named = (instance: string) => prodSite('shift', (env, c) => env.addInstance(instance, { service: c.service('redis') }));
    await synthesize(outDir, [named('readme')]);
    const fresh = async (sites: SiteDefinition[]) => {
      const dir = tempDir();
      await synthesize(dir, sites);
      return readTree(dir);
    };
    // values/readme.yaml and manifests/readme/ are the instance's; move manifests/ behind a link.
    const repo = join(outDir, 'shift/prod');
    const elsewhere = join(tempDir(), 'manifests');
    fs.renameSync(join(repo, 'manifests'), elsewhere);
    fs.symlinkSync(elsewhere, join(repo, 'manifests'));
    await synthesize(outDir, [named('cache')]);
    expect(fs.lstatSync(join(repo, 'manifests')).isSymbolicLink()).toBe(true);
    expect(readTree(outDir)).toStrictEqual(await fresh([named('cache')]));
  });

  it('sees a file edited after synth, whatever happened to the state file since', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const readme = join(outDir, 'demo/all-in-one/README.md');
    const original = readFileSync(readme, 'utf8');
    writeFileSync(readme, `${original}edited by a script\n`);
    // Changes the state file's change time (not its content): the edit is now older than it.
    chmodSync(join(outDir, 'demo/all-in-one/.siteforge/state.json'), 0o640);
    const { rendered, written } = await synthesize(outDir);
    expect(rendered).toContain('demo/all-in-one');
    expect(written).toStrictEqual(['demo/all-in-one']);
    expect(readFileSync(readme, 'utf8')).toBe(original);
  });

  it('sees a file edited with its modification time set back', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const owners = join(outDir, 'blueking/prod/CODEOWNERS');
    const { atime, mtime } = statSync(owners);
    const original = readFileSync(owners, 'utf8');
    writeFileSync(owners, `${original}* @someone-else\n`);
    utimesSync(owners, atime, mtime);
    await synthesize(outDir);
    expect(readFileSync(owners, 'utf8')).toBe(original);
  });

  it('reads a copied output once without rendering it, and then trusts it', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const copy = join(tempDir(), 'dist');
    cpSync(outDir, copy, { recursive: true });
    expect((await synthesize(copy)).rendered).toStrictEqual([]);
    // Every copied file has another inode and change time: the index was recorded anew.
    const recorded = Object.entries(readOutputIndex(copy));
    expect(recorded.map(([repo]) => repo)).toStrictEqual(allRepos(copy));
    expect(recorded.filter(([repo, digest]) => readOutputIndex(outDir)[repo] === digest)).toStrictEqual([]);
    expect((await synthesize(copy)).rendered).toStrictEqual([]);
    expect(readTree(copy)).toStrictEqual(readTree(outDir));
  });

  it('vouches in the output index for the files as they stand, whether it moved their repository into place whole or file by file', async () => {
    const outDir = tempDir();
    const recordedNow = (repos: readonly string[]) => {
      const recorded = readOutputIndex(outDir);
      recordSeenOutput(outDir, {}, repos.map((repo) => seenNow(outDir, repo)), []);
      return [recorded, readOutputIndex(outDir)];
    };
    await synthesize(outDir);
    const recorded = allRepos(outDir);
    expect(Object.keys(readOutputIndex(outDir))).toStrictEqual(recorded);
    // Fresh repositories: each file's stat was taken as it was staged.
    const [afterFirst, statNow] = recordedNow(recorded);
    expect(afterFirst).toStrictEqual(statNow);
    // A changed site's new and changed files are moved into place one by one, and stat'ed there.
    const { written } = await synthesize(outDir, fleet.map((d) => (d.name === 'choerodon' ? withExtraInstance(d) : d)));
    expect(written).toContain('choerodon/dev');
    const [afterChange, statThen] = recordedNow(recorded);
    expect(afterChange).toStrictEqual(statThen);
    expect(afterChange['choerodon/dev']).not.toBe(afterFirst['choerodon/dev']);
  });

  it('trusts files the output index vouches for, without reading them', async () => {
    const demo = fleet.find((d) => d.name === 'demo')!;
    const outDir = tempDir();
    await synthesize(outDir, [demo]);
    const readme = join(outDir, 'demo/all-in-one/README.md');
    writeFileSync(readme, 'edited by hand\n');
    // Recorded as if synth had just written the edit: the next synth does not look inside.
    recordSeenOutput(outDir, readOutputIndex(outDir), [seenNow(outDir, 'demo/all-in-one')], []);
    expect((await synthesize(outDir, [demo])).rendered).toStrictEqual([]);
    expect(readFileSync(readme, 'utf8')).toBe('edited by hand\n');
  });

  it('sees an edit made right after the index was recorded, in place and of the same size', async () => {
    const demo = fleet.find((d) => d.name === 'demo')!;
    const outDir = tempDir();
    await synthesize(outDir, [demo]);
    const repo = 'demo/all-in-one';
    const readme = join(outDir, repo, 'README.md');
    const original = readFileSync(readme, 'utf8');
    const inputHash = readState(join(outDir, repo))!.inputHash!;
    for (let i = 0; i < 20; i++) {
      writeFileSync(readme, original);
      recordSeenOutput(outDir, {}, [seenNow(outDir, repo)], []);
      const index = readOutputIndex(outDir);
      writeFileSync(readme, original.replace(/.$/s, 'X'));
      // The edit has a later change time than the index recorded, so the file is read.
      expect(index[repo]).toBeDefined();
      expect(intactOutput(outDir, repo, inputHash, index[repo])).toBeUndefined();
    }
  });

  it('does not vouch for a file edited while synth ran, even where it read or wrote that file', async () => {
    const demo = fleet.find((d) => d.name === 'demo')!;
    for (const renderAll of [false, true]) {
      const outDir = tempDir();
      await synthesize(outDir, [demo]);
      const readme = join(outDir, 'demo/all-in-one/README.md');
      const original = readFileSync(readme, 'utf8');
      // No index (a first synth after an upgrade, a copied output): synth reads every file.
      rmSync(join(outDir, INDEX_FILE));
      await synth({ fleet: [demo], catalog, outDir, renderAll, onEnvironment: () => writeFileSync(readme, 'edited during synth\n') });
      // The index holds the stats synth took before the edit: they no longer match.
      const repo = 'demo/all-in-one';
      expect(intactOutput(outDir, repo, readState(join(outDir, repo))!.inputHash!, readOutputIndex(outDir)[repo])).toBeUndefined();
      expect((await synthesize(outDir, [demo])).written).toStrictEqual(['demo/all-in-one']);
      expect(readFileSync(readme, 'utf8')).toBe(original);
    }
  });

  it('loads cdk8s and the yaml library only when an environment needs rendering', () => {
    // A process of its own: this one has loaded everything already.
    const script = join(tempDir(), 'synth-demo.mts');
    writeFileSync(script, [
      "import { createRequire } from 'node:module';",
      `const { synth } = await import(${JSON.stringify(join(ROOT, 'engine/synth.ts'))});`,
      `const { loadCatalog } = await import(${JSON.stringify(join(ROOT, 'catalog/index.ts'))});`,
      `const { fleet } = await import(${JSON.stringify(join(ROOT, 'sites/index.ts'))});`,
      'await synth({ fleet: fleet.filter((d) => d.name === "demo"), catalog: loadCatalog(), outDir: process.argv[2] });',
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      "console.log(JSON.stringify(['cdk8s-plus-28/', 'yaml/dist/'].map((p) => loaded.some((file) => file.includes(`/node_modules/${p}`)))));",
    ].join('\n'));
    const outDir = tempDir();
    const run = () => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, outDir], { cwd: ROOT, encoding: 'utf8' })) as boolean[];
    // Rendering reads the config files its templates make back with the yaml library.
    expect(run()).toStrictEqual([true, true]);
    expect(run()).toStrictEqual([false, false]);
  });

  it('forgets the environments that left the fleet', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    expect(readOutputIndex(outDir)).toHaveProperty(['koca/test']);
    await synthesize(outDir, fleet.filter((d) => d.name !== 'koca'));
    expect(Object.keys(readOutputIndex(outDir)).filter((repo) => repo.startsWith('koca/'))).toStrictEqual([]);
  });

  it('renders every time a site that installs a copy of a catalog service, and the catalog cannot be changed in place', async () => {
    const outDir = tempDir();
    const pinned = prodSite('pinned', (env, c) => {
      const redis = c.service('redis');
      env.addInstance('redis', { service: { ...redis, images: redis.images.map((i) => ({ ...i, tag: '9.9.9' })) } });
    });
    await synthesize(outDir, [pinned]);
    expect(readState(join(outDir, 'pinned/prod'))!.inputHash).toBeUndefined();
    expect((await synthesize(outDir, [pinned])).rendered).toStrictEqual(['pinned/prod']);
    expect(readFileSync(join(outDir, 'pinned/prod/artifacts.lock.json'), 'utf8')).toContain('9.9.9');
    expect(() => {
      (catalog.service('redis').images[0] as { tag: string }).tag = '9.9.9';
    }).toThrow(TypeError);
  });

  it('renders and checks everything in a dry run, as validate does', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const results: EnvironmentResult[] = [];
    await synth({ fleet, catalog, outDir, dryRun: true, onEnvironment: (e) => results.push(e) });
    expect(results.every((e) => e.rendered)).toBe(true);
    expect(results).toHaveLength(allRepos(outDir).length);
  });

  it('renders everything with renderAll, and still writes nothing that did not change', async () => {
    const outDir = tempDir();
    await synthesize(outDir);
    const { rendered, written } = await synthesize(outDir, fleet, { renderAll: true });
    expect(rendered).toStrictEqual(allRepos(outDir));
    expect(written).toStrictEqual([]);
  });

  it('renders the sites that use a catalog service whose folder changed, and no other', async () => {
    const dir = catalogCopy();
    const outDir = tempDir();
    const site = (name: string, service: string) => prodSite(name, (env, c) => env.addInstance(service, { service: c.service(service) }));
    const sites = [site('uses-kong', 'kong'), site('uses-minio', 'minio')];
    await synthesize(outDir, sites, { catalog: loadCatalog(dir) });
    writeFileSync(join(dir, 'kong', 'NOTES.txt'), 'a file the service folder did not have\n');
    const { rendered } = await synthesize(outDir, sites, { catalog: loadCatalog(dir) });
    expect(rendered).toStrictEqual(['uses-kong/prod']);
  });

  it('renders every time a site whose tree holds a value it cannot write down, and records no inputHash for it', async () => {
    const outDir = tempDir();
    const withCallback = prodSite('callback', (env, c) => {
      env.addInstance('redis', { service: c.service('redis') });
      Object.assign(env, { onRender: () => 'a function the walk cannot read' });
    });
    await synthesize(outDir, [withCallback]);
    expect(readState(join(outDir, 'callback/prod'))!.inputHash).toBeUndefined();
    const again = await synthesize(outDir, [withCallback]);
    expect(again.rendered).toStrictEqual(['callback/prod']);
    expect(again.written).toStrictEqual([]);
  });

  it('renders every environment again when siteforge itself changed', async () => {
    const outDir = tempDir();
    const demo = fleet.find((d) => d.name === 'demo')!;
    await synthesize(outDir, [demo]);
    const context = (fingerprint: string) => ({ selection: {}, generator: fingerprint, outDir, remotesDir: join(outDir, '.remotes'), stagingDir: tempDir() });
    const { generatorFingerprint } = await import('../../engine/generator-fingerprint');
    expect(synthSite(demo, catalog, context(generatorFingerprint()), renderChecked).results.map((r) => r.rendered)).toStrictEqual([false]);
    expect(synthSite(demo, catalog, context('sha256:another-siteforge'), renderChecked).results.map((r) => r.rendered)).toStrictEqual([true]);
  });

  it('leaves, killed at any point as it moves files into place, output the next synth puts right', async () => {
    // An environment that gains files (values/kong.yaml, manifests/kong/…) and loses others, and a site that leaves.
    const before = [prodSite('acme', (env, c) => env.addInstance('cache', { service: c.service('redis') })), prodSite('gone', () => {})];
    const after = [prodSite('acme', (env, c) => env.addInstance('gateway', { service: c.service('kong') }))];
    const fresh = async (sites: SiteDefinition[]) => {
      const outDir = tempDir();
      await synthesize(outDir, sites);
      return readTree(outDir);
    };
    const [freshBefore, freshAfter] = [await fresh(before), await fresh(after)];
    let failAt = 1;
    for (; ; failAt++) {
      const outDir = tempDir();
      await synthesize(outDir, before);
      const calls = await failingAt(join(outDir, 'acme'), failAt, () => synthesize(outDir, after));
      if (calls < failAt) {
        expect(readTree(outDir)).toStrictEqual(freshAfter);
        break;
      }
      // Whichever fleet comes next, nothing of the interrupted one is left behind.
      await synthesize(outDir, before);
      expect(readTree(outDir), `killed at move or removal ${failAt}, synthesized as before`).toStrictEqual(freshBefore);
      await synthesize(outDir, after);
      expect(readTree(outDir), `killed at move or removal ${failAt}, synthesized as after`).toStrictEqual(freshAfter);
    }
    expect(failAt).toBeGreaterThan(10);

    // Publishing what the stopped synth left is refused until synth runs again.
    const outDir = tempDir();
    await synthesize(outDir, before);
    await failingAt(join(outDir, 'acme'), 2, () => synthesize(outDir, after));
    expect(readState(join(outDir, 'acme/prod'))?.interrupted).toBe(true);
    await expect(publish({ fleet: after, catalog, outDir, synthesize: false, direct: true }))
      .rejects.toThrow(`acme/prod: ${join(outDir, 'acme/prod')} was left half written by a synth that was stopped; run siteforge synth again, or publish without --no-synth`);

    // A site leaving the fleet: its state file goes last, so a killed removal is finished next time.
    for (failAt = 1; ; failAt++) {
      const outDir = tempDir();
      await synthesize(outDir, before);
      const calls = await failingAt(join(outDir, 'gone'), failAt, () => synthesize(outDir, after));
      await synthesize(outDir, after);
      expect(readTree(outDir), `killed at removal ${failAt}`).toStrictEqual(freshAfter);
      if (calls < failAt) break;
    }
    expect(failAt).toBeGreaterThan(5);
  });

  it('lets one synth at a time write to an output folder, and takes over from one that was killed', async () => {
    const outDir = tempDir();
    const running = new OutputTransaction(outDir);
    await expect(synthesize(outDir)).rejects.toThrow(`another siteforge (process ${process.pid}) is writing to ${outDir}; run again when it is done (if no siteforge runs, delete ${join(outDir, LOCK_FILE)})`);
    running.abort();
    expect(allRepos(outDir)).toStrictEqual([]);

    // One held on another host (a shared file system) is not this host's to judge, for an hour.
    writeFileSync(join(outDir, LOCK_FILE), `${process.pid}@build-host-2\n`);
    await expect(synthesize(outDir)).rejects.toThrow(`another siteforge (process ${process.pid} on build-host-2) is writing to ${outDir}`);
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(join(outDir, LOCK_FILE), twoHoursAgo, twoHoursAgo);
    await synthesize(outDir, [prodSite('early', () => {})]);
    expect(fs.existsSync(join(outDir, LOCK_FILE))).toBe(false);

    // A synth whose lock was taken over writes nothing, and leaves the other's lock alone.
    const overtaken = new OutputTransaction(outDir);
    writeFileSync(join(outDir, LOCK_FILE), '1@elsewhere\n');
    expect(() => overtaken.commit()).toThrow(`another siteforge took over ${join(outDir, LOCK_FILE)} while this one ran; nothing of this synth was written to ${outDir}; run again`);
    overtaken.abort();
    expect(readFileSync(join(outDir, LOCK_FILE), 'utf8')).toBe('1@elsewhere\n');
    rmSync(join(outDir, LOCK_FILE));

    // A lock left by a process of this host that is gone, with its staging folder.
    const gone = execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }).trim();
    writeFileSync(join(outDir, LOCK_FILE), `${gone}@${hostname()}\n`);
    fs.mkdirSync(join(outDir, `.siteforge-staging-${gone}`));
    await synthesize(outDir);
    expect(allRepos(outDir).length).toBeGreaterThan(0);
    expect(fs.readdirSync(outDir).filter((name) => name.startsWith('.siteforge-'))).toStrictEqual([INDEX_FILE]);
  });
});
