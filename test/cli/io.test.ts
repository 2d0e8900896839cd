import { describe, expect, it } from 'vitest';
import { terminalStatus, type StatusStream } from '../../cli/io';

/** A stream that keeps what is written to it. */
function stream(props: { isTTY?: boolean; columns?: number }): StatusStream & { written: string[] } {
  const written: string[] = [];
  return { ...props, written, write: (text: string) => written.push(text) };
}

describe('the status line', () => {
  it('is redrawn in place on a terminal, and taken away by an empty text', () => {
    const terminal = stream({ isTTY: true, columns: 40 });
    const status = terminalStatus(terminal);
    status('synth: 1/2 sites (50%), 0 s');
    status('synth: 2/2 sites (100%), 1 s');
    status('');
    expect(terminal.written).toStrictEqual(['\r\x1b[Ksynth: 1/2 sites (50%), 0 s', '\r\x1b[Ksynth: 2/2 sites (100%), 1 s', '\r\x1b[K']);
  });

  it('is cut to the width of the terminal, which would wrap it onto a line it cannot redraw', () => {
    const terminal = stream({ isTTY: true, columns: 10 });
    terminalStatus(terminal)('synth: 120/420 sites');
    expect(terminal.written).toStrictEqual(['\r\x1b[Ksynth: 12']);
  });

  it('takes nothing away when nothing is shown', () => {
    const terminal = stream({ isTTY: true });
    terminalStatus(terminal)('');
    expect(terminal.written).toStrictEqual([]);
  });

  it('writes nothing where the stream is not a terminal (a CI log, a file)', () => {
    const log = stream({});
    const status = terminalStatus(log);
    status('synth: 1/2 sites (50%), 0 s');
    status('');
    expect(log.written).toStrictEqual([]);
  });
});
