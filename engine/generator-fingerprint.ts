import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Code whose change can change the output: the renderers, the catalog loader, and the libraries they drive. */
const SOURCES = ['constructs', 'catalog/index.ts', 'catalog/templates.ts'];
const LIBRARIES = ['cdk8s', 'cdk8s-plus-28', 'yaml', 'handlebars'];

/**
 * sha256 over siteforge's rendering code and the versions of the libraries it renders with:
 * part of every environment's `inputHash`, so a change to siteforge itself marks every
 * environment as changed.
 */
export function generatorFingerprint(): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = (path: string) => {
    const entries = readdirSync(join(ROOT, path), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts')) files.push(child);
    }
  };
  for (const source of SOURCES) {
    if (source.endsWith('.ts')) files.push(source);
    else walk(source);
  }
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(ROOT, file))).update('\0');
  for (const library of LIBRARIES) {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', library, 'package.json'), 'utf8')) as { version: string };
    hash.update(`${library}@${version}\0`);
  }
  return `sha256:${hash.digest('hex')}`;
}
