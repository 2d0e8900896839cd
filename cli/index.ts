import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { processIo, type Io } from './io';
import { synthCommand } from './synth';
import { validateCommand } from './validate';
import { sitesCommand } from './sites';
import { catalogCommand } from './catalog';
import { publishCommand } from './publish';
import { diffCommand } from './diff';
import { ExitWith } from './exit';
import { userErrorsOf } from '../engine/errors';
import { originalStack } from '../engine/original-stack';
import type { CompiledProgram } from '../engine/compiled-program.js';

/** Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 internal error (a bug). */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, BUG: 3 } as const;

/**
 * The `siteforge` command. Commands print through `io` and throw; `main` turns errors into exit
 * codes. `compiled`: the build this program runs from, when it runs compiled (see loadFleet).
 */
export function createProgram(io: Io = processIo, compiled?: CompiledProgram): Command {
  const program = new Command('siteforge')
    .description('synthesize delivery sites written in TypeScript into one GitOps repository per environment')
    .version(packageVersion(), '-V, --version', 'print the siteforge version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  for (const command of [synthCommand(io, compiled), validateCommand(io, compiled), sitesCommand(io, compiled), catalogCommand(io), diffCommand(io, compiled), publishCommand(io, compiled)]) {
    program.addCommand(command);
  }
  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  }
  return program;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs `siteforge <argv>` and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo, compiled?: CompiledProgram): Promise<number> {
  try {
    await createProgram(io, compiled).parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    return exitCodeOf(e, io, compiled);
  }
}

function exitCodeOf(error: unknown, io: Io, compiled: CompiledProgram | undefined): number {
  if (error instanceof ExitWith) return error.code;
  if (error instanceof CommanderError) {
    // Help shown because no command was given comes with exit code 1: a usage error.
    return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) && error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const problems = userErrorsOf(error);
  if (problems.length === 1) {
    io.err(`error: ${problems[0].message}`);
    return EXIT.INVALID;
  }
  if (problems.length > 1) {
    io.err(`error: ${problems.length} problems:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    return EXIT.INVALID;
  }
  const ran = compiled ? `siteforge ran compiled, from ${compiled.dir} (SITEFORGE_FROM_SOURCE=1 runs it from source)` : 'siteforge ran from source';
  io.err(`internal error (a bug in siteforge; please report it with this output):\n${originalStack((error as Error)?.stack ?? String(error))}\n${ran}`);
  return EXIT.BUG;
}
