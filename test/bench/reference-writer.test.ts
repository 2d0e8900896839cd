import { spawnSync } from 'node:child_process';
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
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.yaml')) tree[relative(dir, path)] = parse(readFileSync(path, 'utf8'));
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
  const run = (env: NodeJS.ProcessEnv) => {
    const dir = tempDir();
    const result = spawnSync(process.execPath, ['bench/main.js', '--sites', '2', '--envs', '2', '--services', '3', '--workers', '2', '--dir', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return { ...result, left: readdirSync(dir) };
  };

  it.each([['compiled', {}], ['from source', { SITEFORGE_FROM_SOURCE: '1' }]])('runs %s, on two threads, and prints its figures in the fixed form; it leaves nothing behind', (_how, env) => {
    const { status, stdout, stderr, left } = run(env);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // 2 sites x 2 environments of 19 objects: per service a Deployment, Service, Ingress, ConfigMap
    // and Argo CD Application; and the Namespace, its Application, the AppProject and the root
    // Application. The reference writes as many.
    const last = stdout.trim().split('\n').at(-1);
    expect(last).toMatch(/^bench: objects=76 envs=4 seconds=\d+\.\d objects_per_s=\d+ peak_rss_mib=\d+ workers=2$/);
    expect(stdout).toContain('reference: objects=76 ');
    expect(stdout).toMatch(/^ratio=\d+\.\d\d /m);
    expect(left).toStrictEqual([]);
  });

  it('refuses a shape that is not a positive integer, saying which', () => {
    const dir = tempDir();
    const result = spawnSync(process.execPath, ['bench/main.js', '--sites', 'many', '--dir', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('bench: --sites must be a positive integer, got "many"\n');
    expect(readdirSync(dir)).toStrictEqual([]);
  });
});
