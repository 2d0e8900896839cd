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
  const readme = readReadme(readmePath);
  let updated: string;
  try {
    updated = replaceCatalogSection(readme, catalogMarkdown(catalog));
  } catch (e) {
    throw new UserError(`${readmePath}: ${(e as Error).message}`);
  }
  const changed = updated !== readme;
  if (changed && !options.check) {
    try {
      writeFileSync(readmePath, updated);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (!(code in UNREADABLE)) throw e;
      throw new UserError(`${readmePath}: cannot write the README: ${UNREADABLE[code]}; make it writable, or give another with --readme <file>`);
    }
  }
  return { changed };
}

/** Why a README cannot be read or written, in the user's terms, by node's error code. */
const UNREADABLE: Record<string, string> = {
  ENOENT: 'it does not exist',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EACCES: 'permission denied',
};

/**
 * The text of the README at `readmePath` (relative to the working folder, as `--readme` is):
 * one that cannot be read is the user's mistake (say, run from another folder), not a bug.
 */
function readReadme(readmePath: string): string {
  try {
    return readFileSync(readmePath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (!(code in UNREADABLE)) throw e;
    throw new UserError(`${readmePath}: cannot read the README: ${UNREADABLE[code]}; give the README to update with --readme <file>`);
  }
}
