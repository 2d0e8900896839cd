/** Where commands print; tests pass their own to capture output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /**
   * Shows `text` as the progress line of a long step, in place of the one before; an empty
   * text takes it away. Only a terminal shows it: a CI log or a file keeps only what `out` and
   * `err` print.
   */
  status(text: string): void;
  /** Whether `out` is a terminal (progress bars, colours). */
  readonly isTty: boolean;
}

/** The part of a stream that a status line needs (process.stderr has it). */
export interface StatusStream {
  readonly isTTY?: boolean;
  /** @default 80 */
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * Io.status on `stream`: on a terminal, the line is redrawn in place (carriage return, erase
 * line) and cut to the terminal's width, as a wrapped line could not be redrawn; elsewhere
 * nothing is written.
 */
export function terminalStatus(stream: StatusStream): (text: string) => void {
  let shown = false;
  return (text) => {
    if (!stream.isTTY || (text === '' && !shown)) return;
    stream.write(`\r\x1b[K${text.slice(0, Math.max(1, (stream.columns || 80) - 1))}`);
    shown = text !== '';
  };
}

const processStatus = terminalStatus(process.stderr);

export const processIo: Io = {
  // What is printed takes the progress line's place, rather than running on after it.
  out: (text) => {
    processStatus('');
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  },
  err: (text) => {
    processStatus('');
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  },
  status: processStatus,
  isTty: Boolean(process.stdout.isTTY),
};

/** Left-aligned columns, for tables in terminals. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
