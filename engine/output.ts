import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../constructs';
import { UserError } from './errors';

/** Where siteforge records what it wrote in an environment repository. */
export const STATE_FILE = '.siteforge/state.json';

/** `.siteforge/state.json`: the hash of every file siteforge manages in the repository. */
export interface EnvironmentState {
  readonly generator: 'siteforge';
  /** Path → `sha256:<hex>` of its content. */
  readonly files: Readonly<Record<string, string>>;
}

export function sha256(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** The state file content for `files`. */
export function stateFileOf(files: readonly RenderedFile[]): RenderedFile {
  const hashes: Record<string, string> = {};
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) hashes[f.path] = sha256(f.content);
  const state: EnvironmentState = { generator: 'siteforge', files: hashes };
  return { path: STATE_FILE, content: JSON.stringify(state, null, 2) + '\n' };
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

/** What writing one environment will change. */
export interface EnvironmentChanges {
  /** Repository folder, relative to the output folder: `<site>/<env>`. */
  readonly repo: string;
  readonly written: readonly string[];
  readonly deleted: readonly string[];
  readonly unchanged: number;
}

/**
 * Writes environment repositories all or nothing. `stage` compares each environment's files
 * with what is on disk and copies only the changed ones into a staging folder inside the
 * output folder (same file system); nothing under the output changes until `commit`, which
 * renames them into place and deletes the files no longer generated. `abort` (or a failure
 * before `commit`) leaves the previous output exactly as it was.
 */
export class OutputTransaction {
  private readonly staging: string;
  private readonly plans: { changes: EnvironmentChanges; staged: string[] }[] = [];

  constructor(private readonly outDir: string) {
    this.staging = join(outDir, `.siteforge-staging-${process.pid}`);
    try {
      mkdirSync(outDir, { recursive: true });
      for (const entry of readdirSync(outDir)) {
        if (entry.startsWith('.siteforge-staging-')) rmSync(join(outDir, entry), { recursive: true, force: true });
      }
      mkdirSync(this.staging);
    } catch (e) {
      throw ioError(`cannot write to ${outDir}`, e);
    }
  }

  /** Stages the files of the repository at `<outDir>/<repo>`, plus its state file. */
  public stage(repo: string, files: readonly RenderedFile[]): EnvironmentChanges {
    const repoDir = join(this.outDir, repo);
    const all = [...files, stateFileOf(files)];
    const previous = readState(repoDir);
    const written: string[] = [];
    const deleted: string[] = [];
    let unchanged = 0;
    for (const file of all) {
      assertSafePath(file.path);
      const target = join(repoDir, file.path);
      if (existsSync(target) && readFileSync(target, 'utf8') === file.content) {
        unchanged++;
        continue;
      }
      const stagedFile = join(this.staging, repo, file.path);
      try {
        mkdirSync(dirname(stagedFile), { recursive: true });
        writeFileSync(stagedFile, file.content);
      } catch (e) {
        throw ioError(`cannot stage ${join(repo, file.path)}; the previous output is unchanged`, e);
      }
      written.push(file.path);
    }
    const current = new Set(all.map((f) => f.path));
    for (const path of Object.keys(previous?.files ?? {}).sort()) {
      if (!current.has(path) && isSafePath(path) && existsSync(join(repoDir, path))) deleted.push(path);
    }
    const changes: EnvironmentChanges = { repo, written, deleted, unchanged };
    this.plans.push({ changes, staged: written });
    return changes;
  }

  /** Stages the removal of every file siteforge manages in `<outDir>/<repo>`. */
  public stageRemoval(repo: string): EnvironmentChanges {
    const repoDir = join(this.outDir, repo);
    const managed = Object.keys(readState(repoDir)?.files ?? {}).filter(isSafePath);
    const changes: EnvironmentChanges = {
      repo,
      written: [],
      deleted: [...managed, STATE_FILE].filter((p) => existsSync(join(repoDir, p))).sort(),
      unchanged: 0,
    };
    this.plans.push({ changes, staged: [] });
    return changes;
  }

  /** Moves every staged file into place and deletes stale ones. */
  public commit(): void {
    for (const { changes, staged } of this.plans) {
      const repoDir = join(this.outDir, changes.repo);
      for (const path of staged) {
        const target = join(repoDir, path);
        mkdirSync(dirname(target), { recursive: true });
        renameSync(join(this.staging, changes.repo, path), target);
      }
      for (const path of changes.deleted) {
        rmSync(join(repoDir, path), { force: true });
        removeEmptyParents(dirname(join(repoDir, path)), this.outDir);
      }
    }
    this.abort();
  }

  /** Drops everything staged; the output is left as it was. */
  public abort(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

function isSafePath(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && !path.includes('\\') &&
    path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function assertSafePath(path: string): void {
  if (!isSafePath(path)) throw new Error(`refusing to write outside the repository: ${JSON.stringify(path)}`);
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
  };
  const reason = (code && reasons[code]) ?? (cause as Error).message;
  return new UserError(`${message}: ${reason}`);
}
