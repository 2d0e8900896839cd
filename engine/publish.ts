import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { readManagedFiles, remoteLabel } from './diff';
import { UserError, UserErrors } from './errors';
import { commitChanges, FastImport, type CommitReader, type FileChange } from './fast-import';
import { assertSafeBranch, ensureBareRepository, GitError, gitErrorMessage, openRemote, removeDir, tempWorkDir, type Git, type RemoteWorkspace } from './git';
import { isSafePath, readState, recordedHashes, sha256, STATE_FILE, takeOutputLock } from './output';
import type { OutputLock } from './output-lock';
import { indexedOutput, readOutputIndex } from './output-index';
import { readPublished, remoteHead, writePublished, type PublishedRecord } from './published';
import { mapPool } from './pool';
import { readSynthesized, resolveRemotes, type EnvironmentRemote } from './remotes';
import { diffTrees, type TreeDiff } from './semantic-diff';
import { synth, type SynthOptions } from './synth';
import { assertNoPlaintextSecrets } from './secrets/gate';
import { MANIFESTS_SUFFIX } from '../constructs/flux/apps';

/** Publishing synthesizes first (`outDir` and the synth options are as for `synth`). */
export interface PublishOptions extends Omit<SynthOptions, 'dryRun' | 'onEnvironment'> {
  /**
   * Synthesize before publishing. When false, what the last synth wrote in `outDir` is
   * published as it is (for CI that synthesizes and reviews the diff first).
   * @default true
   */
  readonly synthesize?: boolean;
  /**
   * Branch the environment repositories deploy from.
   * @default 'main'
   */
  readonly target?: string;
  /**
   * Commit straight to `target` instead of a review branch.
   * @default false
   */
  readonly direct?: boolean;
  /**
   * Name of the review branch, under `siteforge/`.
   * @default - `<changed instances>-<hash of the target and the new output>`, e.g. `siteforge/portal-admin-1a2b3c4`
   */
  readonly branch?: string;
  /**
   * Replace managed files that were edited in the repository (drift) instead of stopping.
   * @default false
   */
  readonly overwriteDrift?: boolean;
  /**
   * How many times a push rejected because the remote moved is rebuilt and retried.
   * @default 5
   */
  readonly retries?: number;
  /**
   * Repositories published at once.
   * @default 4
   */
  readonly concurrency?: number;
  /** Called once synth is done, with the number of repositories to publish. */
  readonly onStart?: (repositories: number) => void;
  /** Called as each repository finishes. */
  readonly onRepository?: (result: RepositoryResult) => void;
  /**
   * Called right before each push with the attempt number (1-based). For tests that move the
   * remote between fetch and push.
   * @default - nothing
   */
  readonly beforePush?: (remote: EnvironmentRemote, attempt: number) => Promise<void>;
}

/** What publish did to one repository. */
export type PublishOutcome = 'published' | 'unchanged' | 'drift' | 'failed';

/** A managed file someone changed in the repository since siteforge last wrote it. */
export interface DriftedFile {
  readonly path: string;
  /**
   * `made executable`: a managed file whose content is as siteforge wrote it but whose mode is
   * executable (siteforge writes regular files). `in the way`: a file siteforge did not write
   * (its last state does not list it) where it writes something else, or an executable file
   * where it writes the same content; a file, link or submodule where it writes a folder; or a
   * folder where it writes a file.
   */
  readonly change: 'edited' | 'made executable' | 'deleted' | 'in the way';
  /** `<short sha> <author>: <subject>` of each commit that touched it since siteforge's last commit. */
  readonly commits: readonly string[];
}

export interface RepositoryResult {
  readonly site: string;
  readonly env: string;
  /** Repository URL (credentials removed) or path of the local bare repository. */
  readonly remote: string;
  readonly branch: string;
  /** The branch head after publishing (abbreviated). @default - none: nothing was pushed and the branch does not exist */
  readonly commit?: string;
  /** Files added, changed or deleted by the commit. */
  readonly filesChanged: number;
  readonly outcome: PublishOutcome;
  /** Push attempts made (more than one when the remote moved). */
  readonly attempts: number;
  /** Why the repository failed. @default - it did not fail */
  readonly error?: string;
  /** Drifted files, when the outcome is `drift` (or they were overwritten). */
  readonly drift: readonly DriftedFile[];
  /** The change that was committed. @default - no commit */
  readonly diff?: TreeDiff;
}

export interface PublishReport {
  readonly repositories: readonly RepositoryResult[];
}

/** Whether any repository failed or stopped on drift. */
export function publishFailed(report: PublishReport): boolean {
  return report.repositories.some((r) => r.outcome === 'failed' || r.outcome === 'drift');
}

/**
 * Synthesizes the selected environments (all or nothing, like `synth`; skipped when
 * `synthesize` is false), then publishes each to its repository: check it for plaintext
 * secrets, clone, replace the managed files, delete the ones no longer generated, leave other
 * files alone, commit and push (never forced). A push rejected because the remote moved
 * is rebuilt on the new head and retried. Every repository is published independently: one
 * failing does not stop the others, and each result says what happened.
 */
export async function publish(options: PublishOptions): Promise<PublishReport> {
  const target = options.target ?? 'main';
  assertSafeBranch(target, 'target branch');
  if (options.branch !== undefined) assertSafeBranch(`siteforge/${options.branch}`, 'review branch');
  if (options.branch !== undefined && options.direct) throw new UserError(`a review branch (siteforge/${options.branch}) and a direct publish to ${target} exclude each other: choose one`);
  const retries = options.retries ?? 5;
  if (!Number.isInteger(retries) || retries < 0) throw new UserError(`retries must be a whole number of at least 0, got ${retries}`);
  // Synth reports the repositories of the sites it builds; without it they are built here.
  const remotes = options.synthesize === false ? resolveRemotes(options.fleet, options.catalog, options, options.outDir) : undefined;
  // Held until the last repository is published: no synth changes the output meanwhile.
  const lock = takeOutputLock(options.outDir);
  try {
    return await publishHolding(lock, remotes, target, retries, options);
  } finally {
    lock.release();
  }
}

/** What `publish` does while it holds the output folder's `lock`, which its synth writes under. */
async function publishHolding(lock: OutputLock, resolved: ReadonlyMap<string, EnvironmentRemote> | undefined, target: string, retries: number, options: PublishOptions): Promise<PublishReport> {
  const { fleet, catalog, outDir, site, env, rotateSecrets, renderAll, workers, fleetModule, catalogDir, program, onSiteDone } = options;
  let remotes: ReadonlyMap<string, EnvironmentRemote>;
  let repos: string[];
  if (resolved) {
    remotes = resolved;
    repos = synthesizedRepositories(remotes, outDir);
  } else {
    const report = await synth({ fleet, catalog, outDir, site, env, rotateSecrets, renderAll, workers, fleetModule, catalogDir, program, lock, publishedBranch: target, onSiteDone });
    remotes = report.remotes;
    repos = report.environments.filter((e) => !e.removed).map((e) => e.repo);
  }
  options.onStart?.(repos.length);
  const published = readPublished(outDir);
  // Without synth, what the index vouches for is as synth wrote it (see editedOutput).
  const index = options.synthesize === false ? readOutputIndex(outDir) : {};
  // Temporary clones go beside the output, on the file system chosen for it.
  const workDir = resolve(outDir, WORK_DIR);
  let repositories: RepositoryResult[];
  try {
    repositories = await mapPool(repos, options.concurrency ?? 4, async (repo) => {
      const remote = remotes.get(repo)!;
      const outputHash = readState(join(outDir, repo))?.outputHash ?? '';
      // Read once, by whichever needs it first.
      let files: Map<string, string> | undefined;
      const synthesized = () => (files ??= readSynthesized(outDir, repo));
      const result = (options.synthesize === false && !indexedOutput(outDir, repo, index[repo]) ? editedOutput(remote, synthesized, { ...options, target }) : undefined)
        ?? await unchangedSinceLastPublish(remote, published[repo], outputHash, outDir, { ...options, target })
        ?? await publishRepository(remote, synthesized, { ...options, target, retries, workDir });
      if ((result.outcome === 'published' || result.outcome === 'unchanged') && result.commit) {
        published[repo] = { url: remote.url, target, branch: result.branch, commit: result.commit, outputHash };
      }
      options.onRepository?.(result);
      return result;
    });
  } finally {
    removeDir(workDir);
  }
  writePublished(outDir, published);
  return { repositories };
}

/** The selected environments' repositories as the last synth left them; every one must be there. */
function synthesizedRepositories(remotes: ReadonlyMap<string, EnvironmentRemote>, outDir: string): string[] {
  const repos = [...remotes.keys()];
  const states = new Map(repos.map((repo) => [repo, readState(join(outDir, repo))]));
  UserErrors.throwIfAny(repos.flatMap((repo) => {
    const state = states.get(repo);
    if (!state) return [new UserError(`${repo}: ${join(outDir, repo)} holds no synthesized output; run siteforge synth first, or publish without --no-synth`)];
    if (state.interrupted) return [new UserError(`${repo}: ${join(outDir, repo)} was left half written by a synth that was stopped; run siteforge synth again, or publish without --no-synth`)];
    return [];
  }));
  return repos;
}

/** The branch publish was told to push to; empty for the default review branch, named after the change. */
function requestedBranch(options: { readonly target: string; readonly direct?: boolean; readonly branch?: string }): string {
  return options.direct ? options.target : options.branch !== undefined ? `siteforge/${options.branch}` : '';
}

/**
 * The failed result of a repository whose output is no longer as synth wrote it (see
 * readSynthesized), or undefined. Checked before anything else when publish did not
 * synthesize and the output index does not vouch for the files (see indexedOutput), since a
 * repository unchanged since its last publish is otherwise not read.
 */
function editedOutput(remote: EnvironmentRemote, synthesized: () => ReadonlyMap<string, string>, options: { readonly target: string; readonly direct?: boolean; readonly branch?: string }): RepositoryResult | undefined {
  try {
    synthesized();
    return undefined;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const branch = requestedBranch(options) || 'siteforge/…';
    return { site: remote.site, env: remote.env, remote: remoteLabel(remote), branch, filesChanged: 0, outcome: 'failed', attempts: 0, drift: [], error: e.message };
  }
}

/**
 * The result of a repository whose output has not changed since siteforge last published it
 * to the same remote and branch, when that branch has not moved since: nothing to commit, no
 * drift possible. One `git ls-remote`; undefined when a full publish is needed.
 */
async function unchangedSinceLastPublish(
  remote: EnvironmentRemote,
  record: PublishedRecord | undefined,
  outputHash: string,
  outDir: string,
  options: { readonly target: string; readonly direct?: boolean; readonly branch?: string },
): Promise<RepositoryResult | undefined> {
  if (!record || record.url !== remote.url || record.outputHash !== outputHash) return undefined;
  // A review branch is wanted only against the same target (it is built on it).
  const branchWanted = options.direct ? record.branch === options.target
    : record.target !== options.target ? false
    : options.branch !== undefined ? record.branch === `siteforge/${options.branch}` : record.branch.startsWith('siteforge/');
  if (!branchWanted) return undefined;
  let head: string | undefined;
  try {
    head = await remoteHead(outDir, remote, record.branch);
  } catch {
    return undefined; // the full publish reports why the remote cannot be reached
  }
  if (!head?.startsWith(record.commit)) return undefined;
  return {
    site: remote.site, env: remote.env, remote: remoteLabel(remote), branch: record.branch, commit: record.commit,
    filesChanged: 0, outcome: 'unchanged', attempts: 0, drift: [],
  };
}

/** Folder of publish's temporary clones, inside the output folder. */
const WORK_DIR = '.siteforge-work';

interface RepositoryOptions {
  readonly target: string;
  /**
   * Folder for the temporary clone.
   * @default - the system's temporary folder
   */
  readonly workDir?: string;
  readonly direct?: boolean;
  readonly branch?: string;
  readonly overwriteDrift?: boolean;
  readonly retries: number;
  readonly beforePush?: (remote: EnvironmentRemote, attempt: number) => Promise<void>;
}

/**
 * Publishes the repository synthesized for `remote`: `synthesized` reads its files (see
 * readSynthesized), failing this repository alone when it cannot.
 */
export async function publishRepository(remote: EnvironmentRemote, synthesized: () => ReadonlyMap<string, string>, options: RepositoryOptions): Promise<RepositoryResult> {
  const label = remoteLabel(remote);
  let branch = requestedBranch(options);
  const result = (fields: Partial<RepositoryResult> & { outcome: PublishOutcome; attempts: number }): RepositoryResult => ({
    site: remote.site, env: remote.env, remote: label, branch: branch || 'siteforge/…', filesChanged: 0, drift: [], ...fields,
  });
  const work = tempWorkDir(`publish-${remote.site}-${remote.env}`, options.workDir);
  let attempts = 0;
  try {
    const files = synthesized();
    // The gate synth ran, again on what is committed.
    assertNoPlaintextSecrets(`${remote.site}/${remote.env}`, [...files].map(([path, content]) => ({ path, content })));
    if (remote.local) await ensureBareRepository(remote.url, options.target);
    const workspace = await openRemote(remote.url, join(work, 'repo.git'));
    const { git } = workspace;
    /**
     * Reads what the branch holds and commits the output on it, with one fast-import; the
     * result instead when there is nothing to push (drift, or nothing changed).
     */
    const commitOnBranch = async (targetHead: string | undefined) => {
      const fastImport = FastImport.start(git);
      try {
        if (branch === '') branch = `siteforge/${await reviewBranchName(fastImport, options.target, targetHead, files)}`;
        assertSafeBranch(branch, 'review branch');
        const branchHead = branch === options.target ? targetHead : await workspace.head(branch);
        const base = branchHead ?? targetHead;
        const current = base ? await readManagedFiles(fastImport, base, files) : new Map<string, string>();

        // siteforge writes regular files: one made executable is not as it wrote it.
        const executable = base ? new Set([...await fastImport.entries(base, current.keys())].filter(([, entry]) => entry.kind === 'executable').map(([path]) => path)) : new Set<string>();
        const drift = base ? await findDrift(git, base, current, files, await pathsInTheWay(fastImport, base, files, current), executable) : [];
        if (drift.length > 0 && !options.overwriteDrift) {
          return result({ outcome: 'drift', attempts, commit: base?.slice(0, 7), drift, error: driftMessage(drift) });
        }

        const changes = fileChanges(current, files, executable);
        if (changes.length === 0) {
          // Nothing to review when the target already holds this output: report the target.
          if (!branchHead) branch = options.target;
          return result({ outcome: 'unchanged', attempts, commit: (branchHead ?? targetHead)?.slice(0, 7), drift });
        }
        const diff = diffTrees(current, files);
        const commit = await fastImport.commit({ parent: base, message: commitMessage(remote, diff, drift), changes });
        return { commit, diff, changes, drift, branchHead };
      } finally {
        await fastImport.close();
      }
    };
    for (;;) {
      attempts++;
      let targetHead = await workspace.head(options.target);
      if (!targetHead && !options.direct) {
        // A new repository: the target branch starts empty, so that the content itself is reviewed.
        targetHead = await createEmptyTarget(workspace, options.target, `siteforge: start ${remote.site}/${remote.env}`);
        if (!targetHead) {
          if (attempts > options.retries) return result({ outcome: 'failed', attempts, error: `the remote kept moving; gave up after ${attempts} attempts` });
          await workspace.refresh();
          continue;
        }
      }
      const prepared = await commitOnBranch(targetHead);
      if ('outcome' in prepared) return prepared;
      const { commit, diff, changes, drift, branchHead } = prepared;

      await options.beforePush?.(remote, attempts);
      try {
        await workspace.push(commit, branch, branchHead);
        return result({ outcome: 'published', attempts, commit: commit.slice(0, 7), filesChanged: changes.length, drift, diff });
      } catch (e) {
        // git names what was pushed by its id: the short one reads better.
        const reason = gitErrorMessage(e).replaceAll(commit, commit.slice(0, 7));
        const retry = retryReason(e);
        if (!retry) return result({ outcome: 'failed', attempts, error: reason });
        if (attempts > options.retries) {
          const why = retry === 'moved' ? 'the remote kept moving' : `${branch} stayed locked in the remote (another push kept it busy, or a lock file was left behind)`;
          return result({ outcome: 'failed', attempts, error: `${why}; gave up after ${attempts} attempts (${reason})` });
        }
        await workspace.refresh();
      }
    }
  } catch (e) {
    if (e instanceof UserError) return result({ outcome: 'failed', attempts, error: e.message });
    if (e instanceof GitError) return result({ outcome: 'failed', attempts, error: gitErrorMessage(e) });
    const code = (e as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string') return result({ outcome: 'failed', attempts, error: `${code}: ${(e as Error).message}` });
    throw e;
  } finally {
    removeDir(work);
  }
}

/** Pushes an empty root commit as `target`; undefined when someone else created it first. */
async function createEmptyTarget(workspace: RemoteWorkspace, target: string, message: string): Promise<string | undefined> {
  const commit = await commitChanges(workspace.git, { message: `${message}\n`, changes: [] });
  try {
    await workspace.push(commit, target, undefined);
  } catch (e) {
    if (retryReason(e)) return undefined;
    throw e;
  }
  await workspace.refresh();
  return commit;
}

/**
 * Managed files (listed in the repository's state file at `base`) whose content no longer
 * matches their hash, or that were made executable; files it did not write where it writes
 * `files` that differ (in content or as executable); and the paths `inTheWay` of what
 * siteforge writes. `executable` holds the paths of `current` that are executable files.
 */
async function findDrift(git: Git, base: string, current: ReadonlyMap<string, string>, files: ReadonlyMap<string, string>, inTheWay: readonly string[], executable: ReadonlySet<string>): Promise<DriftedFile[]> {
  const stateText = current.get(STATE_FILE);
  let recorded: Record<string, string> = {};
  try {
    recorded = stateText === undefined ? {} : (JSON.parse(stateText) as { files?: Record<string, string> }).files ?? {};
  } catch {
    return [{ path: STATE_FILE, change: 'edited', commits: await commitsTouching(git, base, STATE_FILE, undefined, undefined) }];
  }
  // A file siteforge did not write (its state does not list it, or there is none) where it
  // writes something else: someone's, which writing would replace unseen.
  const unmanaged = [...files].filter(([path, content]) => path !== STATE_FILE && !Object.hasOwn(recorded, path) && current.has(path) && (current.get(path) !== content || executable.has(path))).map(([path]) => path);
  const drifted: { path: string; change: DriftedFile['change'] }[] = [...inTheWay, ...unmanaged].sort().map((path) => ({ path, change: 'in the way' }));
  for (const [path, hash] of Object.entries(recorded).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!isWritablePath(path)) continue;
    const content = current.get(path);
    if (content === undefined) drifted.push({ path, change: 'deleted' });
    else if (sha256(content) !== hash) drifted.push({ path, change: 'edited' });
    else if (executable.has(path)) drifted.push({ path, change: 'made executable' });
  }
  if (drifted.length === 0) return [];
  const since = stateText === undefined ? undefined : (await git.raw(['log', '-1', '--format=%H', base, '--', STATE_FILE])).trim() || undefined;
  return Promise.all(drifted.map(async (d) => ({ ...d, commits: await commitsTouching(git, base, d.path, since, recorded[d.path]) })));
}

/**
 * What stands at `base` where siteforge writes and is not a file it could replace: a file,
 * link or submodule where a generated file needs a folder, or a folder or submodule where it
 * writes a file. Only the paths of files new to the repository are looked at (the others
 * were read). Writing would replace these silently, so they are drift.
 */
async function pathsInTheWay(reader: FastImport, base: string, files: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): Promise<string[]> {
  const added = [...files.keys()].filter((path) => !current.has(path));
  const folders = new Set(added.flatMap((path) => path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  if (added.length === 0) return [];
  const entries = await reader.entries(base, [...added, ...folders]);
  return [...entries].filter(([path, entry]) => (folders.has(path) ? entry.kind !== 'folder' : true)).map(([path]) => path).sort();
}

/**
 * `<sha> <author>: <subject>` of the commits up to `base` that changed `path` after `since`,
 * the last commit that changed the state file; `since` itself too when what it left at `path`
 * is not what siteforge wrote (the `recorded` hash, or for a path siteforge does not record, a
 * folder of its files): someone changed the file and the state file in one commit.
 */
async function commitsTouching(git: Git, base: string, path: string, since: string | undefined, recorded: string | undefined): Promise<string[]> {
  // `^<since>^@` leaves out what comes before `since`, and `since` when it is a root commit has no parents to name.
  const log = await git.raw(['log', '--format=%H %h %an: %s', base, ...(since ? [`^${since}^@`] : []), '--', path]);
  const commits = log.split('\n').filter((l) => l.length > 0).map((l) => ({ id: l.slice(0, l.indexOf(' ')), line: l.slice(l.indexOf(' ') + 1) }));
  const leftWhatSiteforgeWrote = async (commit: string) => {
    const type = (await git.raw(['cat-file', '-t', `${commit}:${path}`]).catch(() => '')).trim();
    if (recorded === undefined) return type === 'tree';
    return type === 'blob' && sha256(await git.raw(['cat-file', 'blob', `${commit}:${path}`])) === recorded;
  };
  if (since && commits.at(-1)?.id === since && await leftWhatSiteforgeWrote(since)) commits.pop();
  return commits.map((c) => c.line);
}

function driftMessage(drift: readonly DriftedFile[]): string {
  const list = (files: readonly DriftedFile[]) => files.map((d) => `${d.path} (${d.change}${d.commits.length > 0 ? ` in ${d.commits.map((c) => c.split(' ')[0]).join(', ')}` : ''})`).join('; ');
  const managed = drift.filter((d) => d.change !== 'in the way');
  const inTheWay = drift.filter((d) => d.change === 'in the way');
  const them = drift.length === 1 ? 'it' : 'them';
  return [
    ...(managed.length > 0 ? [`managed file${managed.length === 1 ? '' : 's'} changed in the repository since siteforge wrote ${managed.length === 1 ? 'it' : 'them'}: ${list(managed)}`] : []),
    ...(inTheWay.length > 0 ? [`${inTheWay.length === 1 ? 'a path stands' : 'paths stand'} where siteforge writes (a file it did not write, a file, link or submodule where it needs a folder, or a folder where it writes a file): ${list(inTheWay)}`] : []),
  ].join('; ') + `; ${managed.length > 0 ? 'move the change into the site definition' : `move ${them} out of the way`}, or publish with --overwrite-drift to replace ${them}`;
}

/**
 * What makes the repository, whose managed files are `current` (the `executable` ones
 * executable), hold `files`: write each one that differs or is executable, and delete the
 * files the previous state listed that are no longer generated. Other files are left alone.
 */
function fileChanges(current: ReadonlyMap<string, string>, files: ReadonlyMap<string, string>, executable: ReadonlySet<string>): FileChange[] {
  const changes: FileChange[] = Object.keys(recordedHashes(current.get(STATE_FILE)))
    .filter((path) => !files.has(path) && isWritablePath(path) && current.has(path))
    .sort()
    .map((path) => ({ path }));
  for (const [path, content] of files) {
    if (!isWritablePath(path)) throw new Error(`refusing to write outside the repository: ${JSON.stringify(path)}`);
    if (current.get(path) !== content || executable.has(path)) changes.push({ path, content });
  }
  return changes;
}

/** A path siteforge may write in a repository: inside it, and not in `.git`. */
function isWritablePath(path: string): boolean {
  return isSafePath(path) && !path.split('/').includes('.git');
}

/**
 * Why a rejected push may succeed when rebuilt and tried again: the branch `moved` (the head it
 * was built on is no longer there), or it was `busy` (another push held its lock). Undefined
 * for every other failure (a hook declined it, a branch name that cannot be created beside
 * another, no access), which trying again would not change.
 */
function retryReason(error: unknown): 'moved' | 'busy' | undefined {
  const text = String((error as Error)?.message ?? error);
  if (/\[rejected\].*\((stale info|fetch first|non-fast-forward)\)|incorrect old value|cannot lock ref '[^']*': is at [0-9a-f]+ but expected/i.test(text)) return 'moved';
  if (/cannot lock ref '[^']*': Unable to create '[^']*\.lock': File exists/i.test(text)) return 'busy';
  return undefined;
}

/**
 * Where an instance's own files live in an environment repository, and the names there that
 * are the environment's, not an instance's: the namespace, the secrets, Flux's Kustomization of
 * `values/` and its `values/kustomization.yaml`, Ansible's `all` group. Every other file (the
 * AppProjects, the root, `apps/kustomization.yaml`, the inventory and playbook, a role's tasks,
 * which are per service, the README) belongs to no one instance.
 */
const INSTANCE_FILES: readonly (readonly [RegExp, ReadonlySet<string>])[] = [
  [/^apps\/application-([a-z0-9-]+)\.yaml$/, new Set(['namespace', 'secrets'])],
  // Flux applies the objects beside a chart on a remote cluster as `<instance>-manifests`.
  [new RegExp(`^apps/kustomization-([a-z0-9-]+?)(?:${MANIFESTS_SUFFIX})?\\.yaml$`), new Set(['namespace', 'secrets', 'values'])],
  [/^apps\/releases\/([a-z0-9-]+)\//, new Set()],
  [/^ansible\/roles\/[^/]+\/templates\/([a-z0-9-]+)\//, new Set()],
  [/^manifests\/([a-z0-9-]+)\//, new Set(['namespace', 'secrets'])],
  [/^values\/([a-z0-9-]+)\.yaml$/, new Set(['kustomization'])],
  [/^ansible\/group_vars\/([a-z0-9-]+)\//, new Set(['all'])],
];

/** The instance whose file is at `path`; undefined for the environment's shared files. */
function instanceOfFile(path: string): string | undefined {
  for (const [pattern, shared] of INSTANCE_FILES) {
    const name = pattern.exec(path)?.[1];
    if (name !== undefined) return shared.has(name) ? undefined : name;
  }
  return undefined;
}

/** The instances a change touches, from where their files live. */
function instancesOf(diff: TreeDiff): string[] {
  const names = new Set<string>();
  for (const path of [...diff.objects.map((o) => o.file), ...diff.files.map((f) => f.path)]) {
    const name = instanceOfFile(path);
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

/** The default review branch: the instances changed, and a hash of the target and the new output. */
async function reviewBranchName(reader: CommitReader, target: string, targetHead: string | undefined, files: ReadonlyMap<string, string>): Promise<string> {
  const state = targetHead ? (await reader.readFiles(targetHead, [STATE_FILE])).get(STATE_FILE) : undefined;
  // The same output reviewed against another target is another review, on another base.
  const hash = createHash('sha256').update(`${target}\0`).update(files.get(STATE_FILE) ?? '').digest('hex').slice(0, 7);
  const diff = diffTreesByState(state, files);
  const instances = instancesOf(diff).slice(0, 3);
  return `${instances.length > 0 ? instances.join('-') : 'update'}-${hash}`;
}

/** Which generated files differ from what the state file at the target head recorded (cheap: hashes only). */
function diffTreesByState(stateText: string | undefined, files: ReadonlyMap<string, string>): TreeDiff {
  const recorded = recordedHashes(stateText);
  const changed = [...files].filter(([path, content]) => path !== STATE_FILE && recorded[path] !== sha256(content)).map(([path]) => path);
  const removed = Object.keys(recorded).filter((path) => !files.has(path));
  return { objects: [], files: [...changed, ...removed].map((path) => ({ change: 'changed' as const, path, fields: [], lines: [] })) };
}

/** Detail lines of a commit message; a bigger change is summarized. */
const MAX_MESSAGE_LINES = 100;

function fieldList(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  return ` (${paths.slice(0, 5).join(', ')}${paths.length > 5 ? `, … ${paths.length - 5} more` : ''})`;
}

/** The commit message: a subject counting what changed, and one line per object and file. */
export function commitMessage(remote: Pick<EnvironmentRemote, 'site' | 'env'>, diff: TreeDiff, drift: readonly DriftedFile[]): string {
  const count = (c: string) => diff.objects.filter((o) => o.change === c).length;
  const parts: string[] = [];
  for (const c of ['added', 'changed', 'removed']) if (count(c) > 0) parts.push(`${count(c)} ${c}`);
  const objects = parts.length > 0 ? `objects ${parts.join(', ')}` : 'no object changes';
  const files = diff.files.length > 0 ? `; ${diff.files.length} other file${diff.files.length === 1 ? '' : 's'} changed` : '';
  const instances = instancesOf(diff);
  const lines = [`siteforge: ${remote.site}/${remote.env}: ${objects}${files}`, ''];
  if (instances.length > 0) lines.push(`Instances: ${instances.join(', ')}`, '');
  const details = [
    ...diff.objects.map((o) => `${o.change} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}${fieldList(o.fields.map((f) => f.path))}`),
    ...diff.files.map((f) => `${f.change} ${f.path}`),
  ];
  lines.push(...details.slice(0, MAX_MESSAGE_LINES));
  if (details.length > MAX_MESSAGE_LINES) lines.push(`… and ${details.length - MAX_MESSAGE_LINES} more`);
  if (drift.length > 0) lines.push('', `Overwrote drift in: ${drift.map((d) => d.path).join(', ')}`);
  return `${lines.join('\n').trimEnd()}\n`;
}
