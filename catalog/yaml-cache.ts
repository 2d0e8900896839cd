import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parseYamlSource, YAML_RULES, type YamlSource } from '../constructs/yaml';
import { keepFile } from './kept-file';

/** What a parse depends on besides the text: a subfolder of the cache each. */
const PARSER = createHash('sha256')
  .update(JSON.stringify([(createRequire(import.meta.url)('yaml/package.json') as { version: string }).version, YAML_RULES]))
  .digest('hex').slice(0, 20);

/** Where siteforge keeps parsed catalog files by default: beside its packages, like the compiled validators. */
export const YAML_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/siteforge/yaml', import.meta.url));

/**
 * Parses the YAML file `file` as parseYamlSource does, once per installation and content: the
 * value is kept as JSON under `cacheDir` (a subfolder per yaml version and YAML_RULES, one
 * file per hash of the text) and read back by later runs, since a thread's first parse of the
 * catalog costs about 120 ms and reading JSON under 1 ms. A file that does not parse is never
 * kept, so its errors are reported every time; line numbers, which only errors need, come from
 * parsing the text when first asked for. A folder that cannot be written only costs the parse.
 * @param cacheDir @default YAML_CACHE_DIR
 */
export function readYamlFile(file: string, shown: string, cacheDir: string = YAML_CACHE_DIR): YamlSource {
  const text = readFileSync(file, 'utf8');
  const kept = join(cacheDir, PARSER, `${createHash('sha256').update(text).digest('base64url')}.json`);
  let parsed: YamlSource | undefined;
  const lineOf = (path: readonly (string | number)[]) => (parsed ??= parseYamlSource(text, shown)).lineOf(path);
  try {
    return { value: JSON.parse(readFileSync(kept, 'utf8')), lineOf };
  } catch {
    // Not kept yet, or unreadable: parsed and kept below.
  }
  parsed = parseYamlSource(text, shown);
  return { value: keep(kept, parsed.value), lineOf: parsed.lineOf };
}

/**
 * Keeps `value` in `file` when JSON gives it back exactly, and returns it as later runs will
 * read it: an anchored node, one object when parsed, is a copy at each alias in JSON, so this
 * run gets the copies too. A value JSON cannot hold (`.inf`, a node that holds itself) is
 * returned as parsed.
 */
function keep(file: string, value: unknown): unknown {
  let copy: unknown;
  try {
    const json = JSON.stringify(value);
    copy = JSON.parse(json);
    if (!isDeepStrictEqual(copy, value)) return value;
    keepFile(file, json);
  } catch {
    return value;
  }
  return copy;
}
