import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../constructs';
import { UserError } from './errors';
import { OutputLock, removeMadeFolders } from './output-lock';

/** Where siteforge records what it wrote in an environment repository. */
export const STATE_FILE = '.siteforge/state.json';

/** `.siteforge/state.json`: the hash of every file siteforge manages in the repository. */
export interface EnvironmentState {
  readonly generator: 'siteforge';
  /**
   * Hash of everything the environment's files were rendered from: its site's whole construct
   * tree (see `inputText`), its services' catalog folders and siteforge's own code. Absent when
   * that is not everything: the environment reads environment variables (secrets, the vault
   * password) or its tree holds a value that cannot be written down; such an environment is
   * rendered on every synth.
   */
  readonly inputHash?: string;
  /** Hash of `files`: changes exactly when some generated file does. */
  readonly outputHash: string;
  /** Path → `sha256:<hex>` of its content. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * Put in place while synth moves the repository's files (see OutputTransaction.commit), and
   * left when it was stopped there: the repository may be half written. The next synth renders
   * it again; publish refuses it.
   */
  readonly interrupted?: true;
}

/** `sha256:<hex>` of `content` (a string as its UTF-8 bytes). */
export function sha256(content: string | Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** The state file content for `files`, rendered from inputs hashing to `inputHash`. */
export function stateFileOf(files: readonly RenderedFile[], inputHash: string | undefined): RenderedFile {
  const hashes: Record<string, string> = {};
  for (const f of files) hashes[f.path] = sha256(f.content);
  return { path: STATE_FILE, content: stateText(hashes, inputHash) };
}

/**
 * The text of the state recording `files` (path → hash), rendered from inputs hashing to
 * `inputHash`; `interrupted` while synth moves files (see EnvironmentState).
 */
export function stateText(files: Readonly<Record<string, string>>, inputHash: string | undefined, interrupted = false): string {
  const sorted = Object.fromEntries(Object.keys(files).sort().map((path) => [path, files[path]]));
  const state: EnvironmentState = {
    generator: 'siteforge',
    ...(inputHash ? { inputHash } : {}),
    outputHash: sha256(JSON.stringify(sorted)),
    files: sorted,
    ...(interrupted ? { interrupted: true } : {}),
  };
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** The path → hash a state file's text records; none when it cannot be read. */
export function recordedHashes(stateText: string | undefined): Record<string, string> {
  try {
    return (JSON.parse(stateText ?? '{}') as { files?: Record<string, string> }).files ?? {};
  } catch {
    return {};
  }
}

/** The state recorded in `repoDir`, or undefined when there is none (or it is unreadable). */
export function readState(repoDir: string): EnvironmentState | undefined {
  try {
    const state = JSON.parse(readFileSync(join(repoDir, STATE_FILE), 'utf8')) as EnvironmentState;
    return state.generator === 'siteforge' && typeof state.files === 'object' ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A file's stat as the output index compares it (see output-index.ts): change time, size and
 * inode; undefined when it is missing or not a file.
 */
export function statKey(file: string): string | undefined {
  let stat;
  try {
    stat = statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    // A file where one of its folders should be: it is missing all the same.
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  return stat?.isFile() ? keyOf(stat) : undefined;
}

function keyOf(stat: BigIntStats): string {
  return `${stat.ctimeNs}:${stat.size}:${stat.ino}`;
}

/** Writes `content` to `file` and returns the file's statKey once written. */
function writeFileWithKey(file: string, content: string | Uint8Array): string {
  const fd = openSync(file, 'w');
  try {
    writeFileSync(fd, content);
    return keyOf(fstatSync(fd, { bigint: true }));
  } finally {
    closeSync(fd);
  }
}

/** What writing one environment will change. */
export interface EnvironmentChanges {
  /** Repository folder, relative to the output folder: `<site>/<env>`. */
  readonly repo: string;
  readonly written: readonly string[];
  readonly deleted: readonly string[];
  readonly unchanged: number;
}

/** An environment whose changed files are staged, ready to be moved into place. */
export interface StagedEnvironment extends EnvironmentChanges {
  /** The repository did not exist: its whole folder was staged and is moved in one rename. */
  readonly fresh: boolean;
  /**
   * statKey of each file found already holding its content, taken before that content was
   * read, and, in a fresh repository, of each file as it was written (moving the repository's
   * folder into place changes none): with the files `commit` places, what synth vouches for
   * in the output index.
   * @default - none: the environment was trusted from the output index, unread, or has no
   * input hash (it is rendered every time)
   */
  readonly seenStats?: Readonly<Record<string, string>>;
}

/**
 * Compares an environment's files with what is in `<outDir>/<repo>` and writes the changed
 * ones (and the state file) under `<stagingDir>/<repo>`. Nothing under the output changes.
 * Runs in worker threads too, so it keeps no state of its own.
 */
export function stageEnvironment(
  outDir: string,
  stagingDir: string,
  repo: string,
  files: readonly RenderedFile[],
  inputHash: string | undefined,
): StagedEnvironment {
  const repoDir = join(outDir, repo);
  const fresh = !existsSync(repoDir);
  const all = [...files, stateFileOf(files, inputHash)];
  const previous = fresh ? undefined : readState(repoDir);
  const current = new Set(all.map((f) => f.path));
  const deleted = Object.keys(previous?.files ?? {}).sort().filter((path) => !current.has(path) && isSafePath(path) && isFileOrLink(join(repoDir, path)));
  const goingAway = new Set(deleted);
  const written: string[] = [];
  const madeDirs = new Set<string>();
  const seenStats: Record<string, string> = {};
  let unchanged = 0;
  for (const file of all) {
    assertSafePath(file.path);
    if (!fresh) {
      const target = join(repoDir, file.path);
      const key = statKey(target);
      // Bytes, not text: reading invalid UTF-8 as text would make it look like U+FFFD.
      if (key !== undefined && readFileSync(target).equals(Buffer.from(file.content))) {
        seenStats[file.path] = key;
        unchanged++;
        continue;
      }
      assertNothingInTheWay(outDir, repo, file.path, goingAway);
    }
    const stagedFile = join(stagingDir, repo, file.path);
    try {
      const dir = dirname(stagedFile);
      if (!madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        madeDirs.add(dir);
      }
      // A fresh repository's files keep their stat when its folder is moved into place; other files are moved one by one, which changes it.
      if (fresh) seenStats[file.path] = writeFileWithKey(stagedFile, file.content);
      else writeFileSync(stagedFile, file.content);
    } catch (e) {
      throw ioError(`cannot stage ${join(repo, file.path)}; the previous output is unchanged`, e);
    }
    written.push(file.path);
  }
  return { repo, written, deleted, unchanged, fresh, seenStats: inputHash === undefined ? undefined : seenStats };
}

/**
 * Writes environment repositories all or nothing. Environments are staged (see
 * stageEnvironment) into a staging folder inside the output folder, on the same file system;
 * nothing under the output changes until `commit`, which renames them into place and deletes
 * the files no longer generated. `abort` (or a failure before `commit`) leaves the previous
 * output exactly as it was. One transaction at a time writes to an output folder: it holds its
 * OutputLock from its start until `abort`, which ends every transaction.
 */
export class OutputTransaction {
  public readonly stagingDir: string;
  private readonly staged: StagedEnvironment[] = [];
  private readonly lock: OutputLock;
  private readonly ownsLock: boolean;

  /**
   * @param heldLock the output folder's lock, held by the caller (publish, for its whole run)
   * @default - takes the lock itself, and releases it in `abort`
   */
  constructor(private readonly outDir: string, heldLock?: OutputLock) {
    this.stagingDir = join(outDir, `.siteforge-staging-${process.pid}`);
    this.ownsLock = heldLock === undefined;
    this.lock = heldLock ?? takeOutputLock(outDir);
    try {
      // Left by a synth that was killed: the lock says none is running.
      for (const entry of readdirSync(outDir)) {
        if (entry.startsWith('.siteforge-staging-')) rmSync(join(outDir, entry), { recursive: true, force: true });
      }
      mkdirSync(this.stagingDir);
    } catch (e) {
      if (this.ownsLock) this.lock.release();
      throw ioError(`cannot write to ${outDir}`, e);
    }
  }

  /** Records an environment staged elsewhere (by a worker) into this transaction's staging folder. */
  public add(staged: StagedEnvironment): EnvironmentChanges {
    this.staged.push(staged);
    return staged;
  }

  /**
   * Stages the removal of every file siteforge manages in `<outDir>/<repo>` (the state file
   * goes last, so a synth killed meanwhile leaves it to list what is left).
   */
  public stageRemoval(repo: string): EnvironmentChanges {
    const repoDir = join(this.outDir, repo);
    const managed = Object.keys(readState(repoDir)?.files ?? {}).filter(isSafePath);
    return this.add({
      repo,
      written: [],
      deleted: [...managed, STATE_FILE].filter((p) => isFileOrLink(join(repoDir, p))).sort(),
      unchanged: 0,
      fresh: false,
    });
  }

  /**
   * Moves every staged file into place and deletes stale ones. Returns, per repository, the
   * statKey of each file it placed one by one, taken as it was placed (a fresh repository's
   * folder is moved whole: its files' keys were taken as they were staged). Killed at any point, it leaves each
   * repository's state file listing every file siteforge put there, so the next synth finds
   * and removes the ones it no longer generates: a repository that gains files first gets a
   * state listing its old and new files (and no input hash, so it is rendered again), and its
   * final state is placed last.
   */
  public commit(): Map<string, Record<string, string>> {
    this.lock.assertHeld();
    const placed = new Map<string, Record<string, string>>();
    for (const env of this.staged) {
      const repoDir = join(this.outDir, env.repo);
      const keys: Record<string, string> = {};
      placed.set(env.repo, keys);
      const statPlaced = (path: string) => {
        const key = statKey(join(repoDir, path));
        if (key !== undefined) keys[path] = key;
      };
      if (env.fresh) {
        mkdirSync(dirname(repoDir), { recursive: true });
        renameSync(join(this.stagingDir, env.repo), repoDir);
        continue;
      }
      // Whatever it held and will hold stays listed, in an interim state, until the final one.
      const newState = env.written.includes(STATE_FILE);
      if (newState) this.placeInterimState(env.repo, readState(repoDir)?.files ?? {});
      // Deleted first: a file may give way to a folder of the same name, or the reverse.
      for (const path of [...env.deleted.filter((p) => p !== STATE_FILE), ...env.deleted.filter((p) => p === STATE_FILE)]) {
        rmSync(join(repoDir, path), { force: true });
        removeEmptyParents(dirname(join(repoDir, path)), this.outDir);
      }
      const madeDirs = new Set<string>();
      for (const path of env.written) {
        if (path === STATE_FILE) continue;
        const target = join(repoDir, path);
        if (!madeDirs.has(dirname(target))) {
          mkdirSync(dirname(target), { recursive: true });
          madeDirs.add(dirname(target));
        }
        renameSync(join(this.stagingDir, env.repo, path), target);
        statPlaced(path);
      }
      if (newState) {
        renameSync(join(this.stagingDir, env.repo, STATE_FILE), join(repoDir, STATE_FILE));
        statPlaced(STATE_FILE);
      }
    }
    rmSync(this.stagingDir, { recursive: true, force: true });
    return placed;
  }

  /**
   * Puts in place, as `repo`'s state, one listing its `previous` files and those of its staged
   * state, with no input hash: what the repository holds while commit moves files.
   */
  private placeInterimState(repo: string, previous: Readonly<Record<string, string>>): void {
    const files = { ...previous, ...recordedHashes(readFileSync(join(this.stagingDir, repo, STATE_FILE), 'utf8')) };
    const file = join(this.stagingDir, '.interim-state.json');
    writeFileSync(file, stateText(files, undefined, true));
    mkdirSync(join(this.outDir, repo, '.siteforge'), { recursive: true });
    renameSync(file, join(this.outDir, repo, STATE_FILE));
  }

  /**
   * Ends the transaction: drops whatever is still staged (after `commit`, nothing; before it,
   * the output is left as it was) and releases the output folder.
   */
  public abort(): void {
    try {
      rmSync(this.stagingDir, { recursive: true, force: true });
    } finally {
      if (this.ownsLock) this.lock.release();
    }
  }
}

/**
 * The lock of `outDir` (made if need be, and removed again with the lock when it is still
 * empty then: a synth that fails leaves no folder behind), or why it cannot be taken.
 */
export function takeOutputLock(outDir: string): OutputLock {
  let made: string | undefined;
  try {
    made = mkdirSync(outDir, { recursive: true });
    return OutputLock.take(outDir, made);
  } catch (e) {
    if (made !== undefined) removeMadeFolders(outDir, made);
    if (e instanceof UserError) throw e;
    throw ioError(`cannot write to ${outDir}`, e);
  }
}

/** Whether `path` names one file inside the repository folder it is relative to (a NUL would cut it short). */
export function isSafePath(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && !path.includes('\\') && !path.includes('\0') &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function assertSafePath(path: string): void {
  if (!isSafePath(path)) throw new Error(`refusing to write outside the repository: ${JSON.stringify(path)}`);
}

/**
 * Refuses, before anything is moved, to write `path` in `<outDir>/<repo>` where a folder
 * stands, or where a file stands for one of its folders (moving the file there would fail half
 * way), unless what stands there is siteforge's own and `deleted` (commit removes it first).
 * Folders may be links to folders.
 */
function assertNothingInTheWay(outDir: string, repo: string, path: string, deleted: ReadonlySet<string>): void {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const inRepo = parts.slice(0, i).join('/');
    const last = i === parts.length;
    const where = join(outDir, repo, inRepo);
    const stat = (last ? lstatSync : statSync)(where, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (last && stat.isDirectory() && !onlyDeleted(join(outDir, repo), inRepo, deleted)) {
      throw new UserError(`${where} is a folder where siteforge writes a file; move it out of the output folder and synth again`);
    }
    if (!last && !stat.isDirectory()) {
      if (deleted.has(inRepo)) return;
      throw new UserError(`${where} is not a folder, but siteforge writes ${join(outDir, repo, path)} in it; move it out of the output folder and synth again`);
    }
  }
}

/**
 * Whether the folder `folder` of `repoDir` holds files in `deleted` and nothing else (folders
 * of them included): commit's deletions then remove it.
 */
function onlyDeleted(repoDir: string, folder: string, deleted: ReadonlySet<string>): boolean {
  const entries = readdirSync(join(repoDir, folder), { withFileTypes: true });
  return entries.length > 0 && entries.every((entry) => {
    const path = `${folder}/${entry.name}`;
    return entry.isDirectory() ? onlyDeleted(repoDir, path, deleted) : deleted.has(path);
  });
}

/**
 * Whether `path` is a file or a link, which commit may delete: a managed path that is a folder
 * now holds other files (a later synth's, made from it).
 */
function isFileOrLink(path: string): boolean {
  try {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    return stat !== undefined && !stat.isDirectory();
  } catch {
    return false; // a file where one of its folders should be: it is not there
  }
}

function removeEmptyParents(dir: string, stop: string): void {
  let current = dir;
  while (current.startsWith(stop) && current !== stop) {
    try {
      if (readdirSync(current).length > 0) return;
      rmdirSync(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

function ioError(message: string, cause: unknown): UserError {
  const code = (cause as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'part of the path is a file, not a folder',
    // mkdir of a path that is a file: the only EEXIST a recursive mkdir gives.
    EEXIST: 'it is a file, not a folder; name a folder (or one to create) with --out',
  };
  const reason = (code && reasons[code]) ?? (cause as Error).message;
  return new UserError(`${message}: ${reason}`);
}

/** `<site>/<env>` of every repository under `outDir` that siteforge wrote. */
export function managedRepositories(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  const repos: string[] = [];
  for (const site of readdirSync(outDir, { withFileTypes: true })) {
    if (!site.isDirectory() || site.name.startsWith('.')) continue;
    for (const env of readdirSync(join(outDir, site.name), { withFileTypes: true })) {
      if (env.isDirectory() && readState(join(outDir, site.name, env.name))) repos.push(`${site.name}/${env.name}`);
    }
  }
  return repos.sort();
}
