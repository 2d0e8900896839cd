import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../constructs/yaml';
import { randomJson } from '../helpers';

/** Strings that YAML 1.1 or 1.2 readers would turn into something else if written plain. */
const AMBIGUOUS = ['yes', 'Yes', 'YES', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'true', 'False', 'null', '~', '', '0777', '0o17', '0x1F', '0b101',
  '1e3', '1_000', '12:30', '1.10', '.5', '+1', '-1', '.inf', '-.Inf', '.NaN', '2020-01-01', '=', '<<', '-', '?', ':', '#x', '&a', '*a', '!tag',
  '|', '>', "'q'", '"q"', '%x', '@x', '`x', 'a: b', 'a #b', 'trailing ', ' leading', 'tab\there', 'line\nbreak', 'x\r\ny', 'a\u2028b', '\ufeffbom',
  '[a]', '{a}', 'a,b', '7.8.1', '-Xms1g', 'x:', 'key:value', '中文', '😀', 'a\\b', 'a"b', "a'b", '\n', '\n\nx', 'x\n\n\n', ' \nx', 'x\n '];

describe('toYaml', () => {
  it('round-trips every ambiguous string through YAML 1.1 and 1.2 readers', () => {
    const value = { strings: AMBIGUOUS, keys: Object.fromEntries(AMBIGUOUS.filter((s) => s !== '').map((s, i) => [s, i])) };
    const text = toYaml(value);
    expect(parse(text, { version: '1.1' })).toStrictEqual(value);
    expect(parse(text, { version: '1.2' })).toStrictEqual(value);
  });

  it('quotes the values YAML 1.1 readers take for booleans and numbers', () => {
    expect(toYaml({ a: 'yes', b: 'on', c: '0777', d: '1e3', e: 'n' })).toBe('a: "yes"\nb: "on"\nc: "0777"\nd: "1e3"\ne: "n"\n');
  });

  it('writes multi-line strings as literal blocks with the right chomping', () => {
    expect(toYaml({ a: 'x\ny\n', b: 'x\ny', c: 'x\n\n' })).toBe('a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\n');
  });

  it('writes nested mappings and sequences in block style, empty ones in flow style', () => {
    expect(toYaml({ a: [{ b: 1, c: [2] }, [3]], d: {}, e: [], f: null }))
      .toBe('a:\n  - b: 1\n    c:\n      - 2\n  - - 3\nd: {}\ne: []\nf: null\n');
  });

  it('quotes a string that would start or end the document where it stands at the start of a line', () => {
    const markers = ['---', '--- a', '... a', '...'];
    // A top-level mapping's keys and a top-level scalar start their line.
    const text = toYaml(Object.fromEntries(markers.map((s, i) => [s, i])));
    expect(text).toBe('"---": 0\n"--- a": 1\n"... a": 2\n"...": 3\n');
    for (const s of markers) expect(toYaml(s)).toBe(`${JSON.stringify(s)}\n`);
    // Only a marker followed by a space or the end stands for one.
    expect(toYaml({ '---a': '---a', '...a': '...a' })).toBe('---a: ---a\n...a: ...a\n');
    for (const s of [...markers, '---a', '...a']) {
      expect(parse(toYaml(s), { version: '1.1' }), s).toBe(s);
      expect(parse(toYaml(s), { version: '1.2' }), s).toBe(s);
      expect(parse(toYaml({ [s]: s }), { version: '1.2' }), s).toStrictEqual({ [s]: s });
    }
  });

  it('writes a key longer than 1024 characters as an explicit key, which YAML readers take', () => {
    const long = 'k'.repeat(1025);
    const quoted = '"'.repeat(600);
    expect(toYaml({ ['k'.repeat(1024)]: 1 })).toBe(`${'k'.repeat(1024)}: 1\n`);
    expect(toYaml({ [long]: 1, b: [{ [long]: 'x\ny\n', c: 2 }], d: { [quoted]: { e: [3] } } }))
      .toBe(`? ${long}\n: 1\nb:\n  - ? ${long}\n    : |\n      x\n      y\n    c: 2\nd:\n  ? ${JSON.stringify(quoted)}\n  :\n    e:\n      - 3\n`);
    for (const value of [{ [long]: 1 }, { [long]: [{ [long]: { [quoted]: 'x\n' } }], [quoted]: [] }, [{ [long]: 1 }, [{ [quoted]: null }]]]) {
      const text = toYaml(value);
      expect(parse(text, { version: '1.1', strict: true, uniqueKeys: true }), text).toStrictEqual(value);
      expect(parse(text, { version: '1.2', strict: true, uniqueKeys: true }), text).toStrictEqual(value);
    }
  });

  it('escapes U+FFFE and U+FFFF, outside the characters YAML allows raw (PyYAML refuses the file)', () => {
    const text = toYaml({ a: '\ufffe', b: 'x\uffff\ny' });
    expect(text).toBe('a: "\\ufffe"\nb: "x\\uffff\\ny"\n');
    expect(parse(text, { version: '1.1' })).toStrictEqual({ a: '\ufffe', b: 'x\uffff\ny' });
  });

  it('writes a number with an exponent with a fraction, as YAML 1.1 readers need to read a float', () => {
    expect(toYaml([1e21, 1e-7, -5e-324, 1.5e-7, 1e20, 0.1 + 0.2])).toBe('- 1.0e+21\n- 1.0e-7\n- -5.0e-324\n- 1.5e-7\n- 100000000000000000000\n- 0.30000000000000004\n');
  });

  it('round-trips random JSON data', () => {
    const randomValue = randomJson(42);
    for (let i = 0; i < 2000; i++) {
      const value = { v: randomValue() };
      const text = toYaml(value);
      expect(parse(text, { version: '1.1' }), text).toStrictEqual(value);
      expect(parse(text, { version: '1.2' }), text).toStrictEqual(value);
    }
  });
});
