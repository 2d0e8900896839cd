import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sealedSecretPath, secretRequirements, vaultFile, type Environment, type Site } from '../../constructs';
import { UserError, UserErrors } from '../errors';
import { FastImport } from '../fast-import';
import { assertSafeRemote, gitErrorMessage, openRemote, removeDir, tempWorkDir } from '../git';
import { remoteOf } from '../remotes';

/** Credential files of environments, as their published repositories hold them: repo (`<site>/<env>`) → path → text. */
export type PublishedSecretFiles = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** A repository whose credential files an environment with no output yet keeps: which files, from where. */
export interface PublishedRead {
  /** `<site>/<env>` */
  readonly repo: string;
  readonly url: string;
  readonly paths: readonly string[];
  /** Some of its values are generated: unreadable, the repository is an error. */
  readonly generated: boolean;
}

/** Repositories read at once, by one synth. */
export const PUBLISHED_READS_AT_ONCE = 4;

/**
 * Generated credentials are kept from one synth to the next by reading them back from the
 * output: a SealedSecret's sealed values (which only the cluster can open) and the values in
 * an Ansible Vault file. A CI job starts from an empty output folder, where a synth would make
 * new ones that the running environment does not know (and encrypt the others again). So for
 * a site with no output yet, the credential files of each of its `environments` are read from
 * its repository (`gitRemote`, or its local bare repository in `remotesDir`), from the branch
 * the environment runs: these are the reads, for the repositories that may exist (a local
 * one that does not is left out). Unsafe remotes throw UserErrors naming them.
 */
export function publishedReads(site: Site, environments: readonly Environment[], remotesDir: string): PublishedRead[] {
  const reads: PublishedRead[] = [];
  const errors: UserError[] = [];
  for (const env of environments) {
    const { paths, generated } = keptCredentialFiles(env);
    if (paths.length === 0) continue;
    const repo = `${site.name}/${env.name}`;
    const remote = remoteOf(site, env, remotesDir);
    if (remote.local && !existsSync(remote.url)) continue;
    try {
      if (!remote.local) assertSafeRemote(remote.url, `${repo}: gitRemote`);
      reads.push({ repo, url: remote.url, paths, generated });
    } catch (e) {
      errors.push(e as UserError);
    }
  }
  UserErrors.throwIfAny(errors);
  return reads;
}

/**
 * Reads the files of `reads` from `branch`, each repository as `limit` lets it (which a
 * synth shares between its sites). A repository with no such branch yet holds none. One that
 * cannot be read is an error naming the environment when it holds generated values (making
 * new ones in silence would break it); the errors are returned, not thrown.
 */
export async function readPublished(
  reads: readonly PublishedRead[],
  { branch, outDir, limit }: { readonly branch: string; readonly outDir: string; readonly limit: <R>(task: () => Promise<R>) => Promise<R> },
): Promise<{ files: PublishedSecretFiles; errors: UserError[] }> {
  const errors: UserError[] = [];
  const read = await Promise.all(reads.map(async ({ repo, url, paths, generated }) => {
    try {
      return [repo, await limit(() => readFilesOf(url, branch, paths))] as const;
    } catch (e) {
      // Values from the environment are the same anyway: only their encryption would change.
      if (generated) errors.push(new UserError(`${repo}: has no output in ${outDir} to keep its generated credentials from, and its repository ${url} could not be read (${gitErrorMessage(e)}); synth would make new values, which the running environment does not know. Make the repository readable, synth into the output folder that holds the previous output, or run with --rotate-secrets to make new values on purpose`));
      return [repo, {}] as const;
    }
  }));
  return { files: Object.fromEntries(read.filter(([, files]) => Object.keys(files).length > 0)), errors };
}

/**
 * The files in which `env` keeps credentials from one synth to the next: a vault file per
 * instance on VMs and a SealedSecret per sealed Secret (generated values live only there, and
 * a file whose values did not change is kept byte for byte).
 */
function keptCredentialFiles(env: Environment): { readonly paths: string[]; readonly generated: boolean } {
  const kept = secretRequirements(env).filter((r) => r.target === 'vm' || r.backend?.kind === 'sealed-secrets');
  return {
    paths: kept.map((r) => (r.target === 'vm' ? vaultFile(r.name) : sealedSecretPath(r.name))),
    generated: kept.some((r) => Object.values(r.values).some((s) => s.source === 'generated')),
  };
}

/** The files at `paths` on `branch` of the repository at `url` (those it holds). */
async function readFilesOf(url: string, branch: string, paths: readonly string[]): Promise<Record<string, string>> {
  const dir = tempWorkDir('published-secrets');
  try {
    const remote = await openRemote(url, join(dir, 'repo.git'));
    const head = await remote.head(branch);
    if (head === undefined) return {};
    const reader = FastImport.start(remote.git);
    try {
      return Object.fromEntries(await reader.readFiles(head, paths));
    } finally {
      await reader.close();
    }
  } finally {
    removeDir(dir);
  }
}
