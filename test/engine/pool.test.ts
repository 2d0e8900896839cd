import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { autoWorkers, SITES_PER_THREAD } from '../../engine/pool';

describe('--workers auto', () => {
  it('gives each thread at least SITES_PER_THREAD sites to render, and at most one thread per core', () => {
    expect(autoWorkers(0)).toBe(1);
    expect(autoWorkers(1)).toBe(1);
    expect(autoWorkers(SITES_PER_THREAD - 1)).toBe(1);
    expect(autoWorkers(2 * SITES_PER_THREAD)).toBe(Math.min(2, availableParallelism()));
    expect(autoWorkers(1000 * SITES_PER_THREAD)).toBe(availableParallelism());
  });
});
