import { Command } from 'commander';
import type { Io } from './io';
import { fleetOptions, loadInputs, type FleetOptions } from './options';

export function validateCommand(io: Io): Command {
  return fleetOptions(new Command('validate'))
    .description('check every site, environment and instance of the fleet and report every problem at once; writes nothing')
    .action(async (options: FleetOptions) => {
      const { synth } = await import('../engine/synth');
      const inputs = await loadInputs(options);
      const report = await synth({ ...inputs, outDir: 'unused', site: options.site, env: options.env, dryRun: true });
      io.out(`${report.environments.length} environment${report.environments.length === 1 ? '' : 's'} valid`);
    });
}
