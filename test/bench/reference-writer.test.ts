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
