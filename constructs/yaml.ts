import { createRequire } from 'node:module';
import type * as YamlLibrary from 'yaml';
import { readEmittedYaml } from './emitted-yaml';
import { emitYaml } from './yaml-emitter';
import { UserError } from './errors';

/**
 * Serializes `value` (JSON data) as one YAML document that YAML 1.1 and 1.2 readers read back
 * identically: ambiguous strings are quoted, multi-line strings are literal blocks, nothing is
 * folded or aliased. Key order is the order of `value`. See yaml-emitter.ts.
 */
export function toYaml(value: unknown): string {
  return emitYaml(value);
}

let loaded: typeof YamlLibrary | undefined;

/**
 * The `yaml` library, loaded the first time YAML siteforge did not write is read (a catalog
 * file not kept parsed yet, a rendered config file): siteforge writes YAML with its own emitter
 * and reads its own output back without it (see emitted-yaml.ts), so a command that renders
 * nothing need not spend the 30 ms a thread takes to load it.
 */
export function yamlLibrary(): typeof YamlLibrary {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof YamlLibrary);
}

/** Limits for reading YAML written by people: no billion laughs, no duplicate keys, no custom tags. */
export const YAML_RULES = { uniqueKeys: true, strict: true, customTags: [], maxAliasCount: 50 } as const;

/** A parsed YAML file that can tell on which line a value sits. */
export interface YamlSource {
  readonly value: unknown;
  /** Line (1-based) of the node at `path` (or of its closest existing parent). */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/**
 * Parses one YAML document strictly. Warnings (unknown tags among them) are errors, duplicate
 * keys are errors, and aliases are limited. Errors name `source` and the line.
 */
export function parseYamlSource(text: string, source: string): YamlSource {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: YAML_RULES.uniqueKeys, strict: YAML_RULES.strict, customTags: [...YAML_RULES.customTags], prettyErrors: true, lineCounter });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line;
    throw new UserError(`${line ? `${source}:${line}` : source}: ${firstLine(problem.message)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: YAML_RULES.maxAliasCount });
  } catch (e) {
    throw new UserError(`${source}: ${firstLine((e as Error).message)}`);
  }
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return undefined;
  };
  return { value, lineOf };
}

/**
 * Parses one YAML document strictly (see parseYamlSource). Text siteforge's emitter wrote (its
 * own output read back: previous credentials, `validate --output`) is read without the
 * general parser, which would read it as the same value (see emitted-yaml.ts).
 */
export function parseYaml(text: string, source: string): unknown {
  return (readEmittedYaml(text) ?? parseYamlSource(text, source)).value;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}
