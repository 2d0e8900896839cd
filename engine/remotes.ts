import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, UserErrors, userErrorsOf } from './errors';
import { buildSite, selectEnvironments, selectSites, type Selection } from './fleet';
import { assertSafeRemote } from './git';
import { isSafePath, readState, sha256, STATE_FILE, stateText } from './output';

/** Where the repository of one environment lives. */
export interface EnvironmentRemote {
  readonly site: string;
  readonly env: string;
  /** URL (or absolute path of a local bare repository) that git fetches from and pushes to. */
  readonly url: string;
  /** The site names no `gitRemote`: a local bare repository under `<outDir>/.remotes/`. */
  readonly local: boolean;
}

/** The folder of local bare repositories, for sites with no `gitRemote`. */
export function remotesDir(outDir: string): string {
  return join(resolve(outDir), '.remotes');
}

/**
 * The repository of every selected environment: the site's `gitRemote` with `{site}` and
 * `{env}` filled in (checked: no options, no transport helpers), or the local bare repository
 * `<outDir>/.remotes/<site>-<env>.git` when the site names none. Sites are built one at a time
 * to read their remotes; every user error is collected and thrown at once.
 */
export function resolveRemotes(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection, outDir: string): Map<string, EnvironmentRemote> {
  const remotes = new Map<string, EnvironmentRemote>();
  const errors: UserError[] = [];
  for (const definition of selectSites(fleet, selection)) {
    try {
      const site = buildSite(definition, catalog);
      for (const env of selectEnvironments(site, selection)) {
        const local = site.gitRemote === undefined;
        const url = local ? join(remotesDir(outDir), `${site.name}-${env.name}.git`) : env.repoUrl;
        if (!local) {
          try {
            assertSafeRemote(url, `${site.name}/${env.name}: gitRemote`);
          } catch (e) {
            errors.push(e as UserError);
            continue;
          }
        }
        remotes.set(`${site.name}/${env.name}`, { site: site.name, env: env.name, url, local });
      }
    } catch (e) {
      const found = userErrorsOf(e);
      if (found.length === 0) throw e;
      errors.push(...found);
    }
  }
  UserErrors.throwIfAny(errors);
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
