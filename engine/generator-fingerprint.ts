import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Code and data whose change can change the output: the renderers, the catalog loader and its
 * schemas (their defaults fill in service descriptors), the engine (secrets, checks). More than
 * strictly needed is only a re-render; less would skip an environment that changed.
 */
const SOURCES: readonly { readonly dir: string; readonly deep: boolean }[] = [
  { dir: 'constructs', deep: true },
  { dir: 'engine', deep: true },
  { dir: 'catalog', deep: false },
  { dir: 'catalog/schema', deep: false },
];
/** The libraries that render, when no lock file pins every package. */
const LIBRARIES = ['cdk8s', 'cdk8s-plus-28', 'constructs', 'yaml', 'handlebars'];

/**
 * sha256 over siteforge's code, its lock file and the versions of the libraries it renders
 * with: part of every environment's `inputHash`, so a change to siteforge itself marks every
 * environment as changed.
 */
export function generatorFingerprint(): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = (path: string, deep: boolean) => {
    const entries = readdirSync(join(ROOT, path), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory()) {
        if (deep) walk(child, deep);
      } else if (/\.(ts|js|json)$/.test(entry.name)) {
        files.push(child);
      }
    }
  };
  for (const { dir, deep } of SOURCES) walk(dir, deep);
  if (existsSync(join(ROOT, 'package-lock.json'))) files.push('package-lock.json');
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(ROOT, file))).update('\0');
  for (const library of LIBRARIES) {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', library, 'package.json'), 'utf8')) as { version: string };
    hash.update(`${library}@${version}\0`);
  }
  return `sha256:${hash.digest('hex')}`;
}
