import { Command, Option } from 'commander';

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
    .addOption(new Option('--fleet <module>', 'module exporting `fleet`, the list of site definitions').default('sites/index.ts'))
    .addOption(new Option('--catalog <dir>', 'catalog folder').default(undefined, 'the built-in catalog'));
}

/** The fleet and catalog named by the options, loaded lazily so `--help` stays fast. */
export async function loadInputs(options: FleetOptions) {
  const [{ loadFleet }, { loadCatalog }] = await Promise.all([import('../engine/fleet'), import('../catalog')]);
  const catalog = loadCatalog(options.catalog);
  const { fleet, module: fleetModule } = await loadFleet(options.fleet ?? 'sites/index.ts');
  return { catalog, fleet, fleetModule };
}
