import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveWorkers, SITES_PER_THREAD } from '../../cli/options';

describe('--workers', () => {
  it('auto gives each thread at least SITES_PER_THREAD sites, and at most one thread per core', async () => {
    expect(await resolveWorkers('auto', 1)).toBe(1);
    expect(await resolveWorkers('auto', SITES_PER_THREAD - 1)).toBe(1);
    expect(await resolveWorkers('auto', 2 * SITES_PER_THREAD)).toBe(Math.min(2, availableParallelism()));
    expect(await resolveWorkers('auto', 1000 * SITES_PER_THREAD)).toBe(availableParallelism());
  });

  it('a number is taken as it is', async () => {
    expect(await resolveWorkers(3, 1)).toBe(3);
  });
});
