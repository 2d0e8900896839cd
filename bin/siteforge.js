#!/usr/bin/env -S node --max-old-space-size=512 --max-semi-space-size=4
// Runs siteforge compiled with the fleet module the command names (engine/compiled-program.js:
// compiled on first use and whenever a source changes, then kept), so users need no build
// step; from the TypeScript through tsx where it cannot be compiled, or with
// SITEFORGE_FROM_SOURCE=1. The heap limits of the
// shebang (512 MiB old space, ample for one site at a time; 4 MiB semi-spaces) make V8 collect
// garbage before growing its heap: peak memory falls by 45%, for some 12% more CPU time than
// 16 MiB semi-spaces, which take a 50k-object synth to 248–258 MiB (README, Tests and
// benchmarks). They apply to the worker threads too.
import { exitWhenStdoutCloses } from '../engine/closed-stdout.js';
import { compiledProgram, fleetArgument, fleetFileOf } from '../engine/compiled-program.js';

exitWhenStdoutCloses();

const argv = process.argv.slice(2);
const program = process.env.SITEFORGE_FROM_SOURCE === '1'
  ? undefined
  : await compiledProgram({ fleetFile: fleetFileOf(fleetArgument(argv)) }).catch(() => undefined);
const compiled = program && await import(program.cli).catch(() => undefined);
if (compiled) {
  const { main } = compiled;
  process.exitCode = await main(argv, undefined, program);
} else {
  const tsx = await import('tsx/esm/api').catch((error) => {
    process.stderr.write(`siteforge cannot start: ${error.message}\nInstall its packages: npm ci (in ${new URL('..', import.meta.url).pathname})\n`);
    process.exit(3);
  });
  tsx.register();
  const { main } = await import('../cli/index.ts');
  process.exitCode = await main(argv);
}
