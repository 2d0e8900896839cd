import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Catalog } from '../catalog';
import type { Environment, Site } from '../constructs';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, UserErrors, userErrorsOf } from './errors';
import { buildSite, noSuchEnvironment, selectEnvironments, selectSites, type Selection } from './fleet';
import { assertSafeRemote } from './git';
import { isSafePath, readState, sha256, STATE_FILE, stateText } from './output';

/** Where the repository of one environment lives. */
export interface EnvironmentRemote {
  readonly site: string;
  readonly env: string;
  /** URL (or absolute path of a local bare repository) that git fetches from and pushes to. */
  readonly url: string;
  /** The site names no `gitRemote`: a local bare repository (under `<outDir>/.remotes/`, see remotesDir). */
  readonly local: boolean;
}

/** The folder of local bare repositories, for sites with no `gitRemote`. */
export function remotesDir(outDir: string): string {
  return join(resolve(outDir), '.remotes');
}

/**
 * The repository of every selected environment (for publish without synth, and diff; synth
 * reports them itself): the site's `gitRemote` with `{site}` and `{env}` filled in (checked:
 * no options, no transport helpers), or the local bare repository
 * `<outDir>/.remotes/<site>-<env>.git` when the site names none. Sites are built one at a time
 * to read their remotes; every user error is collected and thrown at once. Two environments
 * sharing one repository (`a-b/c` and `a/b-c` both make `a-b-c`) is an error naming both, as
 * each publish would replace the other's files; with a selection, the other sites whose names
 * could make the same repository name are built too.
 */
export function resolveRemotes(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection, outDir: string): Map<string, EnvironmentRemote> {
  const errors: UserError[] = [];
  const selected = remotesOf(selectSites(fleet, selection), catalog, selection, remotesDir(outDir), errors);
  UserErrors.throwIfAny(errors);
  if (selected.length === 0 && selection.env !== undefined) throw noSuchEnvironment(fleet, catalog, selection);
  UserErrors.throwIfAny(repositoryErrors(fleet, catalog, selection, remotesDir(outDir), selected));
  return new Map(selected.map((r) => [`${r.site}/${r.env}`, r]));
}

/**
 * An error for every repository of `selected` that publish would refuse: a filled-in
 * `gitRemote` that is not a URL siteforge hands to git (see assertSafeRemote), and every two
 * environments that would publish to one repository (see sharedRepositoryErrors).
 */
export function repositoryErrors(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection, localRemotes: string, selected: readonly EnvironmentRemote[]): UserError[] {
  const unsafe = selected.flatMap((remote) => {
    try {
      if (!remote.local) assertSafeRemote(remote.url, `${remote.site}/${remote.env}: gitRemote`);
      return [];
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return [e];
    }
  });
  return [...unsafe, ...sharedRepositoryErrors(fleet, catalog, selection, localRemotes, selected)];
}

/**
 * An error for every two environments that would publish to one repository, among `selected`
 * (the repositories of the environments `selection` names) and, with a selection, those of
 * the other sites of `fleet` whose names could make the same repository name (`a` for `a-b/c`),
 * built for it. `localRemotes` is the folder of the local bare repositories (see remotesDir).
 * Synth checks this too, so nothing is written that could not be published.
 */
function sharedRepositoryErrors(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection, localRemotes: string, selected: readonly EnvironmentRemote[]): UserError[] {
  const names = new Set(selected.map((r) => r.site));
  const prefixes = new Set(selected.flatMap((r) => `${r.site}-${r.env}`.split('-').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('-'))));
  const others = selection.site === undefined && selection.env === undefined ? []
    : remotesOf(fleet.filter((d) => !names.has(d.name) && prefixes.has(d.name)), catalog, {}, localRemotes, []);
  const errors: UserError[] = [];
  const byUrl = new Map<string, EnvironmentRemote>();
  for (const remote of [...selected, ...others]) {
    const other = byUrl.get(remote.url);
    if (other) errors.push(new UserError(`${other.site}/${other.env} and ${remote.site}/${remote.env} would publish to the same repository, ${remote.url}, each replacing the other's files: rename a site or an environment${remote.local ? '' : ', or give gitRemote a template that keeps them apart'}`));
    else byUrl.set(remote.url, remote);
  }
  return errors;
}

/**
 * The repository of `env`: its site's `gitRemote` filled in (unchecked), or the local bare
 * repository `<localRemotes>/<site>-<env>.git` when the site names none.
 */
export function remoteOf(site: Site, env: Environment, localRemotes: string): EnvironmentRemote {
  const local = site.gitRemote === undefined;
  return { site: site.name, env: env.name, url: local ? join(localRemotes, `${site.name}-${env.name}.git`) : env.repoUrl, local };
}

/** The repositories of the selected environments of `definitions`; user errors go to `errors`. */
function remotesOf(definitions: readonly SiteDefinition[], catalog: Catalog, selection: Selection, localRemotes: string, errors: UserError[]): EnvironmentRemote[] {
  const remotes: EnvironmentRemote[] = [];
  for (const definition of definitions) {
    try {
      const site = buildSite(definition, catalog);
      for (const env of selectEnvironments(site, selection)) {
        remotes.push(remoteOf(site, env, localRemotes));
      }
    } catch (e) {
      const found = userErrorsOf(e);
      if (found.length === 0) throw e;
      errors.push(...found);
    }
  }
  return remotes;
}

/**
 * The files siteforge wrote in `<outDir>/<site>/<env>/` (its state file included), each as its
 * state file records it. What is published must be what synth checked: a listed file that was
 * changed, removed or replaced since synth wrote it, or a state file that is not as synth wrote
 * it, is a user error naming them (synth puts them back).
 */
export function readSynthesized(outDir: string, repo: string): Map<string, string> {
  const dir = join(outDir, repo);
  const state = readState(dir);
  if (!state) throw new UserError(`${repo}: ${dir} holds no synthesized output; run siteforge synth first`);
  const stateContent = readFileSync(join(dir, STATE_FILE), 'utf8');
  const paths = Object.keys(state.files).sort();
  // The state file lists what is read: only as synth wrote it, and only inside the folder.
  if (stateContent !== stateText(state.files, state.inputHash) || !paths.every(isSafePath)) throw changedSinceSynth(repo, [STATE_FILE]);
  const files = new Map<string, string>([[STATE_FILE, stateContent]]);
  const changed: string[] = [];
  for (const path of paths) {
    const content = readFileIfAny(join(dir, path));
    if (content !== undefined && sha256(content) === state.files[path]) files.set(path, content.toString('utf8'));
    else changed.push(path);
  }
  if (changed.length > 0) throw changedSinceSynth(repo, changed);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function changedSinceSynth(repo: string, paths: readonly string[]): UserError {
  const shown = paths.length > 5 ? `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more` : paths.join(', ');
  return new UserError(`${repo}: ${shown} ${paths.length === 1 ? 'was' : 'were'} changed since synth wrote ${paths.length === 1 ? 'it' : 'them'}; publish only sends what synth wrote: run siteforge synth to put ${paths.length === 1 ? 'it' : 'them'} back (or change the site definition)`);
}

/** The bytes of `file`; undefined when it is missing or not a file. */
function readFileIfAny(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}
