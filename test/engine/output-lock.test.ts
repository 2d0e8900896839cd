import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { breakStaleLock, LOCK_FILE } from '../../engine/output-lock';
import { tempDir } from '../helpers';

describe('breakStaleLock', () => {
  it('removes the lock while it still holds what was found stale, leaving nothing beside it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), '4242@gone-host\n');
    breakStaleLock(join(dir, LOCK_FILE), '4242@gone-host\n');
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('leaves a lock another siteforge took after breaking the stale one, as that one wrote it', () => {
    // GIVEN a lock found stale, which another process broke and replaced by its own meanwhile
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), `${process.pid}@this-host\n`);
    // WHEN this process breaks what it found stale
    breakStaleLock(join(dir, LOCK_FILE), '4242@gone-host\n');
    // THEN the other's lock is in place, and nothing else is left
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}@this-host\n`);
    expect(readdirSync(dir)).toStrictEqual([LOCK_FILE]);
  });

  it('does nothing when the lock is gone already', () => {
    const dir = tempDir();
    breakStaleLock(join(dir, LOCK_FILE), '4242@gone-host\n');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(readdirSync(dir)).toStrictEqual([]);
  });
});
