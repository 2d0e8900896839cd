// @ts-check
// Plain JavaScript: engine/compiled-program.js keeps its files with it before TypeScript can be loaded.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` to `file` whole or not at all, since other threads and runs read the same
 * folder (siteforge's caches under `node_modules/.cache/siteforge/`). A folder that cannot be
 * written is no error: what would have been kept is made again next time.
 * @param {string} file
 * @param {string | Uint8Array} text
 */
export function keepFile(file, text) {
  const partial = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.partial`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(partial, text);
    renameSync(partial, file);
  } catch {
    try {
      rmSync(partial, { force: true });
    } catch {
      // No folder, so no partial file either.
    }
  }
}
