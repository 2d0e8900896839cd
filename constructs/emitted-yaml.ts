import { emitYaml } from './yaml-emitter';

/**
 * Reads back a YAML file siteforge's emitter wrote (yaml-emitter.ts), several times faster
 * than a general YAML parser: publish and diff compare every changed file of every repository
 * (the first publish of a fleet, every file), and synth reads previous credentials back.
 *
 * Only the emitter's own layout is read: two-space block indentation, plain or double-quoted
 * scalars, `[]` and `{}`, literal blocks; optionally after a `---` line and comment lines, as
 * the Ansible files start. The value read is written again with the emitter and must give the
 * text byte for byte, so a value is returned only when it is exactly what the emitter wrote
 * for that text, which YAML readers read as that value (the emitter's promise, tested there).
 * Anything else (a file edited by hand, written by another tool, or not YAML) gives undefined:
 * the caller reads it with a general YAML parser.
 */
export function readEmittedYaml(text: string): { readonly value: unknown } | undefined {
  const header = headerLength(text);
  const body = header === 0 ? text : text.slice(header);
  try {
    const value = new Reader(body).document();
    return emitYaml(value) === body ? { value } : undefined;
  } catch {
    // Text the emitter does not write (or nests past the stack): the general parser decides.
    return undefined;
  }
}

/** Thrown inside the reader for text the emitter does not write. */
const NOT_EMITTED = new Error('not written by the emitter');

/** Length of a leading `---` line, if any, and of the comment lines that follow. */
function headerLength(text: string): number {
  let at = text.startsWith('---\n') ? 4 : 0;
  while (text.startsWith('#', at)) {
    const end = text.indexOf('\n', at);
    if (end < 0) return at;
    at = end + 1;
  }
  return at;
}

/** How the emitter writes a finite number: what `String(n)` gives, with `.0` before a bare exponent. */
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e[-+][0-9]+)?$/;

class Reader {
  private readonly lines: string[];
  private line = 0;
  /** A line where a nested block starts after `- `, and the column it starts at. */
  private dashLine = -1;
  private dashColumn = 0;
  /** The current line's leading spaces, counted once for every block that asks. */
  private spacesLine = -1;
  private spaces = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
    // Every line the emitter writes ends with a line break.
    if (this.lines.pop() !== '') throw NOT_EMITTED;
  }

  public document(): unknown {
    if (this.lines.length === 0) throw NOT_EMITTED;
    const first = this.lines[0];
    const value = isBlockStart(first, 0) ? this.block(0) : (this.line++, scalar(first));
    if (this.line !== this.lines.length) throw NOT_EMITTED;
    return value;
  }

  /** A mapping or sequence whose lines start at column `indent`, from the current line. */
  private block(indent: number): unknown {
    return this.lines[this.line].startsWith('- ', indent) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    while (this.line < this.lines.length && this.startsAt(indent) && this.lines[this.line].startsWith('- ', indent)) {
      const text = this.lines[this.line];
      if (isBlockStart(text, indent + 2)) {
        // A nested block starts on the dash line: read that line as if indented up to it.
        this.dashLine = this.line;
        this.dashColumn = indent + 2;
        items.push(this.block(indent + 2));
      } else {
        items.push(this.inline(text.slice(indent + 2), indent + 2));
      }
    }
    return items;
  }

  private mapping(indent: number): Record<string, unknown> {
    const entries: Record<string, unknown> = {};
    while (this.line < this.lines.length && this.startsAt(indent)) {
      const text = this.lines[this.line];
      const { key, end } = keyAt(text, indent);
      let value: unknown;
      if (end === text.length) {
        // `key:` alone: a block follows, two columns in.
        this.line++;
        if (this.line >= this.lines.length || !this.startsAt(indent + 2)) throw NOT_EMITTED;
        value = this.block(indent + 2);
      } else {
        if (text[end] !== ' ') throw NOT_EMITTED;
        value = this.inline(text.slice(end + 1), indent + 2);
      }
      // Defined, not assigned: a key `__proto__` is a key like any other.
      Object.defineProperty(entries, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return entries;
  }

  /** The value after `- ` or `key: `, on the current line (and a literal block's lines after it). */
  private inline(text: string, contentIndent: number): unknown {
    this.line++;
    if (text === '|' || text === '|-' || text === '|+') return this.literal(text[1] ?? '', contentIndent);
    return scalar(text);
  }

  /** The lines of a literal block, indented `indent` (empty lines are empty). */
  private literal(chomp: string, indent: number): string {
    const body: string[] = [];
    const indentation = ' '.repeat(indent);
    while (this.line < this.lines.length) {
      const text = this.lines[this.line];
      // A line of the block may itself start with spaces, after the block's indentation.
      if (text !== '' && !(text.length > indent && text.startsWith(indentation))) break;
      body.push(text.slice(indent));
      this.line++;
    }
    let trailing = 0;
    while (body.length > 0 && body[body.length - 1] === '') {
      body.pop();
      trailing++;
    }
    const content = body.join('\n');
    return chomp === '-' ? content : chomp === '+' ? content + '\n'.repeat(trailing + 1) : `${content}\n`;
  }

  /** Whether the current line starts with exactly `indent` spaces (or a nested block's dashes). */
  private startsAt(indent: number): boolean {
    const text = this.lines[this.line];
    if (this.line === this.dashLine) return this.dashColumn === indent && text.length > indent && text.charCodeAt(indent) !== 32;
    if (this.spacesLine !== this.line) {
      let n = 0;
      while (text.charCodeAt(n) === 32) n++;
      this.spacesLine = this.line;
      this.spaces = n;
    }
    return this.spaces === indent && text.length > indent;
  }
}

/** Whether `text` starts a block at `at`: a sequence item or a mapping key. */
function isBlockStart(text: string, at: number): boolean {
  if (text.startsWith('- ', at)) return true;
  try {
    keyAt(text, at);
    return true;
  } catch (e) {
    if (e === NOT_EMITTED) return false;
    throw e;
  }
}

/** The key at `at` of a mapping line, and where its `:` ends. */
function keyAt(text: string, at: number): { key: string; end: number } {
  if (text[at] === '"') {
    const close = closingQuote(text, at);
    if (text[close + 1] !== ':') throw NOT_EMITTED;
    return { key: quoted(text.slice(at, close + 1)), end: close + 2 };
  }
  // A plain key holds no `: ` and does not end with `:` (the emitter quotes such keys).
  const colon = text.indexOf(':', at);
  if (colon <= at) throw NOT_EMITTED;
  const after = colon + 1;
  if (after !== text.length && text[after] !== ' ') {
    // `a:b` is a plain scalar, unless a later `: ` or a final `:` makes it a key.
    const spaced = text.indexOf(': ', after);
    const key = spaced >= 0 ? spaced : text.endsWith(':') ? text.length - 1 : -1;
    if (key < 0) throw NOT_EMITTED;
    return { key: text.slice(at, key), end: key + 1 };
  }
  return { key: text.slice(at, colon), end: after };
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i;
  }
  throw NOT_EMITTED;
}

function quoted(token: string): string {
  try {
    return JSON.parse(token) as string;
  } catch {
    throw NOT_EMITTED;
  }
}

/** A scalar as the emitter writes it; a token it would not write comes out unlike the text and fails the check. */
function scalar(token: string): unknown {
  switch (token) {
    case 'null': return null;
    case 'true': return true;
    case 'false': return false;
    case '[]': return [];
    case '{}': return {};
    case '.nan': return Number.NaN;
    case '.inf': return Number.POSITIVE_INFINITY;
    case '-.inf': return Number.NEGATIVE_INFINITY;
  }
  if (token.startsWith('"')) {
    if (closingQuote(token, 0) !== token.length - 1) throw NOT_EMITTED;
    return quoted(token);
  }
  if (NUMBER.test(token)) return Number(token);
  return token;
}
