import type { Io } from './io';

/**
 * The progress of a synth on the status line (see Io.status), for `onSiteDone`:
 * `synth: 37/420 sites (8%), 4 s`. `now` gives milliseconds.
 */
export function synthProgress(io: Io, now: () => number = () => performance.now()): (done: number, total: number) => void {
  const start = now();
  return (done, total) => io.status(`synth: ${done}/${total} sites (${Math.floor((done / total) * 100)}%), ${Math.floor((now() - start) / 1000)} s`);
}
