// npm run bench -- --sites N --envs E --services M [--workers W] [--dir DIR] [--publish]
// Synthesizes a generated fleet with the real engine into a temporary folder, then writes the
// same YAML files again with the reference writer (plain objects + the yaml library, one
// thread, its own process), and prints figures; the last line has a fixed form so runs can be
// compared. bench/main.js runs this compiled, as bin/siteforge.js runs the CLI.
// Not a test: nothing here asserts on time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCatalog, type Catalog } from '../catalog';
import { synth } from '../engine';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { originalStack } from '../engine/original-stack';
import { autoWorkers } from '../engine/pool';
import { SHAPE_VARIABLE, syntheticFleet, type FleetShape } from './fleet';
import { isKubernetesObject } from './reference-writer';

/** The fleet module the bench synthesizes, and its worker threads load. */
const BENCH_FLEET = fileURLToPath(new URL('./fleet.ts', import.meta.url));

/** One run of the bench: what it synthesizes, how, and where. */
interface BenchRun {
  readonly shape: FleetShape;
  readonly workers: number | 'auto';
  readonly catalog: Catalog;
  /** Where siteforge writes. */
  readonly outDir: string;
  /** Where the reference writer writes. */
  readonly referenceDir: string;
  /** @default - not compiled: run from source, worker threads from a build of their own */
  readonly program?: CompiledProgram;
}

/**
 * Runs the bench with the command line `args`, and returns the exit code: 2 for a bad command
 * line, 1 when it failed (the stack printed, naming the sources). `program` is the build this
 * runs from when it runs compiled (see main.js): its worker threads and the reference writer
 * then run from it too.
 */
export async function bench(args: readonly string[], program?: CompiledProgram): Promise<number> {
  let options: BenchOptions;
  try {
    options = benchOptions(args);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  console.log(program ? `bench: running compiled, from ${program.dir}` : 'bench: running from source, through tsx');
  try {
    await run(options, program);
    return 0;
  } catch (e) {
    console.error(`bench: ${originalStack((e as Error)?.stack ?? String(e))}`);
    return 1;
  }
}

interface BenchOptions {
  readonly shape: FleetShape;
  readonly workers: number | 'auto';
  /** Where the output folders are made. */
  readonly dir: string;
  readonly publish: boolean;
}

function benchOptions(args: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      sites: { type: 'string', default: '10' },
      envs: { type: 'string', default: '3' },
      services: { type: 'string', default: '10' },
      // Default: what `siteforge synth` chooses for the fleet.
      workers: { type: 'string', default: 'auto' },
      // Where the output goes: the file system's speed is part of what is measured.
      dir: { type: 'string', default: tmpdir() },
      // Also publish to local bare repositories, then again unchanged and after a change to 10% of the sites.
      publish: { type: 'boolean', default: false },
    },
  });
  const positive = (key: 'sites' | 'envs' | 'services' | 'workers'): number => {
    const value = Number(values[key]);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`--${key} must be a positive integer${key === 'workers' ? ' or "auto"' : ''}, got ${JSON.stringify(values[key])}`);
    }
    return value;
  };
  return {
    shape: { sites: positive('sites'), envs: positive('envs'), services: positive('services') },
    workers: values.workers === 'auto' ? 'auto' : positive('workers'),
    dir: values.dir!,
    publish: values.publish!,
  };
}

async function run({ shape, workers, dir, publish }: BenchOptions, program: CompiledProgram | undefined): Promise<void> {
  if (program && !program.entries.reference) throw new Error(`the compiled bench has no reference writer: compile bench/reference-run.ts with it, as "reference" (see main.js)`);
  process.env[SHAPE_VARIABLE] = `${shape.sites},${shape.envs},${shape.services}`;
  let outDir: string | undefined;
  let referenceDir: string | undefined;
  const removeFolders = () => {
    for (const folder of [outDir, referenceDir]) if (folder) rmSync(folder, { recursive: true, force: true });
  };
  // Also when the process exits early: `npm run bench | head` ends it at once (see main.js).
  process.on('exit', removeFolders);
  try {
    outDir = mkdtempSync(join(dir, 'siteforge-bench-'));
    referenceDir = mkdtempSync(join(dir, 'siteforge-bench-reference-'));
    const run: BenchRun = { shape, workers, catalog: loadCatalog(), outDir, referenceDir, program };
    let objects = 0;
    let envs = 0;
    const start = process.hrtime.bigint();
    const phases: string[] = [];
    const report = await synth({
      onPhase: (phase) => phases.push(`${phase} ${seconds(start).toFixed(2)} s`),
      fleet: syntheticFleet(shape),
      fleetModule: BENCH_FLEET,
      program,
      workers,
      catalog: run.catalog,
      outDir,
      onEnvironment: (e) => {
        envs++;
        // Every Kubernetes object written: the workloads' and the Argo CD Applications.
        objects += e.written.filter(isKubernetesObject).length;
      },
    });
    const synthSeconds = seconds(start);
    const peakRssMib = Math.round(process.resourceUsage().maxRSS / 1024);
    // Worker threads must run what this thread runs, or the figures mix two programs.
    const threads = report.workerProgram ? `, worker threads running ${fileURLToPath(report.workerProgram)}` : '';
    console.log(`synth: ${shape.sites} sites x ${shape.envs} envs x ${shape.services} services into ${dir}, ${synthSeconds.toFixed(2)} s${threads}`);
    // Where the fixed costs are: how soon the worker threads join, how long writing takes.
    console.log(`synth phases: ${phases.join(', ')}`);

    const reference = runReference(run, 'yaml');
    console.log(`reference: objects=${reference.objects} seconds=${reference.seconds.toFixed(2)} objects_per_s=${Math.round(reference.objects / reference.seconds)}`);
    console.log(`ratio=${(synthSeconds / reference.seconds).toFixed(2)} (siteforge seconds / reference seconds)`);
    // The issue's stretch goal: within 3x of writing the same objects with JSON.stringify.
    rmSync(referenceDir, { recursive: true, force: true });
    const json = runReference(run, 'json');
    console.log(`json-reference: seconds=${json.seconds.toFixed(2)} ratio=${(synthSeconds / json.seconds).toFixed(2)} (siteforge seconds / JSON.stringify writer seconds)`);
    // siteforge's YAML emitter against the yaml library: the same writer, only the serializer differs.
    rmSync(referenceDir, { recursive: true, force: true });
    const emitter = runReference(run, 'emitter');
    console.log(`emitter-reference: seconds=${emitter.seconds.toFixed(2)} (the reference writer with siteforge's YAML emitter instead of the yaml library)`);
    if (publish) await benchPublish(run);
    console.log(`bench: objects=${objects} envs=${envs} seconds=${synthSeconds.toFixed(1)} objects_per_s=${Math.round(objects / synthSeconds)} peak_rss_mib=${peakRssMib} workers=${workers === 'auto' ? autoWorkers(shape.sites) : Math.min(workers, shape.sites)}`);
  } finally {
    removeFolders();
    process.off('exit', removeFolders);
  }
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * The reference writer, in a process of its own with node's default heap settings (siteforge
 * runs with a heap limit that would slow it), timed from inside: start-up is not counted, as
 * it is not for siteforge. It runs compiled when the bench does.
 */
function runReference(run: BenchRun, format: 'yaml' | 'json' | 'emitter'): { objects: number; seconds: number } {
  const { shape } = run;
  const script = run.program
    ? [fileURLToPath(run.program.entries.reference)]
    : ['--import', 'tsx', fileURLToPath(new URL('./reference-run.ts', import.meta.url))];
  const args = [...script, run.outDir, run.referenceDir, String(shape.sites), String(shape.envs), String(shape.services), format];
  const output = execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(output) as { objects: number; seconds: number };
}

/**
 * Publish figures, synth included each time, as `siteforge publish` runs: every repository
 * once; then again with nothing changed; then after a change to 10% of the sites. Before the
 * second, a synth alone with nothing changed shows what it renders and writes.
 */
async function benchPublish(run: BenchRun): Promise<void> {
  const { publish } = await import('../engine/publish');
  const { shape, workers, catalog, outDir, program } = run;
  const fleetOf = (changeEvery?: number) => {
    process.env[SHAPE_VARIABLE] = `${shape.sites},${shape.envs},${shape.services}${changeEvery ? `,${changeEvery}` : ''}`;
    return syntheticFleet({ ...shape, changeEvery });
  };
  const runSynth = async (label: string) => {
    let written = 0;
    let rendered = 0;
    const start = process.hrtime.bigint();
    await synth({ fleet: fleetOf(), fleetModule: BENCH_FLEET, program, workers, catalog, outDir, onEnvironment: (e) => { written += e.written.length; rendered += e.rendered ? 1 : 0; } });
    console.log(`synth ${label}: environments_rendered=${rendered} files_written=${written} seconds=${seconds(start).toFixed(2)}`);
  };
  const runPublish = async (label: string, changeEvery?: number) => {
    const start = process.hrtime.bigint();
    let synthSeconds = 0;
    const report = await publish({ fleet: fleetOf(changeEvery), fleetModule: BENCH_FLEET, program, workers, catalog, outDir, direct: true, onStart: () => (synthSeconds = seconds(start)) });
    const count = (outcome: string) => report.repositories.filter((r) => r.outcome === outcome).length;
    console.log(`publish ${label}: repositories=${report.repositories.length} published=${count('published')} unchanged=${count('unchanged')} failed=${count('failed')} seconds=${seconds(start).toFixed(2)} (synth included: ${synthSeconds.toFixed(2)})`);
  };
  await runPublish('first');
  await runSynth('unchanged');
  await runPublish('unchanged');
  await runPublish('10% changed', 10);
}
