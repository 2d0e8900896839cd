import { availableParallelism } from 'node:os';

/** Runs `work` on every item with at most `limit` running at once; results keep the items' order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * A function that runs the tasks given it with at most `limit` running at once, in the order
 * given, each resolving as its task does.
 */
export function concurrencyLimit(limit: number): <R>(task: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <R>(task: () => Promise<R>): Promise<R> => {
    // A task that ends hands its place to the next waiting one: were the place freed, a task
    // given before that one's turn came (a microtask later) would take it, out of order and
    // beyond the limit.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * A synth worker thread takes about 0.5 s to start (it loads siteforge, the catalog and the
 * fleet) and its first site is slow: within a warm process a thread is worth it from about 40
 * sites to render (bench/HISTORY.md, "Both cores").
 */
export const SITES_PER_THREAD = 40;

/** Threads for synthesizing `sites` sites: one per SITES_PER_THREAD, at most one per core. */
export function autoWorkers(sites: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(sites / SITES_PER_THREAD)));
}
