import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleet } from '../sites';
import { synth } from '../engine';
import { builtinCatalog, readTree, tempDir } from './helpers';

/**
 * Golden files: the whole output of every example environment, as a reviewer reads it, under
 * test/golden/<site>/<env>/. They change only on purpose: `npm run test:update-golden`
 * (UPDATE_GOLDEN=1) rewrites them, and the diff is reviewed like any other change.
 */
const GOLDEN_DIR = join(import.meta.dirname, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

/**
 * The input hash covers siteforge's own code, so any refactor would change it; golden files
 * hold a placeholder instead (engine tests check the hash itself).
 */
function withoutInputHash(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([path, content]) => [
    path,
    path.endsWith('.siteforge/state.json') ? content.replace(/"inputHash": "sha256:[0-9a-f]{64}"/, '"inputHash": "(see engine tests)"') : content,
  ]));
}

describe('golden output of the example fleet', async () => {
  const outDir = tempDir();
  // The golden files are the previous output: generated secrets are kept from them, as a
  // synth keeps them from the previous dist/, so sealed values do not change between runs.
  if (existsSync(GOLDEN_DIR)) cpSync(GOLDEN_DIR, outDir, { recursive: true });
  await synth({ fleet, catalog: builtinCatalog(), outDir });
  const output = readTree(outDir);

  const environments = fleet.flatMap((definition) => {
    const envs = new Set(Object.keys(output).filter((p) => p.startsWith(`${definition.name}/`)).map((p) => p.split('/')[1]));
    return [...envs].map((env) => `${definition.name}/${env}`);
  });

  it('covers every environment of every example site', () => {
    expect(environments.length).toBeGreaterThanOrEqual(11);
    expect(environments).toEqual(expect.arrayContaining([
      'demo/all-in-one', 'acme/dev', 'acme/test', 'acme/prod',
      'choerodon/dev', 'choerodon/runtime', 'choerodon/single-cluster', 'koca/test', 'koca/prod', 'blueking/stag', 'blueking/prod',
    ]));
  });

  for (const repo of environments) {
    it(`${repo} matches test/golden/${repo}`, () => {
      const actual = withoutInputHash(Object.fromEntries(Object.entries(output)
        .filter(([p]) => p.startsWith(`${repo}/`))
        .map(([p, c]) => [p.slice(repo.length + 1), c])));
      const goldenRepo = join(GOLDEN_DIR, repo);
      if (update) {
        rmSync(goldenRepo, { recursive: true, force: true });
        for (const [path, content] of Object.entries(actual)) {
          mkdirSync(dirname(join(goldenRepo, path)), { recursive: true });
          writeFileSync(join(goldenRepo, path), content);
        }
      }
      if (!existsSync(goldenRepo)) throw new Error(`no golden files for ${repo}; run npm run test:update-golden and review them`);
      expect(actual).toStrictEqual(readTree(goldenRepo));
    });
  }
});
