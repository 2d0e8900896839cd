/*
 * JSON Schema `pattern`s run on JavaScript's backtracking regex engine (ajv compiles them with
 * `new RegExp`). A repeated group that itself contains a repetition, such as `^(a+)+$`, can
 * take exponential time on a string that almost matches (29 characters stalled ajv for 10 s).
 * The catalog refuses such patterns when it loads, before any value meets them.
 */

/**
 * Why `pattern` risks catastrophic backtracking, or undefined when it is safe by this check: a
 * repeated group whose body also repeats is refused unless each pass through the group must
 * start or continue with a character none of its repeated parts can match (so
 * `(/[a-z]+)+` and `(\\.[0-9]+){0,3}` pass; `(a+)+`, `(\\d+)*`, `(a|ab)+` and `(a+a)+` do not).
 */
export function catastrophicBacktrackingProblem(pattern: string): string | undefined {
  interface Frame { repeatsInside: boolean; alternatives: boolean; mandatory: string[]; repeated: string[]; firsts: string[]; atStart: boolean }
  const frame = (): Frame => ({ repeatsInside: false, alternatives: false, mandatory: [], repeated: [], firsts: [], atStart: true });
  const stack: Frame[] = [frame()];
  const top = () => stack[stack.length - 1];
  /** Length and kind of the quantifier at `at`: repeating (`*`, `+`, `{n,}`, `{n,m}` m > 1), optional (`?`, `{0,1}`) or none. */
  const quantifier = (at: number): { length: number; kind: 'repeat' | 'optional' | 'none' } => {
    const c = pattern[at];
    const lazy = (n: number) => (pattern[at + n] === '?' ? n + 1 : n);
    if (c === '*' || c === '+') return { length: lazy(1), kind: 'repeat' };
    if (c === '?') return { length: lazy(1), kind: 'optional' };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
      if (!m) return { length: 0, kind: 'none' };
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      return { length: lazy(m[0].length), kind: max > 1 ? 'repeat' : min === 0 ? 'optional' : 'none' };
    }
    return { length: 0, kind: 'none' };
  };
  /** Records a single-character atom (its source) followed by its quantifier; returns the next index. */
  const atom = (source: string, next: number): number => {
    const q = quantifier(next);
    if (top().atStart) {
      top().firsts.push(source);
      top().atStart = false;
    }
    if (q.kind === 'repeat') {
      top().repeatsInside = true;
      top().repeated.push(source);
    } else if (q.kind === 'optional') top().repeated.push(source);
    else top().mandatory.push(source);
    return next + q.length;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      i = atom(pattern.slice(i, i + 2), i + 2);
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = atom(pattern.slice(i, j + 1), j + 1);
    } else if (c === '(') {
      if (top().atStart) {
        top().firsts.push('.');
        top().atStart = false;
      }
      stack.push(frame());
      i++;
      if (pattern[i] === '?') {
        const named = pattern[i + 1] === '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!';
        i = named ? pattern.indexOf('>', i) + 1 : i + 2 + (pattern[i + 1] === '<' ? 1 : 0);
      }
    } else if (c === '|') {
      top().alternatives = true;
      top().atStart = true;
      i++;
    } else if (c === ')') {
      const group = stack.length > 1 ? stack.pop()! : frame();
      i++;
      const q = quantifier(i);
      i += q.length;
      const atoms = [...group.mandatory, ...group.repeated];
      if (q.kind === 'repeat' && group.alternatives && !group.firsts.every((a, n) => group.firsts.slice(n + 1).every((b) => disjoint(a, b)))) {
        return 'repeats a choice whose alternatives can start with the same character (like (a|ab)+), which can take exponential time to match';
      }
      if (q.kind === 'repeat' && group.repeatsInside) {
        const separated = !group.alternatives && group.mandatory.some((m) => group.repeated.every((r) => disjoint(m, r)));
        if (!separated) return 'repeats a group that itself repeats (like (a+)+), which can take exponential time to match';
      }
      if (q.kind === 'repeat') {
        top().repeatsInside = true;
        top().repeated.push(...atoms);
      } else {
        if (group.repeatsInside) top().repeatsInside = true;
        if (q.kind === 'optional' || group.alternatives) top().repeated.push(...atoms);
        else {
          top().mandatory.push(...group.mandatory);
          top().repeated.push(...group.repeated);
        }
      }
    } else if (c === '^' || c === '$') {
      i++;
    } else {
      i = atom(c === '.' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), i + 1);
    }
  }
  return undefined;
}

/** Whether no character (of ASCII and a few others) matches both single-character atoms. */
function disjoint(a: string, b: string): boolean {
  let ra: RegExp;
  let rb: RegExp;
  try {
    ra = new RegExp(`^${a}$`, 'u');
    rb = new RegExp(`^${b}$`, 'u');
  } catch {
    return false;
  }
  for (let code = 0; code < 128; code++) {
    const ch = String.fromCharCode(code);
    if (ra.test(ch) && rb.test(ch)) return false;
  }
  return !['é', 'ß', 'а', '中', '\u00a0'].some((ch) => ra.test(ch) && rb.test(ch));
}

/** Every `pattern` and `patternProperties` key in `schema`, with its JSON pointer. */
export function schemaPatterns(schema: unknown, pointer = ''): { pointer: string; pattern: string }[] {
  if (!schema || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => schemaPatterns(s, `${pointer}/${i}`));
  const found: { pointer: string; pattern: string }[] = [];
  for (const [key, value] of Object.entries(schema)) {
    const here = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key === 'pattern' && typeof value === 'string') found.push({ pointer: here, pattern: value });
    if (key === 'patternProperties' && value && typeof value === 'object') {
      for (const p of Object.keys(value)) found.push({ pointer: here, pattern: p });
    }
    if (key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples') found.push(...schemaPatterns(value, here));
  }
  return found;
}
