import { Document, LineCounter, parseDocument, Scalar, visit } from 'yaml';
import { UserError } from './errors';

/**
 * Plain scalars that a YAML 1.2 core-schema reader resolves to something other than a string.
 * Writing with the YAML 1.1 schema already quotes what 1.1 readers (Helm, Ansible) would
 * misread (`yes`, `on`, `0777`, `1e3`...); this catches the 1.2-only forms (`0o17`...) too.
 */
const YAML12_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/**
 * Serializes `value` as one YAML document that YAML 1.1 and 1.2 readers read back identically:
 * ambiguous strings are quoted, long strings are never folded, repeated objects are written out
 * rather than turned into anchors and aliases. Key order is the order of `value`.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && YAML12_NON_STRING.test(node.value)) {
        node.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
  return doc.toString({ lineWidth: 0, minContentWidth: 0 });
}

/** Limits for reading YAML written by people: no billion laughs, no duplicate keys, no custom tags. */
const MAX_ALIASES = 50;

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: true, customTags: [], lineCounter });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line;
    throw new UserError(`${line ? `${source}:${line}` : source}: ${firstLine(problem.message)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
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

/** Parses one YAML document strictly (see parseYamlSource). */
export function parseYaml(text: string, source: string): unknown {
  return parseYamlSource(text, source).value;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}
