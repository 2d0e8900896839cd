import { basename, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Construct, RootConstruct } from 'constructs';
import type { Environment, Site } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { fleetFileOf, isOwnCode, nearestPackageJson, type CompiledProgram } from './compiled-program.js';
import { UserError, UserErrors, userErrorsOf } from './errors';
import { shownValue } from '../constructs/errors';
import { didYouMean } from '../constructs/names';
import { originalStack } from './original-stack';

/** The fleet a command works on, narrowed by `--site` and `--env`. */
export interface Selection {
  /** @default - every site */
  readonly site?: string;
  /** @default - every environment */
  readonly env?: string;
}

/** The site definitions `selection` names; an unknown site is an error listing the known ones. */
export function selectSites(fleet: readonly SiteDefinition[], selection: Selection): SiteDefinition[] {
  if (selection.site === undefined) return [...fleet];
  const chosen = fleet.filter((d) => d.name === selection.site);
  if (chosen.length === 0) {
    throw new UserError(`unknown site ${JSON.stringify(selection.site)}${didYouMean(selection.site, fleet.map((d) => d.name))}; the fleet has ${fleet.map((d) => d.name).join(', ') || 'no sites'}`);
  }
  return chosen;
}

/** The environments of `site` that `selection` names. */
export function selectEnvironments(site: Site, selection: Selection): Environment[] {
  const envs = site.environments;
  if (selection.env === undefined) return envs;
  const chosen = envs.filter((e) => e.name === selection.env);
  if (chosen.length === 0 && selection.site !== undefined) {
    throw new UserError(`site ${site.name} has no environment ${JSON.stringify(selection.env)}${didYouMean(selection.env, envs.map((e) => e.name))}; it has ${envs.map((e) => e.name).join(', ')}`);
  }
  return chosen;
}

/**
 * Builds one site in a construct tree of its own and checks the whole tree, throwing every
 * problem at once. The tree is dropped by the caller once rendered, so the fleet is never held
 * in memory whole.
 */
export function buildSite(definition: SiteDefinition, catalog: Catalog): Site {
  let site: Site;
  // A plain root: the model needs no cdk8s App (renderers make their own), and commands that
  // only build sites (`sites`) then never load cdk8s.
  const root = new RootConstruct();
  try {
    site = definition.build(root, catalog);
  } catch (e) {
    // The site definition's own code failing (say `undefined.x`) is its mistake, not siteforge's.
    const where = fleetFrame(e);
    if (where !== undefined && userErrorsOf(e).length === 0) throw new UserError(`site ${definition.name}: its build failed: ${(e as Error).name}: ${(e as Error).message} (at ${where})`);
    // An error that names no place in the site (catalog.service('mysq')) is given the site's name.
    const named = [definition.name, JSON.stringify(definition.name).slice(1, -1), '(unnamed)'];
    // and where in the fleet's code it was called.
    if (e instanceof UserError && !(e instanceof UserErrors) && !named.some((name) => e.message.startsWith(name))) {
      const caller = fleetCaller(e);
      throw new UserError(`site ${definition.name}: ${e.message}${caller === undefined ? '' : ` (at ${caller})`}`);
    }
    throw e;
  }
  if (!(site instanceof Construct) || typeof (site as Partial<Site>).name !== 'string' || !Array.isArray((site as Partial<Site>).environments)) {
    // An async build's own failure would otherwise end the process later, with a stack.
    if (site instanceof Promise) site.catch(() => undefined);
    const async = site instanceof Promise ? ': build runs synchronously, so it cannot be async; await what it needs at the top level of its module instead' : '';
    throw new UserError(`site definition ${JSON.stringify(definition.name)}: build must return the Site it made (new Site(scope, …)), got ${shownValue(site)}${async}`);
  }
  if (site.name !== definition.name) {
    throw new UserError(`site definition ${JSON.stringify(definition.name)} built a site named ${JSON.stringify(site.name)}; the two must match`);
  }
  // Only the site returned is synthesized: another made beside it would vanish in silence.
  const others = root.node.children.filter((c) => c !== site).map((c) => c.node.id);
  if (others.length > 0) {
    const named = others.join(', ');
    throw new UserError(`site definition ${JSON.stringify(definition.name)} made ${named} beside the site ${site.name} it returned, which would not be synthesized; a definition builds one site: give ${others.length === 1 ? named : 'each'} a site definition of its own in the fleet`);
  }
  const problems = site.node.findAll().flatMap((c) => c.node.validate());
  UserErrors.throwIfAny(problems.map((p) => new UserError(p)));
  return site;
}

/**
 * Builds every selected site and collects every user error across them (a site stops at its
 * first construction error, but the other sites are still checked). Bugs are rethrown.
 */
export function validateFleet(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection = {}): UserError[] {
  const errors: UserError[] = [];
  let selected = 0;
  for (const definition of selectSites(fleet, selection)) {
    try {
      selected += selectEnvironments(buildSite(definition, catalog), selection).length;
    } catch (e) {
      const found = userErrorsOf(e);
      if (found.length === 0) throw e;
      errors.push(...found);
    }
  }
  if (errors.length === 0 && selected === 0 && selection.env !== undefined) errors.push(noSuchEnvironment(fleet, catalog, selection));
  return errors;
}

/**
 * The error of an `--env` that no selected site has (with `--site`, selectEnvironments says
 * it), naming the environments there are: the sites are built once more to read them, which
 * only this error pays for.
 */
export function noSuchEnvironment(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection): UserError {
  const names = new Set<string>();
  for (const definition of selectSites(fleet, { site: selection.site })) {
    try {
      for (const env of buildSite(definition, catalog).environments) names.add(env.name);
    } catch (e) {
      if (userErrorsOf(e).length === 0) throw e;
    }
  }
  const known = [...names].sort();
  const shown = known.length > MAX_LISTED ? `${known.slice(0, MAX_LISTED).join(', ')} and ${known.length - MAX_LISTED} more` : known.join(', ');
  return new UserError(`no site of the fleet has an environment ${JSON.stringify(selection.env)}${didYouMean(selection.env, known)}; the fleet's environments are ${shown || 'none'} (siteforge sites shows which site has which)`);
}

/** Names an error lists at most. */
const MAX_LISTED = 20;

/**
 * The fleet exported as `fleet` by the module at `path` (see fleetModuleFile). When siteforge
 * runs compiled (`compiled`), the fleet is imported from that build, which must hold it: so
 * its constructs are the CLI's own classes.
 */
export async function loadFleet(path: string, compiled?: CompiledProgram): Promise<{ readonly fleet: readonly SiteDefinition[]; readonly module: string }> {
  const file = fleetModuleFile(path);
  if (compiled && (compiled.fleetFile !== file || compiled.fleet === undefined)) {
    throw new UserError(`fleet module ${path}: siteforge compiled ${compiled.fleetFile ?? 'no fleet module'} when it started, reading --fleet from the command line before parsing it; give --fleet once, as --fleet <module>, or run with SITEFORGE_FROM_SOURCE=1`);
  }
  let module: { fleet?: unknown };
  try {
    module = await import(compiled?.fleet ?? pathToFileURL(file).href);
  } catch (e) {
    if (READ_AS_COMMONJS.has(String((e as { code?: unknown }).code))) reportedHere(e);
    // The same errors come from a dependency that requires an ES module: node's own message names it.
    if (READ_AS_COMMONJS.has(String((e as { code?: unknown }).code)) && readAsCommonJs(file)) {
      // Node reads any ES module there as CommonJS and fails alike, whatever its code holds; a
      // mistake in that code (which also kept siteforge from compiling it) is the one to fix.
      const mistakes = await compileErrors(file);
      if (mistakes !== undefined) throw new UserError(`fleet module ${path} cannot be loaded: ${mistakes}`);
      throw new UserError(`fleet module ${path} cannot be loaded: running from source, node reads ${basename(file)} as CommonJS (no package.json above it says "type": "module"), but it is written as an ES module; add "type": "module" to the package.json of its project, or name it ${basename(file).replace(/\.[cm]?[jt]sx?$/, '')}.mts`);
    }
    if (isLoadError(e) || isFleetRequireError(e)) throw new UserError(`fleet module ${path} cannot be loaded: ${(e as Error).message}`);
    const where = fleetFrame(e);
    if (where !== undefined) throw new UserError(`fleet module ${path} failed as it ran: ${(e as Error).name}: ${(e as Error).message} (at ${where})`);
    throw e;
  }
  return { fleet: fleetOf(commonJsExports(module), path), module: file };
}

/**
 * The exports of a fleet module, CommonJS ones included: compiled, a CommonJS module's
 * `module.exports` is its default export alone, and from source node finds its names only in
 * some forms (`exports.fleet = ...`, not `module.exports = { fleet: [...] }`).
 */
function commonJsExports(module: { fleet?: unknown; default?: unknown }): { fleet?: unknown } {
  if (module.fleet !== undefined || module.default === null || typeof module.default !== 'object') return module;
  return module.default as { fleet?: unknown };
}

/**
 * Codes of the errors of an ES module that node, running from source, reads as CommonJS: it
 * imports itself through `require` (node 20.19 on), or tsx cannot compile its top-level await.
 */
const READ_AS_COMMONJS = new Set(['ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ASYNC_MODULE']);

/**
 * What keeps the fleet module `file` and the modules it imports from compiling (a syntax
 * error, an import of a file or a name that is not there), each as `file:line:column: text`;
 * undefined when it compiles. Packages are not looked into.
 */
async function compileErrors(file: string): Promise<string | undefined> {
  const { build } = await import('esbuild');
  const cwd = process.cwd();
  try {
    await build({
      entryPoints: [file], bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent',
      absWorkingDir: cwd, resolveExtensions: ['.ts', '.tsx', '.jsx', '.js', '.json'], logOverride: { 'import-is-undefined': 'error' },
    });
    return undefined;
  } catch (e) {
    const messages = (e as { errors?: { text: string; location: { file: string; line: number; column: number } | null }[] }).errors;
    if (!Array.isArray(messages) || messages.length === 0) return undefined;
    return messages.map((m) => (m.location ? `${resolve(cwd, m.location.file)}:${m.location.line}:${m.location.column}: ` : '') + m.text).join('; ');
  }
}

/**
 * Whether node reads `file` as CommonJS: a .ts or .js file (not .mts or .mjs) whose nearest
 * package.json does not say "type": "module".
 */
function readAsCommonJs(file: string): boolean {
  if (!/\.[jt]sx?$/.test(file)) return false;
  const found = nearestPackageJson(file);
  try {
    return found === undefined || (JSON.parse(found.text) as { type?: unknown }).type !== 'module';
  } catch {
    return true;
  }
}

/**
 * Keeps node from reporting `error` a second time, with its stack, as an unhandled rejection:
 * node rejects a promise of its own loader with the error of an ES module it could not
 * `require`, unhandled, as well as the import. The listener goes once node has had its turn.
 */
function reportedHere(error: unknown): void {
  const ignore = (reason: unknown) => {
    if (reason !== error) throw reason;
  };
  process.on('unhandledRejection', ignore);
  setImmediate(() => process.off('unhandledRejection', ignore));
}

/** Codes of node's errors for an import it cannot find or load as written. */
const IMPORT_ERRORS = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT', 'ERR_UNKNOWN_FILE_EXTENSION', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_INVALID_MODULE_SPECIFIER', 'ERR_INVALID_PACKAGE_TARGET', 'ERR_PACKAGE_IMPORT_NOT_DEFINED']);

/**
 * Whether `error` says a module could not be compiled (tsx's TransformError), parsed or linked
 * (SyntaxError), or found: a mistake in the fleet's code, not in siteforge's, which is
 * type-checked.
 */
function isLoadError(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'TransformError' || error instanceof SyntaxError || IMPORT_ERRORS.has(String((error as { code?: unknown }).code)));
}

/**
 * Whether `error` is CommonJS's `require` of a fleet module finding nothing: node's
 * MODULE_NOT_FOUND, whose first requiring file is the fleet's (not siteforge's or a package's).
 */
function isFleetRequireError(error: unknown): boolean {
  const { code, requireStack } = error as { code?: unknown; requireStack?: unknown };
  return code === 'MODULE_NOT_FOUND' && Array.isArray(requireStack) && typeof requireStack[0] === 'string' && isFleetFile(requireStack[0]);
}

/**
 * Where in the fleet's own code `error` was thrown (`file:line:column` of its first frame,
 * in the sources), when it was: the fleet's code failed as it ran, say reading a value of a
 * module that imports it before it is set. Undefined when the first frame is siteforge's,
 * a package's or node's.
 */
function fleetFrame(error: unknown): string | undefined {
  const first = stackFrames(error)[0];
  return first !== undefined && isFleetFile(first.file) ? first.at : undefined;
}

/**
 * The place in the fleet's own code that called into siteforge when `error` was thrown
 * (`catalog.service('mysq')`): its innermost frame in a fleet file, in the sources.
 */
function fleetCaller(error: unknown): string | undefined {
  return stackFrames(error).find((f) => isFleetFile(f.file))?.at;
}

/** Whether `file` is the fleet's code: not siteforge's own, a package's or node's. */
function isFleetFile(file: string): boolean {
  return !isOwnCode(file) && !file.split(sep).includes('node_modules');
}

/** The frames of `error`'s stack that name a file, innermost first, in the sources. */
function stackFrames(error: unknown): { readonly file: string; readonly at: string }[] {
  if (!(error instanceof Error) || error.stack === undefined) return [];
  return [...originalStack(error.stack).matchAll(/^\s+at (?:.*\()?((?:file:\/\/)?\/[^\s()]+):(\d+):(\d+)\)?$/gm)].map((frame) => {
    const file = frame[1].startsWith('file://') ? fileURLToPath(frame[1]) : frame[1];
    return { file, at: `${file}:${frame[2]}:${frame[3]}` };
  });
}

/**
 * The file of the fleet module at `path` (relative to the working directory). The default,
 * `sites/index.ts`, falls back to siteforge's own example fleet when the working directory has
 * none.
 */
export function fleetModuleFile(path: string): string {
  const file = fleetFileOf(path);
  if (file === undefined) throw new UserError(`fleet module ${path} does not exist`);
  return file;
}

/** The `fleet` export of the module at `path`, checked: named site definitions, each once. */
export function fleetOf(module: { fleet?: unknown }, path: string): readonly SiteDefinition[] {
  if (!Array.isArray(module.fleet)) {
    throw new UserError(`fleet module ${path} must export \`fleet\`, an array of site definitions`);
  }
  // A synth of no sites would remove every environment repository of the output folder.
  if (module.fleet.length === 0) {
    throw new UserError(`fleet module ${path} exports an empty \`fleet\`; list at least one site definition (to remove every environment repository, delete the output folder)`);
  }
  const names = new Set<string>();
  for (const definition of module.fleet as SiteDefinition[]) {
    if (typeof definition?.name !== 'string' || typeof definition.build !== 'function') {
      throw new UserError(`fleet module ${path}: every entry of \`fleet\` needs a name and a build function`);
    }
    if (names.has(definition.name)) throw new UserError(`fleet module ${path}: site ${definition.name} is listed twice`);
    names.add(definition.name);
  }
  return module.fleet as SiteDefinition[];
}
