/**
 * A YAML writer for JSON data (objects, arrays, strings, numbers, booleans, null), written for
 * speed (the fleet writes tens of thousands of objects) and for readers of both YAML versions:
 * a string is written plain only when YAML 1.1 readers (Helm, Ansible, PyYAML) and YAML 1.2
 * readers both read it back as that same string; otherwise it is double-quoted, or written as a
 * literal block when it spans lines. Keys keep the order of the input; nothing is folded,
 * anchored or aliased.
 */
export function emitYaml(value: unknown): string {
  const out: string[] = [];
  if (isCollection(value) && !isEmpty(value)) {
    writeBlock(out, value, '');
  } else {
    out.push(flowScalarOrEmpty(value, ''), '\n');
  }
  return out.join('');
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isCollection(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isEmpty(value: object): boolean {
  if (Array.isArray(value)) return value.length === 0;
  for (const key in value) if ((value as Record<string, unknown>)[key] !== undefined) return false;
  return true;
}

/** Writes a non-empty mapping or sequence whose lines start at `indent`. */
function writeBlock(out: string[], value: object, indent: string): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      out.push(indent, '-');
      writeAfterIndicator(out, item === undefined ? null : item, `${indent}  `, true);
    }
    return;
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    const text = keyText(key);
    // YAML readers take a key written before its `:` only within 1024 characters; a longer
    // one is written as an explicit key, `? key` with `: value` on the next line.
    if (text.length > IMPLICIT_KEY_LENGTH) out.push(indent, '? ', text, '\n', indent, ':');
    else out.push(indent, text, ':');
    writeAfterIndicator(out, item, `${indent}  `, false);
  }
}

/** The longest key YAML readers take without `? ` (YAML 1.2 section 7.4.2; PyYAML, go-yaml and yaml agree). */
const IMPLICIT_KEY_LENGTH = 1024;

/**
 * Writes the value that follows `- ` or `key:`. Nested mappings in a sequence start on the dash
 * line; nested collections under a key start on the next line, indented.
 */
function writeAfterIndicator(out: string[], value: unknown, indent: string, inSequence: boolean): void {
  if (isCollection(value) && !isEmpty(value)) {
    if (inSequence) {
      out.push(' ');
      const start = out.length;
      writeBlock(out, value, indent);
      out[start] = ''; // the first line continues the dash line
      return;
    }
    out.push('\n');
    writeBlock(out, value, Array.isArray(value) ? indent : indent);
    return;
  }
  if (typeof value === 'string' && isLiteralBlockCandidate(value)) {
    out.push(' ', literalBlock(value, indent));
    return;
  }
  out.push(' ', flowScalarOrEmpty(value, indent), '\n');
}

function flowScalarOrEmpty(value: unknown, _indent: string): string {
  if (Array.isArray(value)) return '[]';
  if (isCollection(value)) return '{}';
  return scalarText(value as Json);
}

function scalarText(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    const text = String(value);
    // YAML 1.1 readers (PyYAML) read an exponent as a float only after a `.`: `1e-7` is a string there.
    return text.includes('e') && !text.includes('.') ? text.replace('e', '.0e') : text;
  }
  if (typeof value === 'string') return isPlainSafe(value) ? value : doubleQuoted(value);
  throw new Error(`cannot write a ${typeof value} as YAML`);
}

function keyText(key: string): string {
  return isPlainSafe(key) ? key : doubleQuoted(key);
}

/** Characters that cannot start a plain scalar. */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`\s]/;
/** Words YAML 1.1 or 1.2 readers resolve to null, booleans or special floats, and merge keys. */
const SPECIAL_WORDS =
  /^(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|<<|=|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/**
 * What a YAML 1.1 or 1.2 reader may take for a number or a timestamp: integers (binary, octal,
 * hex, with `_`, sexagesimal), floats in the spec's and common readers' spellings, dates.
 * `7.8.1` is among them (a YAML 1.1 float by the spec's pattern); `512Mi` and `0.0.0.0:8000`
 * are not.
 */
const NUMERIC =
  /^(?:[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9._]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9._]*(?:[eE][-+]?[0-9]+)?|[0-9._]*[eE][-+]?[0-9]+)|[-+]|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?)$/;
/** A document start or end marker, as it begins a string. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?: |$)/;
/** Characters plain scalars may hold: printable, no tab, no line breaks. */
const PLAIN_CHARS = /^[\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/;

/**
 * Answers of isPlainSafe for short strings: keys and most values (labels, names, image
 * references) repeat in every object. Cleared when full, so it stays small whatever the fleet.
 */
const plainSafeMemo = new Map<string, boolean>();
const PLAIN_SAFE_MEMO_ENTRIES = 10_000;
const PLAIN_SAFE_MEMO_LENGTH = 200;

function isPlainSafe(text: string): boolean {
  if (text.length > PLAIN_SAFE_MEMO_LENGTH) return isPlainSafeUncached(text);
  let safe = plainSafeMemo.get(text);
  if (safe === undefined) {
    if (plainSafeMemo.size >= PLAIN_SAFE_MEMO_ENTRIES) plainSafeMemo.clear();
    safe = isPlainSafeUncached(text);
    plainSafeMemo.set(text, safe);
  }
  return safe;
}

function isPlainSafeUncached(text: string): boolean {
  if (text.length === 0) return false;
  if (!PLAIN_CHARS.test(text)) return false;
  if (SPECIAL_WORDS.test(text) || NUMERIC.test(text)) return false;
  if (INDICATOR_START.test(text)) {
    // `-x`, `?x`, `:x` are plain when a non-space follows; keep only the common `-x` form.
    if (!(text[0] === '-' && text.length > 1 && text[1] !== ' ' && !/^-[0-9.]/.test(text))) return false;
  }
  if (text.endsWith(' ') || text.endsWith(':')) return false;
  // At the start of a line (a top-level scalar or key), `---` or `...` and a space or nothing
  // starts or ends a document.
  if (DOCUMENT_MARKER.test(text)) return false;
  if (text.includes(': ') || text.includes(' #') || text.includes(':\t')) return false;
  return true;
}

/**
 * Double-quoted form: JSON escapes plus escapes for what YAML treats as line breaks or BOM, and
 * for U+FFFE and U+FFFF, outside YAML's printable characters (PyYAML refuses a file holding one raw).
 */
function doubleQuoted(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Multi-line text that a literal block keeps byte for byte. */
function isLiteralBlockCandidate(text: string): boolean {
  if (!text.includes('\n')) return false;
  if (!/^[\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/.test(text)) return false;
  // A first line starting with a space would need an indentation indicator; quote instead.
  if (text.startsWith(' ') || text.startsWith('\n')) return false;
  // Trailing spaces on a line survive a literal block, but reviewers cannot see them.
  return !/ \n/.test(text) && !text.endsWith(' ');
}

function literalBlock(text: string, indent: string): string {
  // Counted from the end: the pattern /\n*$/ tries every run of line breaks to its end, which
  // takes time quadratic in the length of a run that is not at the end.
  let trailing = 0;
  while (text.charCodeAt(text.length - 1 - trailing) === 10) trailing++;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const body = trailing === 0 ? text : text.slice(0, text.length - trailing);
  const lines = body.split('\n').map((line) => (line.length > 0 ? indent + line : '')).join('\n');
  return `|${chomp}\n${lines}\n${'\n'.repeat(Math.max(0, trailing - 1))}`;
}
