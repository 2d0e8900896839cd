// @ts-check

/**
 * Makes this process exit quietly (status 0) when its standard output is closed early, as
 * `siteforge sites | head` or `npm run bench | head` do: that is the reader's choice, not an
 * error. Any other write error still throws.
 */
export function exitWhenStdoutCloses() {
  process.stdout.on('error', (error) => {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EPIPE') process.exit(0);
    throw error;
  });
}
