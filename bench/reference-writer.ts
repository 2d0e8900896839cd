import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import type { FleetShape } from './fleet';
import { siteName } from './fleet';

/** The YAML documents of one environment repository, by path inside the repository. */
export type EnvironmentDocuments = ReadonlyArray<{ readonly path: string; readonly document: unknown }>;

/**
 * Every YAML file of an environment repository that siteforge wrote, parsed: what the
 * reference writer writes again. Read before the reference is timed.
 */
export function readEnvironmentDocuments(repoDir: string): EnvironmentDocuments {
  const documents: { path: string; document: unknown }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.yaml')) documents.push({ path: relative(repoDir, path), document: parse(readFileSync(path, 'utf8')) });
    }
  };
  walk(repoDir);
  return documents.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The reference the issue measures against: the same YAML files siteforge writes for the
 * fleet, built as plain objects and serialized with the `yaml` library (or `serialize`),
 * single-threaded, one file each. `templates[e]` holds environment `e` of the fleet's first site; every other site's
 * objects are built from it by renaming the site (all site names have the same shape). Returns
 * the number of Kubernetes objects written, counted as the bench counts siteforge's.
 */
export function writeReference(
  outDir: string,
  shape: FleetShape,
  templates: readonly EnvironmentDocuments[],
  serialize: (document: unknown) => string = stringify,
): number {
  const template = siteName(0);
  let objects = 0;
  for (let s = 0; s < shape.sites; s++) {
    const site = siteName(s);
    for (let e = 0; e < shape.envs; e++) {
      const repoDir = join(outDir, site, `env-${e}`);
      const madeDirs = new Set<string>();
      for (const { path, document } of templates[e]) {
        const file = join(repoDir, path.replaceAll(template, site));
        const dir = dirname(file);
        if (!madeDirs.has(dir)) {
          mkdirSync(dir, { recursive: true });
          madeDirs.add(dir);
        }
        writeFileSync(file, serialize(renamed(document, template, site)));
        if (isKubernetesObject(path)) objects++;
      }
    }
  }
  return objects;
}

/** Whether the bench counts the file at `path` as a Kubernetes object. */
export function isKubernetesObject(path: string): boolean {
  return /^(manifests|apps)\/.+\.yaml$/.test(path) && !path.endsWith('/kustomization.yaml');
}

/** A copy of `value` with `from` replaced by `to` in every string (keys included). */
function renamed(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.replaceAll(from, to);
  if (Array.isArray(value)) return value.map((item) => renamed(item, from, to));
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key.replaceAll(from, to)] = renamed(item, from, to);
    return copy;
  }
  return value;
}
