import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FLEET, type CompiledProgram } from '../engine/compiled-program.js';

/** Where output goes unless --out says otherwise. */
export const DEFAULT_OUT = 'dist';
import { SITES_PER_THREAD } from '../engine/pool';

/** Options every fleet command takes. */
export interface FleetOptions {
  readonly fleet?: string;
  readonly catalog?: string;
  readonly site?: string;
  readonly env?: string;
}

export function fleetOptions(command: Command): Command {
  return command
    .addOption(new Option('--site <name>', 'only this site'))
    .addOption(new Option('--env <name>', 'only environments with this name'))
    .addOption(new Option('--fleet <module>', 'module exporting `fleet`, the list of site definitions').default(DEFAULT_FLEET))
    .addOption(catalogOption());
}

/**
 * `--catalog <dir>`. Commander shows no default whose value is undefined, so the description
 * says it.
 */
function catalogOption(): Option {
  return new Option('--catalog <dir>', 'catalog folder (default: the built-in catalog)');
}

/**
 * The fleet and catalog named by the options, loaded lazily so `--help` stays fast; the fleet
 * from `compiled` when the CLI runs compiled (see loadFleet), whose synth worker then renders
 * in worker threads (`program`).
 */
export async function loadInputs(options: FleetOptions, compiled?: CompiledProgram) {
  const [{ loadFleet }, { loadCatalog }] = await Promise.all([import('../engine/fleet'), import('../catalog')]);
  const catalog = loadCatalog(options.catalog);
  const { fleet, module: fleetModule } = await loadFleet(options.fleet ?? DEFAULT_FLEET, compiled);
  return { catalog, fleet, fleetModule, program: compiled };
}

/** `--workers <n>`: threads that build and render sites in parallel. */
export function workersOption(): Option {
  return new Option('--workers <n>', 'threads that build and render sites in parallel: a number, or auto')
    .default('auto', `auto: one per ${SITES_PER_THREAD} sites that need rendering, at most one per core`)
    .argParser(parseWorkers);
}

/** `--render-all`: render even the environments whose inputs and files did not change. */
export function renderAllOption(): Option {
  return new Option('--render-all', 'render every environment, even those whose inputs and files are as the last synth left them');
}

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer or "auto"');
  return n;
}

/** `--target <branch>`: the branch the environments deploy from. */
export function targetOption(): Option {
  return new Option('--target <branch>', 'branch the environments deploy from').default('main');
}

/** `--out <dir>`: the output folder, one repository per environment at `<dir>/<site>/<env>`. */
export function outOption(): Option {
  return new Option('--out <dir>', 'output folder; one repository per environment at <dir>/<site>/<env>').default(DEFAULT_OUT);
}
