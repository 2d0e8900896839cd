import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { Script } from 'node:vm';
import type Ajv from 'ajv';
import type { AnySchema, Options, ValidateFunction } from 'ajv';
import { keepFile } from './kept-file';
import type { CustomKeyword } from './unique-item-properties';

const requireFromHere = createRequire(import.meta.url);
const AJV_VERSION = (requireFromHere('ajv/package.json') as { version: string }).version;

/** Where siteforge keeps compiled validators by default: beside its packages, like other tools' caches. */
export const VALIDATORS_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/siteforge/validators', import.meta.url));

/** Props of a {@link CompiledValidators}. */
export interface CompiledValidatorsProps {
  /**
   * The folder that keeps compiled validators: a subfolder per ajv version, options and
   * referenced schemas, in it one file per schema named by a hash of the schema; created when
   * first needed.
   * @default undefined: nothing is kept, every validator is compiled
   */
  readonly dir?: string;
  /** ajv's options; `code.source` is turned on, as standalone code needs it. */
  readonly options: Options;
  /**
   * Schemas that validators may reference, by id.
   * @default {}
   */
  readonly references?: Readonly<Record<string, AnySchema>>;
  /**
   * Keywords beyond JSON Schema's; their code generators' source is part of what names the
   * kept validators, so a changed keyword compiles them again.
   * @default []
   */
  readonly keywords?: readonly CustomKeyword[];
}

/**
 * ajv validators compiled once per installation instead of once per thread and run. The
 * standalone code ajv generates for a schema is written under `dir` and loaded by later runs:
 * a Deployment's validator takes ~100 ms to compile and a few to load, and ajv itself (about a
 * hundred modules) is not even loaded. A folder that cannot be written only costs the
 * compile; a kept file that cannot be loaded is compiled and written again. Beside each kept
 * file, V8's code cache of it (see loadKept).
 */
export class CompiledValidators {
  private readonly loaded = new Map<string, ValidateFunction>();
  private keyDir: string | undefined;
  private ajv: Ajv | undefined;

  constructor(private readonly props: CompiledValidatorsProps) {}

  /** The validator of `schema`, compiled at most once per installation. */
  validator(schema: AnySchema): ValidateFunction {
    const text = JSON.stringify(schema);
    let validate = this.loaded.get(text);
    if (validate) return validate;
    const file = this.props.dir === undefined ? undefined : join(this.folder(this.props.dir), `${digest(text)}.cjs`);
    if (file !== undefined) {
      try {
        validate = loadKept(file);
      } catch {
        // Not kept yet, or unreadable: compiled below.
      }
    }
    if (!validate) {
      const ajv = this.compiler();
      validate = ajv.compile(schema);
      if (file !== undefined) {
        const { default: standaloneCode } = requireFromHere('ajv/dist/standalone') as typeof import('ajv/dist/standalone');
        keepFile(file, standaloneCode(ajv, validate));
      }
    }
    this.loaded.set(text, validate);
    return validate;
  }

  /** The subfolder of everything the code depends on besides the schema itself. */
  private folder(dir: string): string {
    if (!this.keyDir) {
      const keywords = (this.props.keywords ?? []).map((k) => [k.keyword, k.define.toString()]);
      this.keyDir = join(dir, digest(JSON.stringify([AJV_VERSION, this.props.options, this.props.references ?? {}, ...keywords])));
    }
    return this.keyDir;
  }

  private compiler(): Ajv {
    if (!this.ajv) {
      const ajvModule = requireFromHere('ajv') as typeof import('ajv');
      this.ajv = new ajvModule.default({ ...this.props.options, code: { ...this.props.options.code, source: true } });
      for (const keyword of this.props.keywords ?? []) this.ajv.addKeyword(keyword.define(ajvModule));
      for (const [id, schema] of Object.entries(this.props.references ?? {})) this.ajv.addSchema(schema, id);
    }
    return this.ajv;
  }
}

/**
 * V8 refuses a code cache made under other heap flags, which the tests (vitest) and the CLI
 * run with: each keeps its own, named by the heap's limit, which worker threads share.
 */
const HEAP_LIMIT = getHeapStatistics().heap_size_limit;

/**
 * The validator kept in `file`, a CommonJS module, loaded with V8's code cache of it
 * (`<file>.<heap limit>.v8cache`, see HEAP_LIMIT): the Kubernetes kinds' validators are up to
 * 500 KB of code each, which a thread otherwise compiles on its first site. Where there is no cache, or V8 refuses it (made
 * by another V8, or with other flags), one is kept once the current task is done, so that it
 * holds the functions the first validations compiled too. V8 checks a cache against only the
 * length of the code it was made from, and runs what it holds for any code that long: the
 * cache starts with a hash of its code, and one made for other code is not handed to V8.
 */
function loadKept(file: string): ValidateFunction {
  const cacheFile = `${file}.${HEAP_LIMIT}.v8cache`;
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const hash = createHash('sha256').update(source).digest();
  let cachedData: Buffer | undefined;
  try {
    const kept = readFileSync(cacheFile);
    if (kept.subarray(0, hash.length).equals(hash)) cachedData = kept.subarray(hash.length);
  } catch {
    // None yet: made below.
  }
  const script = new Script(source, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  // As Node's own CommonJS wrapper is called: `this` at the top of the module is its exports.
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) setImmediate(() => keepFile(cacheFile, Buffer.concat([hash, script.createCachedData()])));
  return module.exports as ValidateFunction;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}
