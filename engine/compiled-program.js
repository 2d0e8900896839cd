// @ts-check
// Plain JavaScript: bin/siteforge.js runs this before any TypeScript can be loaded.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keepFile } from '../catalog/kept-file.js';

/** siteforge's folder: bare imports in a program written under it resolve to its packages. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where compiled programs are kept, one folder per build, never changed once written. */
export const PROGRAM_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'siteforge', 'program');

/** The fleet module commands load when `--fleet` is not given. */
export const DEFAULT_FLEET = 'sites/index.ts';

/** A build not used for this long is removed when another is written. */
const UNUSED_BUILD_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** Files beside a source or above it that change how esbuild reads it. */
const CONFIG_FILES = ['package.json', 'tsconfig.json', 'jsconfig.json'];

const LOADERS = /** @type {const} */ ({ '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.json': 'json' });

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
 * @property {boolean} built whether this call compiled it (false: it was kept from before)
 */

/**
 * @typedef {object} BuildRecord
 * What a build was made from, checked before it is used: it is used only while every file
 * still holds what it held (or is still absent), and every folder of a source still lists the
 * same names (a new file there could change what an import finds).
 * @property {string} build the build's folder name
 * @property {Record<string, string | null>} files sha256 of each file read, null for a file that was absent
 * @property {Record<string, string>} folders sha256 of the sorted names in each folder of a source
 */

/**
 * siteforge's program compiled with the fleet module `fleetFile` (an absolute path; none:
 * siteforge alone), from `cacheDir` when a build there was made from the files as they are now,
 * else compiled by esbuild (some 0.2 s) and kept. Loading it takes some 0.3 s less than running
 * the TypeScript through tsx's loader, and less memory. Throws when esbuild cannot compile it:
 * a syntax error, or a fleet module outside siteforge's folder that imports a package (whose
 * import must resolve from the fleet's folder, so it is run from source instead).
 *
 * @param {{ readonly fleetFile?: string, readonly cacheDir?: string }} options
 * @returns {Promise<CompiledProgram>}
 */
export async function compiledProgram({ fleetFile, cacheDir = PROGRAM_CACHE_DIR }) {
  const recordFile = join(cacheDir, `${sha256(`${recipe()}\0${fleetFile ?? ''}`).slice(0, 32)}.json`);
  const kept = keptBuild(cacheDir, recordFile);
  if (kept) return programIn(join(cacheDir, kept), fleetFile, false);
  const build = await compile(cacheDir, fleetFile);
  keepFile(recordFile, `${JSON.stringify(build)}\n`);
  pruneUnusedBuilds(cacheDir);
  return programIn(join(cacheDir, build.build), fleetFile, true);
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
 * @param {boolean} built
 * @returns {CompiledProgram}
 */
function programIn(dir, fleetFile, built) {
  const url = (/** @type {string} */ name) => pathToFileURL(join(dir, name)).href;
  return { dir, cli: url('cli.js'), synthWorker: url('synth-worker.js'), fleetFile, fleet: fleetFile ? url('fleet.js') : undefined, built };
}

/**
 * The folder name of the build `recordFile` names when it may be used, its files and folders
 * as they were; marks it used.
 * @param {string} cacheDir
 * @param {string} recordFile
 * @returns {string | undefined}
 */
function keptBuild(cacheDir, recordFile) {
  /** @type {BuildRecord} */
  let record;
  try {
    record = JSON.parse(readFileSync(recordFile, 'utf8'));
  } catch {
    return undefined;
  }
  const dir = join(cacheDir, record.build ?? '');
  if (!record.build || !existsSync(join(dir, 'cli.js'))) return undefined;
  for (const [file, hash] of Object.entries(record.files ?? {})) {
    if (fileHash(file) !== hash) return undefined;
  }
  for (const [folder, hash] of Object.entries(record.folders ?? {})) {
    if (folderHash(folder) !== hash) return undefined;
  }
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // Only pruning reads the mark; a build in use is younger than UNUSED_BUILD_LIFETIME_MS anyway.
  }
  return record.build;
}

/**
 * Compiles the program into a folder of its own under `cacheDir`, named by what it was made
 * from: written whole under a staging name, then renamed, so a folder that exists is
 * complete, and two processes compiling the same sources agree on it.
 * @param {string} cacheDir
 * @param {string | undefined} fleetFile
 * @returns {Promise<BuildRecord>}
 */
async function compile(cacheDir, fleetFile) {
  // First, so that a folder that cannot be written costs no more than this.
  mkdirSync(cacheDir, { recursive: true });
  const { build } = await import('esbuild');
  /** @type {Map<string, string>} */
  const read = new Map();
  const staging = join(cacheDir, `.staging-${process.pid}-${randomUUID()}`);
  try {
    const result = await build({
      entryPoints: {
        cli: join(ROOT, 'cli', 'index.ts'),
        'synth-worker': join(ROOT, 'engine', 'synth-worker-main.ts'),
        ...(fleetFile ? { fleet: fleetFile } : {}),
      },
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
      // Class names are part of every environment's input hash (see inputText), and a bundle
      // would otherwise rename classes whose names collide across files.
      keepNames: true,
      metafile: true,
      sourcemap: 'linked',
      logLevel: 'silent',
      plugins: [sourcesAsRead(read)],
    });
    const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input));
    const unread = inputs.filter((input) => !read.has(input));
    if (unread.length > 0) throw new Error(`esbuild read ${unread.join(', ')} itself; cannot tell when to compile again`);
    const record = buildRecord(inputs, read);
    const outputs = Object.keys(result.metafile.outputs).map((output) => relative(staging, resolve(ROOT, output))).sort();
    const name = sha256(JSON.stringify([recipe(), outputs, record.files])).slice(0, 32);
    const dir = join(cacheDir, name);
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Another process compiled the same sources first: its folder is the same program.
      if (!existsSync(join(dir, 'cli.js'))) throw e;
    }
    return { ...record, build: name };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * An esbuild plugin that reads every source itself, noting the sha256 of the text it hands
 * over in `read` (so a file changed during the build is compiled again next time), and keeps
 * `import.meta.url` (and `dirname`, `filename`) meaning the file it is written in: the catalog
 * and the schemas are found relative to it, where a bundle would give every module the
 * bundle's URL. A package imported from outside siteforge's folder stops the build: it must
 * resolve from the importing file's folder, not from the program's.
 * @param {Map<string, string>} read
 * @returns {import('esbuild').Plugin}
 */
function sourcesAsRead(read) {
  return {
    name: 'sources-as-read',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.importer === '' || isBuiltin(args.path) || args.importer.startsWith(ROOT)) return undefined;
        return { errors: [{ text: `${args.importer} imports the package ${args.path}, which must resolve from its own folder` }] };
      });
      build.onLoad({ filter: /.*/ }, (args) => {
        const loader = LOADERS[/** @type {keyof typeof LOADERS} */ (extname(args.path))];
        if (!loader) return undefined;
        const text = readFileSync(args.path, 'utf8');
        read.set(args.path, sha256(text));
        const contents = args.path.includes(`${sep}node_modules${sep}`) ? text : text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents, loader };
      });
    },
  };
}

/**
 * The record of a build from `inputs` (hashed as read): the sources, the config files in
 * their folders and every folder above, and the names in each source's folder.
 * @param {readonly string[]} inputs
 * @param {ReadonlyMap<string, string>} read
 * @returns {Omit<BuildRecord, 'build'>}
 */
function buildRecord(inputs, read) {
  /** @type {Record<string, string | null>} */
  const files = {};
  /** @type {Record<string, string>} */
  const folders = {};
  for (const input of [...inputs].sort()) {
    files[input] = /** @type {string} */ (read.get(input));
    folders[dirname(input)] ??= folderHash(dirname(input));
    for (let dir = dirname(input); ; dir = dirname(dir)) {
      for (const name of CONFIG_FILES) files[join(dir, name)] ??= fileHash(join(dir, name));
      if (dirname(dir) === dir) break;
    }
  }
  return { files, folders };
}

/**
 * Removes builds under `cacheDir` not used for UNUSED_BUILD_LIFETIME_MS: renamed first, so a
 * folder is never seen half removed.
 * @param {string} cacheDir
 */
function pruneUnusedBuilds(cacheDir) {
  try {
    const oldest = Date.now() - UNUSED_BUILD_LIFETIME_MS;
    for (const entry of readdirSync(cacheDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(cacheDir, entry.name);
      if (statSync(dir).mtimeMs >= oldest) continue;
      const doomed = join(cacheDir, `.removed-${process.pid}-${randomUUID()}`);
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
    }
  } catch {
    // What is not removed now is removed after the next build.
  }
}

/**
 * The recipe every build follows: this file and esbuild's version. Part of every build's
 * name and record, so a change to either compiles everything again.
 * @returns {string}
 */
function recipe() {
  const esbuild = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  return `${sha256(readFileSync(fileURLToPath(import.meta.url), 'utf8'))} esbuild@${esbuild}`;
}

/**
 * @param {string} file
 * @returns {string | null}
 */
function fileHash(file) {
  try {
    return sha256(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * @param {string} folder
 * @returns {string}
 */
function folderHash(folder) {
  try {
    return sha256(readdirSync(folder).sort().join('\0'));
  } catch {
    return '';
  }
}

/**
 * @param {string} text
 * @returns {string}
 */
function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}
