/**
 * Thrown by a command that has already printed its result and only needs `main` to exit with
 * `code` (e.g. `publish` when some repository failed, `diff --exit-code` when something
 * differs). Nothing more is printed.
 */
export class ExitWith extends Error {
  constructor(public readonly code: number) {
    super(`exit ${code}`);
  }
}
