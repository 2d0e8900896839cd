import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../constructs/errors';
import type { Catalog } from '../catalog';
import { catalogMarkdown, replaceCatalogSection } from '../catalog/readme';

export interface ReadmeCatalogResult {
  /** Whether the README's catalog section differed from the catalog. */
  readonly changed: boolean;
}

/**
 * Brings the catalog section of `readmePath` in line with `catalog`; with `check`, only
 * reports whether it differs (for CI).
 */
export function updateReadmeCatalog(readmePath: string, catalog: Catalog, options: { check?: boolean } = {}): ReadmeCatalogResult {
  const readme = readFileSync(readmePath, 'utf8');
  let updated: string;
  try {
    updated = replaceCatalogSection(readme, catalogMarkdown(catalog));
  } catch (e) {
    throw new UserError(`${readmePath}: ${(e as Error).message}`);
  }
  const changed = updated !== readme;
  if (changed && !options.check) writeFileSync(readmePath, updated);
  return { changed };
}
