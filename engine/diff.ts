import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError } from './errors';
import type { Selection } from './fleet';
import { FastImport, type CommitReader } from './fast-import';
import { assertSafeBranch, gitErrorMessage, openRemote, removeDir, tempWorkDir } from './git';
import { recordedHashes, STATE_FILE } from './output';
import { mapPool } from './pool';
import { readSynthesized, resolveRemotes, type EnvironmentRemote } from './remotes';
import { diffTrees, isEmptyDiff, type TreeDiff } from './semantic-diff';
import { synth } from './synth';

export interface DiffOptions extends Selection {
  readonly fleet: readonly SiteDefinition[];
  readonly catalog: Catalog;
  /** Folder that receives `<site>/<env>/` repositories (synthesized first, as `synth` does). */
  readonly outDir: string;
  /**
   * Branch, tag or commit of each environment repository to compare with.
   * @default - the head of `target`
   */
  readonly against?: string;
  /**
   * Branch the environment repositories deploy from.
   * @default 'main'
   */
  readonly target?: string;
  /**
   * Repositories compared at once.
   * @default 4
   */
  readonly concurrency?: number;
  /** Called as the synth is done with each selected site (see SynthOptions.onSiteDone). */
  readonly onSiteDone?: (done: number, total: number) => void;
}

/** The differences between one environment's synthesized output and its repository. */
export interface EnvironmentDiff extends TreeDiff {
  readonly site: string;
  readonly env: string;
  /** Repository URL, credentials removed. */
  readonly remote: string;
  /** What the output was compared with: `main`, a ref, or `(new repository)`. */
  readonly against: string;
  /** Commit compared with, abbreviated. @default - none: the repository or branch does not exist yet */
  readonly commit?: string;
  /** Why this environment could not be compared. @default - it was compared */
  readonly error?: string;
}

export interface DiffReport {
  readonly environments: readonly EnvironmentDiff[];
}

/** Whether any environment differs from its repository (or could not be compared). */
export function hasDifferences(report: DiffReport): boolean {
  return report.environments.some((e) => e.error !== undefined || !isEmptyDiff(e));
}

/**
 * Synthesizes the selected environments (like `synth`, all or nothing) and compares each with
 * its repository's head (or `against`): Kubernetes objects by kind, namespace and name, other
 * files by key or line, secret values masked. A repository that cannot be read is reported
 * with its error; the others are still compared.
 */
export async function diffFleet(options: DiffOptions): Promise<DiffReport> {
  const target = options.target ?? 'main';
  assertSafeBranch(target, 'target branch');
  if (options.against !== undefined) assertSafeRef(options.against);
  const remotes = resolveRemotes(options.fleet, options.catalog, options, options.outDir);
  const report = await synth({ fleet: options.fleet, catalog: options.catalog, outDir: options.outDir, site: options.site, env: options.env, onSiteDone: options.onSiteDone });
  const environments = report.environments.filter((e) => !e.removed);
  const results = await mapPool(environments, options.concurrency ?? 4, async (e) => {
    const remote = remotes.get(e.repo)!;
    const newFiles = readSynthesized(options.outDir, e.repo);
    const base = { site: e.site, env: e.env, remote: remoteLabel(remote) };
    try {
      const old = await readRepository(remote, options.against ?? target, options.against === undefined, newFiles);
      return { ...base, against: old.commit ? options.against ?? target : '(new repository)', ...(old.commit ? { commit: old.commit } : {}), ...diffTrees(old.files, newFiles) };
    } catch (err) {
      const message = err instanceof UserError ? err.message : gitErrorMessage(err);
      return { ...base, against: options.against ?? target, objects: [], files: [], error: message };
    }
  });
  return { environments: results };
}

/**
 * The files of `commit` that siteforge manages (path → content): its state file, the files
 * that lists and those it generates now (`generated`). Two reads when files it listed are no
 * longer generated.
 */
export async function readManagedFiles(reader: CommitReader, commit: string, generated: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const files = await reader.readFiles(commit, [STATE_FILE, ...generated.keys()]);
  const gone = Object.keys(recordedHashes(files.get(STATE_FILE))).filter((path) => path !== STATE_FILE && !generated.has(path));
  for (const [path, content] of await reader.readFiles(commit, gone)) files.set(path, content);
  return files;
}

/**
 * The files of `remote` at `ref` (a branch of the remote, a tag or a commit). A repository or
 * default branch that does not exist yet reads as empty; a ref that was asked for must exist.
 */
async function readRepository(remote: EnvironmentRemote, ref: string, missingIsEmpty: boolean, generated: ReadonlyMap<string, string>): Promise<{ files: Map<string, string>; commit?: string }> {
  if (remote.local && !existsSync(remote.url)) {
    if (missingIsEmpty) return { files: new Map() };
    throw new UserError(`${remote.site}/${remote.env}: the repository does not exist yet, so it has no ${JSON.stringify(ref)}`);
  }
  const dir = tempWorkDir(`diff-${remote.site}-${remote.env}`);
  try {
    const workspace = await openRemote(remote.url, join(dir, 'repo.git'));
    const commit = await workspace.resolve(ref);
    if (!commit) {
      if (missingIsEmpty) return { files: new Map() };
      throw new UserError(`${remote.site}/${remote.env}: ${JSON.stringify(ref)} is neither a branch, a tag nor a commit of ${displayUrl(remote.url)}`);
    }
    const reader = FastImport.start(workspace.git);
    try {
      return { files: await readManagedFiles(reader, commit, generated), commit: commit.slice(0, 7) };
    } finally {
      await reader.close();
    }
  } finally {
    removeDir(dir);
  }
}

function assertSafeRef(ref: string): void {
  if (!/^[A-Za-z0-9._\/@{}^~-]+$/.test(ref) || ref.startsWith('-') || ref.includes('..')) {
    throw new UserError(`--against ${JSON.stringify(ref)} is not a branch, tag or commit name: use letters, digits, '.', '_', '-', '/' (not starting with '-')`);
  }
}

/** `url` without credentials (`https://user:token@host/...` → `https://***@host/...`). */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/:]*:[^@/]*@/, '$1***@');
}

/** How a repository is named in reports: a local bare repository by its path from the working directory. */
export function remoteLabel(remote: EnvironmentRemote): string {
  if (!remote.local) return displayUrl(remote.url);
  const path = relative(process.cwd(), remote.url);
  return path.startsWith('..') ? remote.url : path;
}
