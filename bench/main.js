// @ts-check
// `npm run bench`: runs bench.ts compiled with siteforge and the bench's fleet
// (engine/compiled-program.js), as bin/siteforge.js runs the CLI, so what is measured is the
// program users run, without tsx's loader thread in the process (some 30 MiB of its peak
// memory). Runs from source where it cannot be compiled, or with SITEFORGE_FROM_SOURCE=1.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitWhenStdoutCloses } from '../engine/closed-stdout.js';
import { compiledProgram } from '../engine/compiled-program.js';

exitWhenStdoutCloses();

const here = (/** @type {string} */ file) => fileURLToPath(new URL(file, import.meta.url));
const fleetFile = here('./fleet.ts');
// By the name of their compiled file: bench.ts runs the reference writer from the same build.
const entries = { bench: here('./bench.ts'), reference: here('./reference-run.ts') };
const args = process.argv.slice(2);
const program = process.env.SITEFORGE_FROM_SOURCE === '1'
  ? undefined
  : await compiledProgram({ fleetFile, entries }).catch((error) => {
    process.stderr.write(`bench: running from source, as siteforge could not be compiled: ${error.message}\n`);
    return undefined;
  });
const compiled = program && await import(program.entries.bench).catch((error) => {
  process.stderr.write(`bench: running from source, as the compiled bench could not be loaded: ${error.message}\n`);
  return undefined;
});
if (compiled) {
  process.exitCode = await compiled.bench(args, program);
} else {
  (await import('tsx/esm/api')).register();
  const { bench } = await import(pathToFileURL(entries.bench).href);
  process.exitCode = await bench(args);
}
