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

/** Records which tasks start, in order, and the most running at once. */
function taskRecorder<Name>() {
  const record = { started: [] as Name[], most: 0 };
  let running = 0;
  const start = (name: Name) => {
    record.started.push(name);
    record.most = Math.max(record.most, ++running);
  };
  const end = () => void running--;
  /** A task that runs 5 ms, then gives what `outcome` gives (or throws what it throws). */
  const task = <R>(name: Name, outcome: () => R) => async () => {
    start(name);
    await new Promise((resolve) => setTimeout(resolve, 5));
    end();
    return outcome();
  };
  return { record, start, end, task };
}

describe('concurrencyLimit', () => {
  it('runs at most so many tasks at once, in the order given, each resolving or rejecting as its task does', async () => {
    const run = concurrencyLimit(2);
    const { record, task } = taskRecorder<number>();
    const outcome = (i: number) => () => {
      if (i === 3) throw new Error('task 3 failed');
      return i * 10;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => run(task(i, outcome(i)))));
    expect(record.most).toBe(2);
    expect(record.started).toStrictEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toStrictEqual([0, 10, 20, 'task 3 failed', 40, 50]);
  });

  it('keeps a task given as another ends waiting behind the tasks given before it, within the limit', async () => {
    const run = concurrencyLimit(1);
    const { record, start, end, task } = taskRecorder<string>();
    // The first task's promise is settled by the test, so that a third task can be given
    // right after it ends, before the second (waiting for it) has had its turn.
    let endFirst = () => {};
    const first = run(() => {
      start('first');
      return new Promise<void>((resolve) => (endFirst = () => (end(), resolve())));
    });
    const second = run(task('second', () => undefined));
    let third: Promise<void> | undefined;
    endFirst();
    queueMicrotask(() => (third = run(task('third', () => undefined))));
    await first;
    await Promise.all([second, third]);
    expect(record.started).toStrictEqual(['first', 'second', 'third']);
    expect(record.most).toBe(1);
  });
});
