import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SECRETS_FOLDER, secretRequirements, type Environment, type Site } from '../../constructs';
import type { Catalog } from '../../catalog';
import type { SiteDefinition } from '../../sites/site-definition';
import { UserError, UserErrors, userErrorsOf } from '../errors';
import { FastImport } from '../fast-import';
import { buildSite, selectEnvironments, selectSites, type Selection } from '../fleet';
import { assertSafeRemote, gitErrorMessage, openRemote, removeDir, tempWorkDir } from '../git';
import { STATE_FILE } from '../output';
import { mapPool } from '../pool';
import { remoteOf, remotesDir } from '../remotes';

/** Credential files of environments, as their published repositories hold them: repo (`<site>/<env>`) → path → text. */
export type PublishedSecretFiles = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface PublishedSecretsOptions extends Selection {
  readonly fleet: readonly SiteDefinition[];
  readonly catalog: Catalog;
  readonly outDir: string;
  /**
   * The branch whose files the environments run.
   * @default "main"
   */
  readonly branch?: string;
}

/** Repositories read at once. */
const CONCURRENCY = 4;

/**
 * Generated credentials are kept from one synth to the next by reading them back from the
 * output: a SealedSecret's sealed values (which only the cluster can open) and the values in
 * an Ansible Vault file. A CI job starts from an empty output folder, where a synth would make
 * new ones that the running environment does not know. So for a site with no output in
 * `outDir` yet, the credential files of each environment that keeps generated values are read
 * from its repository (`gitRemote`, or the local bare repository under `<outDir>/.remotes/`),
 * from the branch the environment runs. A repository that does not exist locally or has no
 * such branch yet holds none. One that cannot be read is an error naming the environment:
 * making new values in silence would break it.
 */
export async function publishedSecretFiles(options: PublishedSecretsOptions): Promise<PublishedSecretFiles> {
  const errors: UserError[] = [];
  const wanted: { repo: string; url: string }[] = [];
  for (const definition of selectSites(options.fleet, options)) {
    if (existsSync(join(options.outDir, definition.name))) continue;
    let site: Site;
    let environments: Environment[];
    try {
      site = buildSite(definition, options.catalog);
      environments = selectEnvironments(site, options);
    } catch (e) {
      // The synth reports them.
      if (userErrorsOf(e).length > 0) continue;
      throw e;
    }
    for (const env of environments.filter(keepsGeneratedValues)) {
      const repo = `${definition.name}/${env.name}`;
      const remote = remoteOf(site, env, remotesDir(options.outDir));
      if (remote.local) {
        if (existsSync(remote.url)) wanted.push({ repo, url: remote.url });
        continue;
      }
      try {
        assertSafeRemote(remote.url, `${repo}: gitRemote`);
        wanted.push({ repo, url: remote.url });
      } catch (e) {
        errors.push(e as UserError);
      }
    }
  }
  UserErrors.throwIfAny(errors);
  const branch = options.branch ?? 'main';
  const read = await mapPool(wanted, CONCURRENCY, async ({ repo, url }) => {
    try {
      return [repo, await readCredentialFiles(url, branch)] as const;
    } catch (e) {
      errors.push(new UserError(`${repo}: has no output in ${options.outDir} to keep its generated credentials from, and its repository ${url} could not be read (${gitErrorMessage(e)}); synth would make new values, which the running environment does not know. Make the repository readable, synth into the output folder that holds the previous output, or run with --rotate-secrets to make new values on purpose`));
      return [repo, {}] as const;
    }
  });
  UserErrors.throwIfAny(errors);
  return Object.fromEntries(read.filter(([, files]) => Object.keys(files).length > 0));
}

/** Whether `env` has generated values that only its previous output knows. */
function keepsGeneratedValues(env: Environment): boolean {
  return secretRequirements(env).some((r) => (r.target === 'vm' || r.backend?.kind === 'sealed-secrets') && Object.values(r.values).some((s) => s.source === 'generated'));
}

/** The credential files on `branch` of the repository at `url`, as its state file lists them. */
async function readCredentialFiles(url: string, branch: string): Promise<Record<string, string>> {
  const dir = tempWorkDir('published-secrets');
  try {
    const remote = await openRemote(url, join(dir, 'repo.git'));
    const head = await remote.head(branch);
    if (head === undefined) return {};
    const reader = FastImport.start(remote.git);
    try {
      const stateText = (await reader.readFiles(head, [STATE_FILE])).get(STATE_FILE);
      const listed = Object.keys(recordedFiles(stateText));
      return Object.fromEntries(await reader.readFiles(head, listed.filter(isCredentialFile)));
    } finally {
      await reader.close();
    }
  } finally {
    removeDir(dir);
  }
}

/** The files a state file's text lists; none when it is missing or not one. */
function recordedFiles(stateText: string | undefined): Record<string, string> {
  try {
    const files = (JSON.parse(stateText ?? '{}') as { files?: unknown }).files;
    return files !== null && typeof files === 'object' ? files as Record<string, string> : {};
  } catch {
    return {};
  }
}

/** SealedSecrets and Ansible Vault files: where generated values are kept. */
function isCredentialFile(path: string): boolean {
  return (path.startsWith(`${SECRETS_FOLDER}/`) && path.endsWith('.yaml')) || /^ansible\/group_vars\/[^/]+\/vault\.yml$/.test(path);
}
