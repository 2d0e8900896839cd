import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitAt, resolveCommit } from './git';
import type { EnvironmentRemote } from './remotes';

/**
 * What publish last pushed for each environment repository (`<outDir>/.siteforge-published.json`):
 * the remote, the branch, the commit it left there and the output hash it published. When the
 * output has not changed and the remote branch still points at that commit, there is nothing
 * to publish and no drift is possible, so the repository costs one `git ls-remote` instead of a
 * clone.
 */
export interface PublishedRecord {
  readonly url: string;
  /**
   * The branch the publish was for: `branch` itself when direct, else the one the review
   * branch was built on.
   * @default - not recorded (by an older siteforge): a review branch is published again
   */
  readonly target?: string;
  readonly branch: string;
  /** The branch head publish left (abbreviated or full). */
  readonly commit: string;
  readonly outputHash: string;
}

const FILE = '.siteforge-published.json';

/** The records of `outDir`; one that cannot be read, or is not a record, only costs its repository a full publish. */
export function readPublished(outDir: string): Record<string, PublishedRecord> {
  const file = join(outDir, FILE);
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter(([, record]) => isRecord(record))) as Record<string, PublishedRecord>;
}

function isRecord(value: unknown): value is PublishedRecord {
  const record = value as Partial<Record<keyof PublishedRecord, unknown>> | null;
  return typeof record === 'object' && record !== null && ['url', 'branch', 'commit', 'outputHash'].every((key) => typeof record[key as keyof PublishedRecord] === 'string')
    && (record.target === undefined || typeof record.target === 'string');
}

export function writePublished(outDir: string, records: Readonly<Record<string, PublishedRecord>>): void {
  const sorted = Object.fromEntries(Object.keys(records).sort().map((k) => [k, records[k]]));
  const file = join(outDir, FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(sorted, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/**
 * The commit `branch` of the remote points at, or undefined when the branch does not exist:
 * `git ls-remote`, or for a local bare repository its ref (read without running git).
 */
export async function remoteHead(outDir: string, remote: Pick<EnvironmentRemote, 'url' | 'local'>, branch: string): Promise<string | undefined> {
  if (remote.local) return resolveCommit(gitAt(remote.url), `refs/heads/${branch}`);
  const line = (await gitAt(outDir).raw(['ls-remote', '--heads', '--', remote.url, `refs/heads/${branch}`])).trim();
  return line ? line.split(/\s+/)[0] : undefined;
}
