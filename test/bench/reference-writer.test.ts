import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { synth } from '../../engine/synth';
import { siteName, syntheticFleet } from '../../bench/fleet';
import { isKubernetesObject, readEnvironmentDocuments, writeReference } from '../../bench/reference-writer';
import { builtinCatalog, tempDir } from '../helpers';

/** Every YAML file under `dir`, parsed, by path. */
function yamlTree(dir: string): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  // A config checksum is a digest of the site's own config: the reference, renaming the first
  // site's documents, writes one of the same length, which is what its speed depends on.
  const digests = (text: string) => text.replace(/^(\s+checksum\/config: )[0-9a-f]{64}$/gm, '$1<sha256>');
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.yaml')) tree[relative(dir, path)] = parse(digests(readFileSync(path, 'utf8')));
    }
  };
  walk(dir);
  return tree;
}

describe('the bench reference writer', () => {
  it('writes the same YAML documents siteforge writes, for every site, built from the first', async () => {
    // GIVEN a synthetic fleet synthesized by siteforge
    const shape = { sites: 3, envs: 2, services: 4 };
    const out = tempDir();
    let objects = 0;
    await synth({ fleet: syntheticFleet(shape), catalog: builtinCatalog(), outDir: out, onEnvironment: (e) => (objects += e.written.filter(isKubernetesObject).length) });
    // WHEN the reference writes the fleet from the first site's environments
    const reference = tempDir();
    const templates = [0, 1].map((e) => readEnvironmentDocuments(join(out, siteName(0), `env-${e}`)));
    const written = writeReference(reference, shape, templates);
    // THEN it counts the same objects and its files read back as siteforge's, site by site
    expect(written).toBe(objects);
    for (let s = 0; s < shape.sites; s++) {
      for (let e = 0; e < shape.envs; e++) {
        const repo = join(siteName(s), `env-${e}`);
        expect(yamlTree(join(reference, repo))).toStrictEqual(yamlTree(join(out, repo)));
      }
    }
  });
});

describe('npm run bench', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const bench = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['bench/main.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

  it.each([
    ['compiled', {}, /^bench: running compiled, from .*\/node_modules\/\.cache\/siteforge\/program\/[0-9a-f]{32}$/],
    ['from source', { SITEFORGE_FROM_SOURCE: '1' }, /^bench: running from source, through tsx$/],
  ])('runs %s, on two threads, and prints its figures in the fixed form; it leaves nothing behind', (how, env, first) => {
    const dir = tempDir();
    const { status, stdout, stderr } = bench(['--sites', '2', '--envs', '2', '--services', '3', '--workers', '2', '--dir', dir], env);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(first);
    // The worker thread runs the bench's own build (or its sources), not one compiled apart.
    const ranFrom = how === 'compiled' ? `${lines[0].replace(/^.* from /, '')}/synth-worker.js` : join(ROOT, 'engine', 'synth-worker-from-source.js');
    expect(lines[1]).toMatch(/^synth: 2 sites x 2 envs x 3 services into .*, \d+\.\d\d s, worker threads running /);
    expect(lines[1].replace(/^.*, worker threads running /, '')).toBe(ranFrom);
    // The phases in order, each at a time no earlier than the one before; the worker thread's
    // only when it was ready before this thread had rendered both sites.
    expect(lines[2]).toMatch(/^synth phases: scanned \d+\.\d\d s(, worker ready \d+\.\d\d s)?, rendered \d+\.\d\d s, written \d+\.\d\d s$/);
    const times = [...lines[2].matchAll(/(\d+\.\d\d) s/g)].map((m) => Number(m[1]));
    expect(times).toStrictEqual([...times].sort((a, b) => a - b));
    // 2 sites x 2 environments of 20 objects: per service a Deployment, Service, Ingress, ConfigMap
    // and Argo CD Application; and the Namespace, its Application, the two AppProjects and the
    // root Application. The reference writes as many.
    expect(lines.at(-1)).toMatch(/^bench: objects=80 envs=4 seconds=\d+\.\d objects_per_s=\d+ peak_rss_mib=\d+ workers=2$/);
    expect(stdout).toContain('reference: objects=80 ');
    expect(stdout).toMatch(/^ratio=\d+\.\d\d /m);
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('with --publish, publishes every repository, then none, then the changed tenth', () => {
    const dir = tempDir();
    const { status, stdout, stderr } = bench(['--sites', '2', '--envs', '1', '--services', '1', '--publish', '--dir', dir]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // Every tenth site changes, counting from the first.
    expect(stdout).toMatch(/^publish first: repositories=2 published=2 unchanged=0 failed=0 seconds=\S+ \(synth included: \S+\)$/m);
    expect(stdout).toMatch(/^synth unchanged: environments_rendered=0 files_written=0 seconds=\S+$/m);
    expect(stdout).toMatch(/^publish unchanged: repositories=2 published=0 unchanged=2 failed=0 /m);
    expect(stdout).toMatch(/^publish 10% changed: repositories=2 published=1 unchanged=1 failed=0 /m);
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('refuses a shape that is not a positive integer, saying which', () => {
    const dir = tempDir();
    const result = bench(['--sites', 'many', '--dir', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('bench: --sites must be a positive integer, got "many"\n');
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it.each([
    ['compiled', {}],
    ['from source', { SITEFORGE_FROM_SOURCE: '1' }],
  ])('run %s, stops quietly, leaving nothing behind, when its reader closes the pipe (| head)', async (_how, env) => {
    const dir = tempDir();
    // With --publish, the pipe is found closed while the bench awaits git: its folders are then
    // removed as the process exits.
    const args = ['bench/main.js', '--sites', '2', '--envs', '1', '--services', '1', '--workers', '1', '--publish', '--dir', dir];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The first line read, the pipe is closed before the synth line is written.
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('fails with exit code 1 and a stack that names the sources, compiled too', () => {
    const result = bench(['--sites', '1', '--dir', join(tempDir(), 'missing')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^bench: Error: ENOENT: no such file or directory, mkdtemp /);
    expect(result.stderr).toContain(`at run (${join(ROOT, 'bench', 'bench.ts')}:`);
  });
});
