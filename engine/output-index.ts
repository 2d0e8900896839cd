import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSafePath, readState, sha256, STATE_FILE, statKey, stateText, type EnvironmentState } from './output';

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
  /**
   * statKey of each file, taken before it was read and found as its state file lists.
   * @default - none: the index vouched for the files, and they were not read
   */
  readonly seenStats?: Readonly<Record<string, string>>;
}

/**
 * Whether the files of `<outDir>/<repo>` are as synth rendered them from inputs hashing to
 * `inputHash`, none changed or removed since; undefined when the environment must be rendered.
 * When their digest is `seenDigest` (the index's), they are trusted; otherwise each is read
 * and compared with the hash its state file lists. Every file is stat'ed before it is read.
 */
export function intactOutput(outDir: string, repo: string, inputHash: string, seenDigest: string | undefined): IntactOutput | undefined {
  const repoDir = join(outDir, repo);
  const stateKey = statKey(join(repoDir, STATE_FILE));
  const state = readState(repoDir);
  if (stateKey === undefined || state?.inputHash !== inputHash) return undefined;
  const keys = fileKeys(repoDir, state, stateKey);
  if (keys === undefined) return undefined;
  const paths = Object.keys(state.files);
  const files = paths.length + 1;
  if (digestOf(keys) === seenDigest) return { files };
  // The state file as synth writes it (not reformatted, no entry dropped), and every file it lists.
  if (readFileSync(join(repoDir, STATE_FILE), 'utf8') !== stateText(state.files, inputHash)) return undefined;
  for (const path of paths) {
    if (sha256(readFileSync(join(repoDir, path))) !== state.files[path]) return undefined;
  }
  return { files, seenStats: keys };
}

/**
 * Whether the files of `<outDir>/<repo>` (its state file and every file that lists) are as
 * the index last saw them (`seenDigest`): as synth wrote them, or read them and found them
 * right, none changed since. Publish without synth then knows, without reading them, that
 * they are what synth wrote.
 */
export function indexedOutput(outDir: string, repo: string, seenDigest: string | undefined): boolean {
  if (seenDigest === undefined) return false;
  const repoDir = join(outDir, repo);
  const stateKey = statKey(join(repoDir, STATE_FILE));
  const state = readState(repoDir);
  if (stateKey === undefined || !state) return false;
  const keys = fileKeys(repoDir, state, stateKey);
  return keys !== undefined && digestOf(keys) === seenDigest;
}

/**
 * The statKey of the state file (`stateKey`, taken before it was read) and of every file
 * `state` lists, by path; undefined when a listed file is missing, or a listed path is not one
 * synth writes.
 */
function fileKeys(repoDir: string, state: EnvironmentState, stateKey: string): Record<string, string> | undefined {
  const paths = Object.keys(state.files);
  if (!paths.every(isSafePath)) return undefined;
  const keys: Record<string, string> = { [STATE_FILE]: stateKey };
  for (const path of paths) {
    const key = statKey(join(repoDir, path));
    if (key === undefined) return undefined;
    keys[path] = key;
  }
  return keys;
}

/** What synth vouches for in one repository: the statKey of each file when it was known to hold what it should. */
export interface SeenRepository {
  readonly repo: string;
  readonly stats: Readonly<Record<string, string>>;
}

/** The longest synth waits for the file system's clock to tick before recording what it saw. */
const TICK_WAIT_LIMIT_MS = 50;

/**
 * Records in the index of `outDir` the repositories synth rendered or read whole (`seen`),
 * each by the stats synth took as it wrote or read their files, and drops `gone` ones. A file
 * edited since then has another stat, so the next synth reads its repository. An edit made in
 * the same clock tick as a file's last change would keep its change time, so synth first
 * waits for the file system's clock to tick, and leaves out a repository with a file changed
 * in that tick (on a file system whose clock ticks slower than TICK_WAIT_LIMIT_MS): an edit
 * after the index is recorded is always seen. A folder where the index cannot be written
 * keeps the old one.
 */
export function recordSeenOutput(outDir: string, index: OutputIndex, seen: readonly SeenRepository[], gone: readonly string[]): void {
  const updated: Record<string, string> = { ...index };
  for (const repo of gone) delete updated[repo];
  // Named like a staging folder, so that the next synth removes it if this one is killed.
  const probe = join(outDir, `.siteforge-staging-index-${process.pid}`);
  try {
    const tick = seen.length > 0 ? nextTick(probe) : 0n;
    for (const { repo, stats } of seen) {
      if (Object.values(stats).every((key) => changeTime(key) < tick)) updated[repo] = digestOf(stats);
      else delete updated[repo];
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

/** The index's digest of a repository: the statKey of each of its files (its state file included), by path. */
function digestOf(keys: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const path of Object.keys(keys).sort()) hash.update(`${path}\0${keys[path]}\0`);
  return hash.digest('base64url');
}

/** The change time a statKey holds. */
function changeTime(key: string): bigint {
  return BigInt(key.split(':')[0] || '0');
}
