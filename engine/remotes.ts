import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, UserErrors, userErrorsOf } from './errors';
import { buildSite, selectEnvironments, selectSites, type Selection } from './fleet';
import { assertSafeRemote } from './git';
import { readState, STATE_FILE } from './output';

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

/** The files siteforge wrote in `<outDir>/<site>/<env>/` (its state file included). */
export function readSynthesized(outDir: string, repo: string): Map<string, string> {
  const dir = join(outDir, repo);
  const state = readState(dir);
  if (!state) throw new Error(`${dir} has no ${STATE_FILE} after synth`);
  const files = new Map<string, string>();
  for (const path of [...Object.keys(state.files), STATE_FILE].sort()) {
    const file = join(dir, path);
    if (existsSync(file)) files.set(path, readFileSync(file, 'utf8'));
  }
  return files;
}
