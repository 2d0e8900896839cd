// @ts-check
// Plain JavaScript: bin/siteforge.js runs this before any TypeScript can be loaded. Compiled
// programs import this very file (it is never compiled into them), so there is one copy of it.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keepFile } from '../catalog/kept-file.js';

/** siteforge's folder: bare imports in a program written under it resolve to its packages. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

/** Where compiled programs are kept, one folder per build, never changed once written. */
export const PROGRAM_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'siteforge', 'program');

/** The fleet module commands load when `--fleet` is not given. */
export const DEFAULT_FLEET = 'sites/index.ts';

/**
 * How long a build no record names any more (its fleet was compiled again, or is gone) is
 * kept after its last use: a process started from it may still load a chunk of it lazily.
 */
const REPLACED_BUILD_LIFETIME_MS = 60 * 60 * 1000;
/** How long a build a record still names is kept after its last use. */
const UNUSED_BUILD_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * A config file or a folder an import looked in that changed this shortly before a build began
 * (or during it) may have been read by esbuild in either state: it reads a folder once per
 * build, and file systems keep times to the second or the tick. Such a build is used, but not
 * kept.
 */
const SETTLE_MS = 2000;

/**
 * What `import.meta.url`, `dirname` and `filename` become in a compiled module: names it
 * imports from a module of its own, in the namespace META_NAMESPACE, that holds its values.
 */
const META = { url: '__siteforge_import_meta_url', dirname: '__siteforge_import_meta_dirname', filename: '__siteforge_import_meta_filename' };
const META_NAMESPACE = 'siteforge-import-meta';

/**
 * What a compiled module loads a CommonJS package with: `require`, made in each compiled file
 * by BANNER, resolving from siteforge's folder (as the build checked; see resolvesFromRoot).
 * node's `import` of a CommonJS package first scans its source, and every file it re-exports,
 * for the names it exports (cjs-module-lexer): for cdk8s-plus-28 that doubled the time to
 * load the packages a synth needs (0.8–1.1 s against 0.34–0.50 s, four runs each, on a
 * loaded machine). A module of the namespace COMMONJS_NAMESPACE stands for each such package.
 */
const REQUIRE = '__siteforge_require';
const COMMONJS_NAMESPACE = 'siteforge-commonjs-package';
const BANNER = `import { createRequire as __siteforge_createRequire } from 'node:module';\nconst ${REQUIRE} = __siteforge_createRequire(${JSON.stringify(join(ROOT, 'package.json'))});`;

/** The `detail` of the plugin's refusals, which only a change to the sources can lift. */
const REFUSAL = 'siteforge-refusal';

const LOADERS = /** @type {const} */ ({ '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.json': 'json' });

/**
 * The TypeScript files an import naming a JavaScript file finds first, as tsx resolves it (and
 * TypeScript allows): `./x.js` is x.ts where there is one, even beside an x.js.
 */
const TYPESCRIPT_FOR = /** @type {Readonly<Record<string, readonly string[]>>} */ ({ '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] });

/**
 * Folders of siteforge's own code, compiled and tested as it is. Its engine imports the
 * compiled fleet by a URL it is given at run time; a fleet's own files may not (see
 * sourcesAsRead).
 */
const OWN_CODE = ['engine', 'cli', 'constructs', 'catalog'].map((folder) => join(ROOT, folder) + sep);

/**
 * Whether `file` is siteforge's own code (see OWN_CODE), not a fleet's.
 * @param {string} file
 * @returns {boolean}
 */
export function isOwnCode(file) {
  return OWN_CODE.some((folder) => file.startsWith(folder));
}

/**
 * @typedef {object} CompiledProgram
 * siteforge (its CLI and the synth worker) and a fleet module, compiled together into plain
 * JavaScript modules that share one copy of every siteforge module, so the fleet's constructs
 * are the CLI's classes.
 * @property {string} dir the build's folder
 * @property {string} cli URL of `cli/index.ts` compiled
 * @property {string} synthWorker URL of `engine/synth-worker-main.ts` compiled
 * @property {string | undefined} fleetFile the fleet module compiled with them, if any
 * @property {string | undefined} fleet URL of the fleet module compiled
 * @property {Readonly<Record<string, string>>} entries URL of each further entry point compiled, by name
 * @property {boolean} built whether this call compiled it (false: it was kept from before)
 */

/**
 * @typedef {object} BuildRecord
 * What a build was made from, checked before it is used: it is used only while every file
 * still holds what it held (or is still absent), and every place an import looked still holds
 * the same candidates (a new `x.tsx` beside `x.ts`, a link pointed elsewhere).
 * @property {string} [build] the build's folder name
 * @property {string} [fleetFile] the fleet module compiled
 * @property {Record<string, string>} [entries] the further entry points compiled, by name
 * @property {string} [failed] why it could not be compiled, when it could not
 * @property {Record<string, string | null>} files sha256 of each file read, null for a file that was absent
 * @property {Record<string, string>} lookups sha256 of what each lookup (`<folder>\0<name>`) found
 */

/**
 * siteforge's program compiled with the fleet module `fleetFile` (an absolute path; none:
 * siteforge alone), from `cacheDir` when a build there was made from the files as they are now,
 * else compiled by esbuild (some 0.2 s) and kept. Loading it takes 0.2–0.3 s less than running
 * the TypeScript through tsx's loader, and less memory. Throws when esbuild cannot compile it:
 * a syntax error, a fleet module outside siteforge's folder that imports a package (whose
 * import must resolve from the fleet's folder, so it is run from source instead), or a source
 * using `import.meta` other than `url`, `dirname` and `filename`.
 *
 * @param {{ readonly fleetFile?: string, readonly cacheDir?: string, readonly entries?: Readonly<Record<string, string>> }} options
 *   `cacheDir` must be inside siteforge's folder, so that the program's packages resolve
 *   (default: PROGRAM_CACHE_DIR); `entries` names further modules to compile with it, by the
 *   name of their compiled file (default: none; `npm run bench` compiles the bench this way)
 * @returns {Promise<CompiledProgram>}
 */
export async function compiledProgram({ fleetFile, cacheDir = PROGRAM_CACHE_DIR, entries = {} }) {
  const sortedEntries = checkedEntries(entries);
  const entryNames = Object.keys(sortedEntries);
  const recordFile = join(cacheDir, `${sha256(JSON.stringify([recipe(), fleetFile ?? null, sortedEntries])).slice(0, 32)}.json`);
  const kept = keptRecord(recordFile);
  if (kept?.failed !== undefined) throw new Error(kept.failed);
  if (kept?.build !== undefined && existsSync(join(cacheDir, kept.build, 'cli.js'))) {
    markUsed(join(cacheDir, kept.build));
    return programIn(join(cacheDir, kept.build), fleetFile, entryNames, false);
  }
  const { record, keep } = await compile(cacheDir, fleetFile, sortedEntries);
  if (keep) keepFile(recordFile, `${JSON.stringify(record)}\n`);
  if (record.failed !== undefined) throw new Error(record.failed);
  const build = /** @type {string} */ (record.build);
  pruneUnusedBuilds(cacheDir, build);
  return programIn(join(cacheDir, build), fleetFile, entryNames, true);
}

/**
 * `entries` sorted by name, once each name is one a compiled file may take (not one of the
 * program's own, nor a chunk's) and each path is absolute.
 * @param {Readonly<Record<string, string>>} entries
 * @returns {Record<string, string>}
 */
function checkedEntries(entries) {
  const names = Object.keys(entries).sort();
  const clash = names.find((name) => !/^[a-z][a-z0-9-]*$/.test(name) || ['cli', 'synth-worker', 'fleet'].includes(name) || name.startsWith('chunk-'));
  if (clash !== undefined) throw new Error(`an entry point cannot be named ${JSON.stringify(clash)}: use lower-case letters, digits and dashes, none of cli, synth-worker, fleet, and no chunk- prefix`);
  const relativeEntry = names.find((name) => !isAbsolute(entries[name]));
  if (relativeEntry !== undefined) throw new Error(`entry point ${relativeEntry}: ${JSON.stringify(entries[relativeEntry])} is not an absolute path`);
  return Object.fromEntries(names.map((name) => [name, entries[name]]));
}

/**
 * The file a command's `--fleet` names, as siteforge resolves it: relative to `cwd`; the
 * default falls back to siteforge's own example fleet when `cwd` has none. Undefined when
 * there is no such file (the command then says so).
 * @param {string} path
 * @param {string} [cwd]
 * @returns {string | undefined}
 */
export function fleetFileOf(path, cwd = process.cwd()) {
  const file = resolve(cwd, path);
  if (existsSync(file)) return file;
  return path === DEFAULT_FLEET ? join(ROOT, 'sites', 'index.ts') : undefined;
}

/**
 * The `--fleet` value of a command line, read before the command is parsed (the program to
 * parse it with depends on it): the last `--fleet X` or `--fleet=X` before `--`.
 * @param {readonly string[]} argv
 * @returns {string}
 */
export function fleetArgument(argv) {
  let fleet = DEFAULT_FLEET;
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--fleet' && i + 1 < argv.length) fleet = argv[++i];
    else if (argv[i].startsWith('--fleet=')) fleet = argv[i].slice('--fleet='.length);
  }
  return fleet;
}

/**
 * @param {string} dir
 * @param {string | undefined} fleetFile
 * @param {readonly string[]} entryNames
 * @param {boolean} built
 * @returns {CompiledProgram}
 */
function programIn(dir, fleetFile, entryNames, built) {
  const url = (/** @type {string} */ name) => pathToFileURL(join(dir, name)).href;
  const entries = Object.fromEntries(entryNames.map((name) => [name, url(`${name}.js`)]));
  return { dir, cli: url('cli.js'), synthWorker: url('synth-worker.js'), fleetFile, fleet: fleetFile ? url('fleet.js') : undefined, entries, built };
}

/**
 * The record in `recordFile` when what it was made from is as it was: its build may be used,
 * or its failure told again without compiling.
 * @param {string} recordFile
 * @returns {BuildRecord | undefined}
 */
function keptRecord(recordFile) {
  /** @type {BuildRecord} */
  let record;
  try {
    record = JSON.parse(readFileSync(recordFile, 'utf8'));
  } catch {
    return undefined;
  }
  for (const [file, hash] of Object.entries(record.files ?? {})) {
    if (fileHash(file) !== hash) return undefined;
  }
  const listings = new Map();
  for (const [lookup, hash] of Object.entries(record.lookups ?? {})) {
    const [folder, name] = lookup.split('\0');
    if (lookupHash(folder, name, listings) !== hash) return undefined;
  }
  return record;
}

/**
 * Compiles the program into a folder of its own under `cacheDir`, named by what it was made
 * from: written whole under a staging name, then renamed, so a folder that exists is
 * complete, and two processes compiling the same sources agree on it. A build esbuild refuses
 * gives a record of the failure instead. `keep` is false when the record cannot vouch for what
 * esbuild read (see `unsure` in sourcesAsRead and recordedFiles).
 * @param {string} cacheDir
 * @param {string | undefined} fleetFile
 * @param {Readonly<Record<string, string>>} entries
 * @returns {Promise<{ record: BuildRecord, keep: boolean }>}
 */
async function compile(cacheDir, fleetFile, entries) {
  const startedMs = Date.now();
  const staging = join(cacheDir, `.staging-${process.pid}-${randomUUID()}`);
  // First, so that a folder that cannot be written costs no more than this.
  mkdirSync(staging, { recursive: true });
  /** @type {Map<string, string>} */
  const read = new Map();
  /** @type {Map<string, string>} */
  const lookups = new Map();
  /** @type {string[]} */
  const unsure = [];
  const recordOf = (/** @type {Pick<BuildRecord, 'failed'>} */ outcome) => {
    const inputs = [...read.keys()];
    for (const input of inputs) addLookup(lookups, dirname(input), basename(input, extname(input)));
    const files = recordedFiles(inputs, read, unsure);
    const settledAll = Object.keys(files).filter((file) => !read.has(file)).every((file) => settled(file, startedMs))
      && [...lookups.keys()].every((lookup) => settled(lookup.split('\0')[0], startedMs, 'folder'));
    return { record: { ...outcome, fleetFile, ...(Object.keys(entries).length > 0 ? { entries } : {}), files, lookups: Object.fromEntries([...lookups].sort()) }, keep: settledAll && unsure.length === 0 };
  };
  // By the name of each compiled file: part of the build's name, as two builds may read the same
  // files for different entry points.
  const entryPoints = {
    cli: join(ROOT, 'cli', 'index.ts'),
    'synth-worker': join(ROOT, 'engine', 'synth-worker-main.ts'),
    ...(fleetFile ? { fleet: fleetFile } : {}),
    ...entries,
  };
  try {
    const { build } = await import('esbuild');
    let result;
    try {
      result = await build({
        entryPoints,
        absWorkingDir: ROOT,
        outdir: staging,
        bundle: true,
        // Each module is kept once, shared by the entries, and modules imported lazily stay
        // lazy (cdk8s is loaded only by commands that render).
        splitting: true,
        chunkNames: 'chunk-[hash]',
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        // As node and tsx look for an import without an extension: x.ts before x.tsx.
        resolveExtensions: ['.ts', '.tsx', '.jsx', '.js', '.css', '.json'],
        // Every import runs, as in node: no module is left out for a package.json's
        // `sideEffects` or a `__PURE__` comment.
        ignoreAnnotations: true,
        // Class names are part of every environment's input hash (see inputText), and a bundle
        // would otherwise rename classes whose names collide across files.
        keepNames: true,
        // Each module's own (see sourcesAsRead): the catalog and the schemas are found
        // relative to the file that names them.
        define: Object.fromEntries(Object.entries(META).map(([name, variable]) => [`import.meta.${name}`, variable])),
        // Read only to report a bug (see original-stack.ts).
        sourcemap: 'linked',
        banner: { js: BANNER },
        metafile: true,
        logLevel: 'silent',
        // A name imported from a module with no export at all (a site file that forgot its
        // `export`) is a mistake, as node says, not a CommonJS module's undefined property.
        logOverride: { 'import-is-undefined': 'error' },
        plugins: [sourcesAsRead(read, lookups, unsure)],
      });
    } catch (e) {
      // A refusal caused by the sources (a syntax error, an import that finds nothing, the
      // plugin's refusals) holds until a file changes; anything else (esbuild itself, a file
      // that could not be read or written) is tried again next time.
      if (!isSourceFailure(e)) throw e;
      return recordOf({ failed: /** @type {Error} */ (e).message });
    }
    const cycle = importCycle(result.metafile);
    if (cycle) return recordOf({ failed: `${cycle.join(' → ')} import each other in a cycle, where a bundle would let a module read another's value before it is set (node throws): run from source` });
    const unread = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith(`${META_NAMESPACE}:`) && !input.startsWith(`${COMMONJS_NAMESPACE}:`))
      .map((input) => resolve(ROOT, input)).filter((input) => !read.has(input));
    if (unread.length > 0) throw new Error(`esbuild read ${unread.join(', ')} itself; cannot tell when to compile again`);
    const outputs = Object.keys(result.metafile.outputs).map((output) => relative(staging, resolve(ROOT, output))).sort();
    const { record, keep } = recordOf({});
    const name = sha256(JSON.stringify([recipe(), entryPoints, outputs, record.files, record.lookups])).slice(0, 32);
    const dir = join(cacheDir, name);
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Compiled before from the same sources (by another process, or before an edit undone):
      // the same program, marked used so that no one prunes it now.
      if (!existsSync(join(dir, 'cli.js'))) throw e;
      markUsed(dir);
    }
    return { record: { build: name, ...record }, keep };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Whether esbuild's rejection `error` is caused by the sources alone: each message either
 * points into a source and is esbuild's own, or is one of sourcesAsRead's refusals.
 * @param {unknown} error
 * @returns {boolean}
 */
function isSourceFailure(error) {
  const messages = /** @type {{ errors?: import('esbuild').Message[] }} */ (error).errors;
  return Array.isArray(messages) && messages.length > 0
    && messages.every((m) => m.detail === REFUSAL || (m.location !== null && !m.pluginName && !m.text.startsWith('Failed to write')));
}

/**
 * An esbuild plugin that notes what the build depends on and keeps this file out of it.
 * - Every source is read here, and the sha256 of the text handed over noted in `read` (so a
 *   file changed during the build is compiled again next time).
 * - Every import of a path notes in `lookups` what the places esbuild looks in hold, just
 *   before it looks: `<dir>/<name>` and `<dir>/<name>.*`, and in `<dir>/<name>/` the index and
 *   package.json files.
 * - What the record cannot follow is noted in `unsure`, and such a build is never kept: a
 *   path built at run time (`` import(`./x/${name}`) ``, which esbuild turns into every file it
 *   may name), and a `#name` import (package.json `imports`).
 * - `import.meta.url` (and `dirname`, `filename`) keep meaning the file they are written in,
 *   where a bundle would give every module the bundle's URL: each ES module that uses them
 *   imports them (see META), and esbuild puts them where the expressions stand (not in
 *   strings). Any other use of `import.meta`, or of the names META keeps, stops the build.
 * - A package imported from outside siteforge's folder (or from a folder in it with its own
 *   node_modules) stops the build: it must resolve from the importing file's folder, not from
 *   the program's.
 * @param {Map<string, string>} read
 * @param {Map<string, string>} lookups
 * @param {string[]} unsure
 * @returns {import('esbuild').Plugin}
 */
function sourcesAsRead(read, lookups, unsure) {
  return {
    name: 'sources-as-read',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${META_NAMESPACE}:`) }, (args) => ({ path: args.path.slice(META_NAMESPACE.length + 1), namespace: META_NAMESPACE }));
      build.onResolve({ filter: /^[./]/ }, (args) => {
        const target = isAbsolute(args.path) ? args.path : resolve(args.resolveDir, args.path);
        if (target === THIS_FILE) return { path: pathToFileURL(THIS_FILE).href, external: true };
        addLookup(lookups, dirname(target), basename(target));
        // An import of x.js looks for x.ts too (see TYPESCRIPT_FOR).
        if (/\.[mc]?jsx?$/.test(target)) addLookup(lookups, dirname(target), basename(target, extname(target)));
        addLookup(lookups, target, 'index');
        addLookup(lookups, target, 'package.json');
        const typescript = (TYPESCRIPT_FOR[extname(target)] ?? []).map((ext) => target.slice(0, -extname(target).length) + ext).find(isFile);
        return typescript === undefined ? undefined : { path: typescript };
      });
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('#')) unsure.push(`${args.importer} imports ${args.path}`);
        if (args.importer === '' || isBuiltin(args.path)) return undefined;
        if (!resolvesFromRoot(args.importer, lookups)) {
          return { errors: [{ text: `${args.importer} imports the package ${args.path}, which must resolve from its own folder`, detail: REFUSAL }] };
        }
        return isCommonJsPackage(args.path, read) ? { path: args.path, namespace: COMMONJS_NAMESPACE } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: COMMONJS_NAMESPACE }, (args) => ({
        contents: `module.exports = ${REQUIRE}(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
      build.onLoad({ filter: /.*/, namespace: META_NAMESPACE }, (args) => ({
        contents: `export const url = ${JSON.stringify(pathToFileURL(args.path).href)}, dirname = ${JSON.stringify(dirname(args.path))}, filename = ${JSON.stringify(args.path)};`,
        loader: 'js',
      }));
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        const loader = LOADERS[/** @type {keyof typeof LOADERS} */ (extname(args.path))];
        if (!loader) return undefined;
        const text = readFileSync(args.path, 'utf8');
        read.set(args.path, sha256(text));
        const runtime = runtimeImports(text);
        if (runtime.built) unsure.push(`${args.path} imports a path built at run time`);
        if (runtime.opaque && !isOwnCode(args.path)) {
          return { errors: [{ text: `${args.path} imports a module named by an expression (import(x)), which a compiled program cannot find as the sources do: run from source`, detail: REFUSAL }] };
        }
        if (/\bimport\.meta\b(?!\.(?:url|dirname|filename)\b)/.test(text)) {
          return { errors: [{ text: `${args.path} uses import.meta other than url, dirname or filename`, detail: REFUSAL }] };
        }
        if (text.includes('__siteforge_import_meta_') || text.includes(REQUIRE) || text.includes('__siteforge_createRequire')) {
          return { errors: [{ text: `${args.path} uses a name siteforge keeps for compiled modules (__siteforge_import_meta_*, ${REQUIRE}, __siteforge_createRequire)`, detail: REFUSAL }] };
        }
        if (!/\bimport\.meta\.(?:url|dirname|filename)\b/.test(text) || /\.c[jt]s$/.test(args.path)) return { contents: text, loader };
        // Imported at the end (imports are hoisted), so that every line and column stays where
        // it is for the source map.
        const names = Object.entries(META).map(([name, variable]) => `${name} as ${variable}`).join(', ');
        return { contents: `${text}\nimport { ${names} } from ${JSON.stringify(`${META_NAMESPACE}:${args.path}`)};\n`, loader };
      });
    },
  };
}

/**
 * How `text` imports at run time (`import(…)`, `require(…)`), past comments and parentheses:
 * `built`, a path built from a literal (`` import(`./x/${name}`) ``, `import('./x/' + name)`),
 * which esbuild turns into every file it may name; `opaque`, any other expression, which it
 * leaves to run time, where a path would be looked up from the program's folder. The words in
 * a string or comment count too: at worst a fleet runs from source.
 * @param {string} text
 * @returns {{ built: boolean, opaque: boolean }}
 */
function runtimeImports(text) {
  const found = { built: false, opaque: false };
  const call = /\b(?:import|require)\s*\(/g;
  for (let match = call.exec(text); match !== null; match = call.exec(text)) {
    // The argument, past what does not change it: spaces, comments, opening parentheses.
    const argument = text.slice(match.index + match[0].length).replace(/^(?:\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*\n|\()*/, '');
    if (/^(['"])(?:(?!\1)[^\\\n]|\\.)*\1\s*[),]/.test(argument)) continue;
    if (/^`|^(['"])(?:(?!\1)[^\\\n]|\\.)*\1\s*\+/.test(argument)) found.built = true;
    else found.opaque = true;
  }
  return found;
}

/**
 * The first cycle of static imports among a build's modules outside siteforge's own code
 * (see OWN_CODE), as the files in it; undefined when there is none. Node evaluates such modules
 * with their bindings uninitialized until set, and throws on an early read; a bundle turns
 * them into variables that read as undefined, so the program would run on where the sources
 * stop.
 * @param {import('esbuild').Metafile} metafile
 * @returns {string[] | undefined}
 */
function importCycle(metafile) {
  const checked = (/** @type {string} */ input) => metafile.inputs[input] !== undefined && !isOwnCode(resolve(ROOT, input));
  /** @type {Map<string, 'open' | 'done'>} */
  const seen = new Map();
  /** @type {string[]} */
  const path = [];
  /** @returns {string[] | undefined} */
  const visit = (/** @type {string} */ input) => {
    seen.set(input, 'open');
    path.push(input);
    for (const { path: next, kind } of metafile.inputs[input].imports) {
      if (kind !== 'import-statement' || !checked(next)) continue;
      if (seen.get(next) === 'open') return [...path.slice(path.indexOf(next)), next].map((file) => resolve(ROOT, file));
      const cycle = seen.has(next) ? undefined : visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    seen.set(input, 'done');
    return undefined;
  };
  for (const input of Object.keys(metafile.inputs).filter(checked).sort()) {
    const cycle = seen.has(input) ? undefined : visit(input);
    if (cycle) return cycle;
  }
  return undefined;
}

/** @param {string} path */
function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether a package imported by `file` resolves as it would from siteforge's folder (where the
 * program is written): `file` is inside it, with no node_modules folder between (a lookup
 * each, so that one made later is noticed).
 * @param {string} file
 * @param {Map<string, string>} lookups
 * @returns {boolean}
 */
function resolvesFromRoot(file, lookups) {
  if (!file.startsWith(ROOT) || file.includes(`${sep}node_modules${sep}`)) return false;
  // ROOT ends with a separator; the folders between stop short of it.
  for (let dir = dirname(file); dir !== ROOT.slice(0, -1); dir = dirname(dir)) {
    addLookup(lookups, dir, 'node_modules');
    if (existsSync(join(dir, 'node_modules'))) return false;
  }
  return true;
}

/**
 * Whether the package `specifier` names, as required from siteforge's folder, is CommonJS:
 * `require` finds it, in a `.cjs` file or a `.js` file whose package is not `type: module`.
 * The package.json that says so is noted in `read`, so a build is made again when it changes.
 * @param {string} specifier
 * @param {Map<string, string>} read
 * @returns {boolean}
 */
function isCommonJsPackage(specifier, read) {
  let file;
  try {
    file = createRequire(join(ROOT, 'package.json')).resolve(specifier);
  } catch {
    return false; // ESM only, or not there: node's import finds it, or says why
  }
  const found = nearestPackageJson(file);
  if (!found) return file.endsWith('.cjs') || file.endsWith('.js');
  read.set(found.file, sha256(found.text));
  if (file.endsWith('.cjs')) return true;
  return file.endsWith('.js') && JSON.parse(found.text).type !== 'module';
}

/**
 * The package.json node reads the module type of `file` from: the nearest one in its folder
 * or a folder above; undefined when there is none.
 * @param {string} file
 * @returns {{ file: string, text: string } | undefined}
 */
export function nearestPackageJson(file) {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const packageFile = join(dir, 'package.json');
    if (existsSync(packageFile)) return { file: packageFile, text: readFileSync(packageFile, 'utf8') };
    if (dir === dirname(dir)) return undefined;
  }
}

/**
 * The files a build from `inputs` (hashed as read) depends on besides them: for each, the
 * package.json in its folder and every folder above, and the tsconfig.json and jsconfig.json
 * from its folder up to the nearest one there is (the one esbuild reads), with every file that
 * one extends. A tsconfig with `paths` or `baseUrl`, or one extending a package's, is noted
 * in `unsure`: imports then look in places the record does not follow.
 * @param {readonly string[]} inputs
 * @param {ReadonlyMap<string, string>} read
 * @param {string[]} unsure
 * @returns {Record<string, string | null>}
 */
function recordedFiles(inputs, read, unsure) {
  /** @type {Record<string, string | null>} */
  const files = {};
  const addTsconfig = (/** @type {string} */ file) => {
    if (file in files) return;
    const raw = readText(file);
    files[file] = raw === undefined ? null : sha256(raw);
    const text = withoutComments(raw ?? '');
    if (/"(paths|baseUrl)"\s*:/.test(text)) unsure.push(`${file} maps imports`);
    for (const base of extendedConfigs(file, text)) {
      if (base === undefined) unsure.push(`${file} extends a config it does not name by path`);
      else addTsconfig(base);
    }
  };
  for (const input of [...inputs].sort()) {
    files[input] = /** @type {string} */ (read.get(input));
    let tsconfigFound = false;
    for (let dir = dirname(input); ; dir = dirname(dir)) {
      files[join(dir, 'package.json')] ??= fileHash(join(dir, 'package.json'));
      for (const file of tsconfigFound ? [] : [join(dir, 'tsconfig.json'), join(dir, 'jsconfig.json')]) {
        if (!existsSync(file)) {
          files[file] ??= null;
          continue;
        }
        addTsconfig(file);
        tsconfigFound = true;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return files;
}

/**
 * Whether `path` last changed at least SETTLE_MS before `startedMs`, or is not there (or, for
 * a `folder`, is no folder). A time more than a minute ahead of the clock is a clock set
 * elsewhere (a file unpacked from an archive), which says nothing about when it changed.
 * @param {string} path
 * @param {number} startedMs
 * @param {'file' | 'folder'} [kind]
 * @returns {boolean}
 */
function settled(path, startedMs, kind = 'file') {
  try {
    const stat = statSync(path);
    if (kind === 'folder' && !stat.isDirectory()) return true;
    return stat.mtimeMs < startedMs - SETTLE_MS || stat.mtimeMs > Date.now() + 60_000;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT' || /** @type {NodeJS.ErrnoException} */ (e).code === 'ENOTDIR';
  }
}

/**
 * The files the tsconfig `file` (its `text` without comments) extends; undefined for one named
 * otherwise than by path (a package's), which is not followed.
 * @param {string} file
 * @param {string} text
 * @returns {(string | undefined)[]}
 */
function extendedConfigs(file, text) {
  const extendsValue = /"extends"\s*:\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\])/.exec(text)?.[1];
  if (extendsValue === undefined) return /"extends"/.test(text) ? [undefined] : [];
  let names;
  try {
    names = [JSON.parse(extendsValue)].flat();
  } catch {
    return [undefined];
  }
  return names.map((name) => {
    if (typeof name !== 'string' || !/^\.{0,2}\//.test(name)) return undefined;
    const base = resolve(dirname(file), name);
    return existsSync(base) || extname(base) === '.json' ? base : `${base}.json`;
  });
}

/**
 * `text` (JSON with comments, as tsconfig.json is) without its comments.
 * @param {string} text
 * @returns {string}
 */
function withoutComments(text) {
  return text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_, string) => string ?? '');
}

/**
 * Notes in `lookups` what a lookup of `name` in `folder` finds now.
 * @param {Map<string, string>} lookups
 * @param {string} folder
 * @param {string} name
 */
function addLookup(lookups, folder, name) {
  const key = `${folder}\0${name}`;
  if (!lookups.has(key)) lookups.set(key, lookupHash(folder, name, new Map()));
}

/**
 * sha256 of what a lookup of `name` in `folder` can find: the folder's real path, and each
 * entry named `name` or `name.*` with its type (a link: the real path it leads to, through
 * every link on the way; a package.json: its content). `listings` keeps the folders this
 * caller read.
 * @param {string} folder
 * @param {string} name
 * @param {Map<string, { real: string, entries: import('node:fs').Dirent[] } | null>} listings
 * @returns {string}
 */
function lookupHash(folder, name, listings) {
  if (!listings.has(folder)) {
    try {
      listings.set(folder, { real: realpathSync(folder), entries: readdirSync(folder, { withFileTypes: true }) });
    } catch {
      listings.set(folder, null);
    }
  }
  const listing = listings.get(folder);
  if (!listing) return '';
  const found = listing.entries.filter((e) => e.name === name || e.name.startsWith(`${name}.`)).map((e) => {
    const path = join(folder, e.name);
    const kind = e.isSymbolicLink() ? `link ${realPathOf(path)}` : e.isDirectory() ? 'folder' : e.name === 'package.json' ? `file ${fileHash(path)}` : 'file';
    return `${e.name}\0${kind}`;
  });
  return sha256([listing.real, ...found.sort()].join('\n'));
}

/**
 * @param {string} path
 * @returns {string}
 */
function realPathOf(path) {
  try {
    return realpathSync(path);
  } catch {
    return '(dangling)';
  }
}

/**
 * Marks the build `dir` used now: pruning goes by it. A cache that cannot be written is never
 * pruned either.
 * @param {string} dir
 */
function markUsed(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // Read-only: nothing removes the build.
  }
}

/**
 * Removes what no run will use again from `cacheDir` (never `current`): the records of builds
 * whose fleet module or an entry point is gone, the builds no record names once unused for
 * REPLACED_BUILD_LIFETIME_MS, and any build unused for UNUSED_BUILD_LIFETIME_MS. A folder is
 * renamed first, so it is never seen half removed.
 * @param {string} cacheDir
 * @param {string} current
 */
function pruneUnusedBuilds(cacheDir, current) {
  try {
    const now = Date.now();
    const named = new Set();
    const entries = readdirSync(cacheDir, { withFileTypes: true });
    for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith('.json'))) {
      const file = join(cacheDir, entry.name);
      /** @type {BuildRecord | undefined} */
      let record;
      try {
        record = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        continue; // being replaced: its build is named by the one that replaces it
      }
      const modules = [record?.fleetFile, ...Object.values(record?.entries ?? {})].filter((module) => module !== undefined);
      if (!modules.every((module) => existsSync(module))) rmSync(file, { force: true });
      else if (record?.build) named.add(record.build);
    }
    // Staging and removal folders left by a killed process are named by no record either.
    for (const entry of entries.filter((e) => e.isDirectory() && e.name !== current)) {
      const dir = join(cacheDir, entry.name);
      const unusedMs = now - statSync(dir).mtimeMs;
      if (unusedMs < (named.has(entry.name) ? UNUSED_BUILD_LIFETIME_MS : REPLACED_BUILD_LIFETIME_MS)) continue;
      const doomed = join(cacheDir, `.removed-${process.pid}-${randomUUID()}`);
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
    }
  } catch {
    // What is not removed now is removed after the next build.
  }
}

/**
 * The recipe every build follows: this file, esbuild's version, and siteforge's folder (a
 * copy of siteforge compiles its own). Part of every build's name and record, so a change to
 * any of them compiles everything again.
 * @returns {string}
 */
function recipe() {
  const esbuild = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  return `${sha256(readFileSync(THIS_FILE, 'utf8'))} esbuild@${esbuild} ${ROOT}`;
}

/**
 * @param {string} file
 * @returns {string | null}
 */
function fileHash(file) {
  const text = readText(file);
  return text === undefined ? null : sha256(text);
}

/**
 * @param {string} file
 * @returns {string | undefined}
 */
function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * @param {string} text
 * @returns {string}
 */
function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}
