import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSafePath, readState, sha256, STATE_FILE } from './output';

/**
 * What synth last saw of each environment repository it wrote, as git's index does for a
 * working tree: `<repo>` → a digest of its files' paths, change times (`ctime`, which no tool
 * sets back), sizes and inodes, taken when they held what the state file lists. Files whose
 * digest is unchanged are trusted without being read. Kept in `<outDir>/.siteforge-index.json`;
 * local to that folder (inodes are), never published, and a missing or unreadable index only
 * costs reading every file once.
 */
export type OutputIndex = Readonly<Record<string, string>>;

export const INDEX_FILE = '.siteforge-index.json';

/** The index of `outDir`; empty when there is none or it cannot be read. */
export function readOutputIndex(outDir: string): OutputIndex {
  try {
    const index = JSON.parse(readFileSync(join(outDir, INDEX_FILE), 'utf8')) as { repositories?: Record<string, string> };
    return typeof index.repositories === 'object' && index.repositories !== null ? index.repositories : {};
  } catch {
    return {};
  }
}

/** How an environment's output was found intact. */
export interface IntactOutput {
  /** Files of the repository, its state file included. */
  readonly files: number;
  /** Trusted from the index, unread; false when its files were read and hashed. */
  readonly seen: boolean;
}

/**
 * Whether the files of `<outDir>/<repo>` are as synth rendered them from inputs hashing to
 * `inputHash`, none changed or removed since; undefined when the environment must be rendered.
 * When their digest is `seenDigest` (the index's), they are trusted; otherwise each is read
 * and compared with the hash its state file lists.
 */
export function intactOutput(outDir: string, repo: string, inputHash: string, seenDigest: string | undefined): IntactOutput | undefined {
  const repoDir = join(outDir, repo);
  const state = readState(repoDir);
  if (state?.inputHash !== inputHash) return undefined;
  const paths = Object.keys(state.files);
  const files = paths.length + 1;
  const seen = statDigest(repoDir, [...paths, STATE_FILE]);
  if (seen === undefined) return undefined;
  if (seen.digest === seenDigest) return { files, seen: true };
  for (const path of paths) {
    if (sha256(readFileSync(join(repoDir, path), 'utf8')) !== state.files[path]) return undefined;
  }
  return { files, seen: false };
}

/** The longest synth waits for the file system's clock to tick before recording what it saw. */
const TICK_WAIT_LIMIT_MS = 50;

/**
 * Records in the index of `outDir` what the files of `seen` repositories are now (synth just
 * wrote them or read them whole), and drops `gone` ones. An edit made in the same clock tick
 * as a file's last change would keep its change time, so synth first waits for the file
 * system's clock to tick, and leaves out a repository with a file changed since that tick
 * (it is read on the next synth). A folder where the index cannot be written keeps the old one.
 */
export function recordSeenOutput(outDir: string, index: OutputIndex, seen: readonly string[], gone: readonly string[]): void {
  const updated: Record<string, string> = { ...index };
  for (const repo of gone) delete updated[repo];
  // Environments that read environment variables are rendered every time: nothing to record.
  const states = seen.map((repo) => ({ repo, state: readState(join(outDir, repo)) })).filter(({ state }) => state?.inputHash !== undefined);
  const probe = join(outDir, `${INDEX_FILE}.${process.pid}.tmp`);
  try {
    if (states.length > 0) {
      const tick = nextTick(probe);
      for (const { repo, state } of states) {
        const now = statDigest(join(outDir, repo), [...Object.keys(state!.files), STATE_FILE]);
        if (now !== undefined && now.newest < tick) updated[repo] = now.digest;
        else delete updated[repo];
      }
    }
    const sorted = Object.fromEntries(Object.keys(updated).sort().map((repo) => [repo, updated[repo]]));
    const text = `${JSON.stringify({ repositories: sorted }, null, 2)}\n`;
    if (text !== `${JSON.stringify({ repositories: index }, null, 2)}\n`) {
      writeFileSync(probe, text);
      renameSync(probe, join(outDir, INDEX_FILE));
    }
  } catch {
    // The index only spares reading files; without it they are read.
  } finally {
    rmSync(probe, { force: true });
  }
}

/**
 * Writes `probe` until the file system gives it a later change time than at first, and returns
 * that time: any file changed after this call has a change time at least as late. Gives up
 * after TICK_WAIT_LIMIT_MS (a file system counting whole seconds), returning the first time.
 */
function nextTick(probe: string): bigint {
  writeFileSync(probe, '');
  const first = statSync(probe, { bigint: true }).ctimeNs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = performance.now() + TICK_WAIT_LIMIT_MS; performance.now() < deadline;) {
    Atomics.wait(sleeper, 0, 0, 1);
    writeFileSync(probe, '');
    const now = statSync(probe, { bigint: true }).ctimeNs;
    if (now > first) return now;
  }
  return first;
}

/** A digest of what the files at `paths` of `repoDir` are on disk, and their latest change time; undefined when one is missing or not a file. */
function statDigest(repoDir: string, paths: readonly string[]): { digest: string; newest: bigint } | undefined {
  const hash = createHash('sha256');
  let newest = 0n;
  for (const path of paths) {
    if (!isSafePath(path)) return undefined;
    const stat = statSync(join(repoDir, path), { bigint: true, throwIfNoEntry: false });
    if (!stat?.isFile()) return undefined;
    hash.update(`${path}\0${stat.ctimeNs}\0${stat.size}\0${stat.ino}\0`);
    if (stat.ctimeNs > newest) newest = stat.ctimeNs;
  }
  return { digest: hash.digest('base64url'), newest };
}
