import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { autoWorkers, concurrencyLimit, SITES_PER_THREAD } from '../../engine/pool';

describe('--workers auto', () => {
  it('gives each thread at least SITES_PER_THREAD sites to render, and at most one thread per core', () => {
    expect(autoWorkers(0)).toBe(1);
    expect(autoWorkers(1)).toBe(1);
    expect(autoWorkers(SITES_PER_THREAD - 1)).toBe(1);
    expect(autoWorkers(2 * SITES_PER_THREAD)).toBe(Math.min(2, availableParallelism()));
    expect(autoWorkers(1000 * SITES_PER_THREAD)).toBe(availableParallelism());
  });
});

describe('concurrencyLimit', () => {
  it('runs at most so many tasks at once, in the order given, each resolving or rejecting as its task does', async () => {
    const run = concurrencyLimit(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (i === 3) throw new Error('task 3 failed');
      return i * 10;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => run(task(i))));
    expect(most).toBe(2);
    expect(started).toStrictEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toStrictEqual([0, 10, 20, 'task 3 failed', 40, 50]);
  });

  it('keeps a task given as another ends waiting behind the tasks given before it, within the limit', async () => {
    const run = concurrencyLimit(1);
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const task = (name: string) => async () => {
      started.push(name);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    };
    // The first task's promise is settled by the test, so that a third task can be given
    // right after it ends, before the second (waiting for it) has had its turn.
    let endFirst = () => {};
    const first = run(() => {
      started.push('first');
      most = Math.max(most, ++running);
      return new Promise<void>((resolve) => (endFirst = () => (running--, resolve())));
    });
    const second = run(task('second'));
    let third: Promise<void> | undefined;
    endFirst();
    queueMicrotask(() => (third = run(task('third'))));
    await first;
    await Promise.all([second, third]);
    expect(started).toStrictEqual(['first', 'second', 'third']);
    expect(most).toBe(1);
  });
});
