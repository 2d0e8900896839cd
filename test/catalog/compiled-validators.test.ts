import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { CompiledValidators } from '../../catalog/compiled-validators';
import { uniqueItemProperties, type CustomKeyword } from '../../catalog/unique-item-properties';

const root = mkdtempSync(join(tmpdir(), 'siteforge-validators-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const OPTIONS = { allErrors: true, verbose: true, code: { source: true } } as const;
/** A schema reached by reference, as the Kubernetes kinds are. */
const LIBRARY = {
  definitions: {
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    service: { type: 'object', required: ['name', 'port'], additionalProperties: false, properties: { name: { type: 'string' }, port: { $ref: '#/definitions/port' } } },
  },
};
const SERVICE = { $ref: 'library#/definitions/service' };
const good = { name: 'mysql', port: 3306 };
const bad = { name: 'mysql', port: 0, extra: true };

const validatorsIn = (dir: string | undefined, library = LIBRARY) => new CompiledValidators({ dir, options: OPTIONS, references: { library } });

/** What a validator says about `data`: its verdict and its errors (ajv's verbose form, with the data). */
function verdict(validators: CompiledValidators, data: unknown) {
  const validate = validators.validator(SERVICE);
  const valid = validate(data);
  return { valid, errors: validate.errors ?? null };
}

const filesEnding = (dir: string, ending: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith(ending)).map((e) => join(e.parentPath, e.name));
const keptFiles = (dir: string) => filesEnding(dir, '.cjs');
/** Done with the current task: what loading a validator left for then is done too. */
const nextTask = () => new Promise((resolve) => setImmediate(resolve));

/** Marks every kept file, so a validator read from one can be told from a compiled one. */
const markKept = (dir: string) => keptFiles(dir).forEach((file) => appendFileSync(file, '\nmodule.exports.kept = true;\n'));
const isKept = (validators: CompiledValidators) => (validators.validator(SERVICE) as unknown as { kept?: boolean }).kept === true;

describe('compiled validators', () => {
  it('compile once, keep the code, and later runs load it with the same verdicts and errors', () => {
    const dir = join(root, 'kept');
    const first = validatorsIn(dir);
    const compiledGood = verdict(first, good);
    const compiledBad = verdict(first, bad);
    expect(compiledGood).toStrictEqual({ valid: true, errors: null });
    expect(compiledBad.valid).toBe(false);
    expect(compiledBad.errors!.map((e) => [e.instancePath, e.keyword, e.data])).toStrictEqual([
      ['', 'additionalProperties', bad],
      ['/port', 'minimum', 0],
    ]);
    expect(isKept(first)).toBe(false);
    expect(keptFiles(dir)).toHaveLength(1);

    markKept(dir);
    const later = validatorsIn(dir);
    expect(isKept(later)).toBe(true);
    expect(verdict(later, good)).toStrictEqual(compiledGood);
    expect(verdict(later, bad)).toStrictEqual(compiledBad);
  });

  it('never load code compiled against other referenced schemas', () => {
    const dir = join(root, 'references');
    verdict(validatorsIn(dir), good);
    markKept(dir);
    const highPorts = { definitions: { ...LIBRARY.definitions, port: { type: 'integer', minimum: 5000, maximum: 65535 } } };
    const other = validatorsIn(dir, highPorts);
    expect(isKept(other)).toBe(false);
    expect(verdict(other, good).valid).toBe(false);
    expect(keptFiles(dir)).toHaveLength(2);
  });

  it('compile again over a kept file that cannot be loaded, and keep the new code', () => {
    const dir = join(root, 'broken');
    verdict(validatorsIn(dir), good);
    for (const file of keptFiles(dir)) writeFileSync(file, 'module.exports = (');

    const repaired = validatorsIn(dir);
    expect(isKept(repaired)).toBe(false);
    expect(verdict(repaired, bad).valid).toBe(false);
    markKept(dir);
    const after = validatorsIn(dir);
    expect(isKept(after)).toBe(true);
    expect(verdict(after, good).valid).toBe(true);
  });

  it('keep a custom keyword in the kept code, and compile again when its code generator changes', () => {
    const dir = join(root, 'keywords');
    const ROUTES = { type: 'array', uniqueItemProperties: ['name'], items: { type: 'object' } };
    const twice = [{ name: 'a' }, { name: 'b' }, { name: 'a' }];
    const once = [{ name: 'a' }, { name: 'b' }, {}];
    const withKeywords = (keywords: CustomKeyword[]) => new CompiledValidators({ dir, options: OPTIONS, keywords });
    const check = (validators: CompiledValidators, data: unknown) => {
      const validate = validators.validator(ROUTES);
      return { valid: validate(data), errors: validate.errors?.map((e) => [e.keyword, e.message]) ?? null, kept: (validate as unknown as { kept?: boolean }).kept === true };
    };
    const compiled = withKeywords([uniqueItemProperties]);
    expect(check(compiled, twice)).toStrictEqual({ valid: false, errors: [['uniqueItemProperties', 'must not have two items with name "a"']], kept: false });
    expect(check(compiled, once)).toStrictEqual({ valid: true, errors: null, kept: false });

    markKept(dir);
    const later = withKeywords([uniqueItemProperties]);
    expect(check(later, twice)).toStrictEqual({ valid: false, errors: [['uniqueItemProperties', 'must not have two items with name "a"']], kept: true });
    expect(check(later, once)).toStrictEqual({ valid: true, errors: null, kept: true });

    // The same keyword with another generator: never the kept code of the first.
    const lenient: CustomKeyword = { keyword: 'uniqueItemProperties', define: (ajv) => ({ ...uniqueItemProperties.define(ajv), code: () => {} }) };
    expect(check(withKeywords([lenient]), twice)).toStrictEqual({ valid: true, errors: null, kept: false });
  });

  it('load kept code with V8\'s code cache of it, made once the first validations are done, and make it again where V8 refuses it', async () => {
    const dir = join(root, 'code-cache');
    verdict(validatorsIn(dir), good);
    await nextTask();
    // Compiled here, so nothing was loaded: no code cache yet.
    expect(filesEnding(dir, '.v8cache')).toStrictEqual([]);
    const expected = verdict(validatorsIn(dir), bad);
    await nextTask();
    const [cache] = filesEnding(dir, '.v8cache');
    // Named by the heap's limit, as V8 refuses a cache made under other heap flags.
    expect(cache).toBe(`${keptFiles(dir)[0]}.${getHeapStatistics().heap_size_limit}.v8cache`);
    const made = statSync(cache).ino;

    // A later load takes it, and leaves it as it is.
    expect(verdict(validatorsIn(dir), bad)).toStrictEqual(expected);
    await nextTask();
    expect(statSync(cache).ino).toBe(made);

    // One made for other code is made again, and so is a file that is no code cache at all.
    markKept(dir);
    expect(isKept(validatorsIn(dir))).toBe(true);
    await nextTask();
    expect(statSync(cache).ino).not.toBe(made);
    writeFileSync(cache, 'not a code cache');
    expect(verdict(validatorsIn(dir), bad)).toStrictEqual(expected);
    await nextTask();
    expect(readFileSync(cache, 'latin1')).not.toBe('not a code cache');
  });

  it('never run a code cache made for other kept code of the same length, which V8 would take', async () => {
    const dir = join(root, 'code-cache-same-length');
    verdict(validatorsIn(dir), good);
    expect(verdict(validatorsIn(dir), bad).valid).toBe(false);
    await nextTask();
    expect(filesEnding(dir, '.v8cache')).toHaveLength(1);

    // Other code, as long as the code the cache was made from: a validator that takes anything.
    const [file] = keptFiles(dir);
    const length = readFileSync(file, 'utf8').length;
    writeFileSync(file, '"use strict";module.exports = () => true;module.exports.kept = true;'.padEnd(length, ' '));
    expect(readFileSync(file, 'utf8')).toHaveLength(length);
    const loaded = validatorsIn(dir);
    expect(isKept(loaded)).toBe(true);
    expect(verdict(loaded, bad).valid).toBe(true);
  });

  it('run kept code as Node runs a CommonJS module: `this` is its exports', () => {
    const dir = join(root, 'module-this');
    verdict(validatorsIn(dir), good);
    keptFiles(dir).forEach((file) => appendFileSync(file, '\nmodule.exports.kept = this === exports;\n'));
    expect(isKept(validatorsIn(dir))).toBe(true);
  });

  it('still validate where the folder cannot be written, and without a folder', () => {
    const readOnly = join(root, 'read-only');
    writeFileSync(readOnly, 'a file where the folder should be');
    const blocked = validatorsIn(readOnly);
    expect(verdict(blocked, bad).valid).toBe(false);
    expect(verdict(blocked, good).valid).toBe(true);

    const none = validatorsIn(undefined);
    expect(verdict(none, bad).valid).toBe(false);
    expect(verdict(none, good).valid).toBe(true);
  });
});
