import { linkSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './errors';

/** Held in an output folder by the synth writing to it: `<pid>@<host>`. */
export const LOCK_FILE = '.siteforge-lock';

/**
 * After how long a lock of another host is taken as left by a synth that was stopped (its
 * process cannot be asked): a synth holds it for seconds, and a CI container gets a new host
 * name each job.
 */
const FOREIGN_LOCK_LIFETIME_MS = 60 * 60 * 1000;

/**
 * The lock of one output folder: one synth at a time writes to it (see OutputTransaction).
 * Taken with an exclusive create; one left by a process of this host that no longer runs, or
 * by another host an hour ago, is taken over. Released only while it is still this one.
 */
export class OutputLock {
  /**
   * Takes the lock of `outDir`, or says who holds it. `made` is the first folder of `outDir`'s
   * path that the caller made for it: released, the lock removes it again (with the folders
   * below it) while empty, as a synth that failed there wrote nothing.
   */
  static take(outDir: string, made?: string): OutputLock {
    const file = join(outDir, LOCK_FILE);
    const text = `${process.pid}@${hostname()}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, text, { flag: 'wx' });
        return new OutputLock(outDir, file, text, made);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          // Made, but not written (a full disk): no one else's.
          rmSync(file, { force: true });
          throw e;
        }
      }
      const held = heldBy(file);
      if (held === undefined) continue; // released meanwhile
      if (!held.stale) {
        throw new UserError(`another siteforge (${held.who}) is writing to ${outDir}; run again when it is done (if no siteforge runs, delete ${file})`);
      }
      breakStaleLock(file, held.text);
    }
    throw new UserError(`cannot take ${file}: another siteforge keeps taking it; run again when it is done`);
  }

  private released = false;

  private constructor(private readonly outDir: string, private readonly file: string, private readonly text: string, private readonly made?: string) {}

  /** Throws, naming who does, when this process no longer holds the lock. */
  assertHeld(): void {
    if (!this.released && heldBy(this.file)?.text === this.text) return;
    throw new UserError(`another siteforge took over ${this.file} while this one ran; nothing of this synth was written to ${this.outDir}; run again`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (heldBy(this.file)?.text === this.text) rmSync(this.file, { force: true });
    if (this.made !== undefined) removeMadeFolders(this.outDir, this.made);
  }
}

/**
 * Removes `dir`, then each folder above it up to `made` (the first one made for it), while
 * each is empty: an output folder made for a synth that then wrote nothing. A folder that
 * holds anything stays, and so does every folder above it.
 */
export function removeMadeFolders(dir: string, made: string): void {
  const top = resolve(made);
  for (let current = resolve(dir); current.startsWith(top); current = dirname(current)) {
    try {
      rmdirSync(current);
    } catch {
      return;
    }
    if (current === top) return;
  }
}

/**
 * Removes the lock `file` while it holds `staleText`, which was found stale. Another siteforge
 * may have broken it and taken the lock between that finding and now, so the file is first
 * moved aside in one step (a rename: of two processes, one gets it), then read: a lock that is
 * not the stale one is put back, unless a third took the lock meanwhile; its holder then finds
 * it gone before it writes anything (see assertHeld).
 */
export function breakStaleLock(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // gone: another process broke it first
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleText) linkSync(aside, file);
  } catch {
    // Taken by a third process meanwhile: the one moved aside has lost it.
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Who holds `file`, and whether that holder is gone; undefined when there is no lock. */
function heldBy(file: string): { text: string; who: string; stale: boolean } | undefined {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(file, 'utf8');
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const [pid, ...rest] = text.trim().split('@');
  const host = rest.join('@');
  if (host !== '' && host !== hostname()) {
    return { text, who: `process ${pid} on ${host}`, stale: ageMs > FOREIGN_LOCK_LIFETIME_MS };
  }
  const id = Number(pid);
  return { text, who: `process ${pid}`, stale: !(Number.isInteger(id) && id > 0 && isRunning(id)) };
}

/** Whether process `pid` runs (one of another user counts: signalling it is refused, not failed). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
