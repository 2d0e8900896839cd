import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { Io } from './io';
import { synthProgress } from './progress';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { DEFAULT_OUT, fleetOptions, loadInputs, type FleetOptions } from './options';

interface ValidateCommandOptions extends FleetOptions {
  /** `--output [dir]`: true when given without a folder. */
  readonly output?: string | boolean;
}

export function validateCommand(io: Io, compiled?: CompiledProgram): Command {
  return fleetOptions(new Command('validate'))
    .description('check every site, environment and instance of the fleet and report every problem at once; writes nothing')
    .addOption(new Option('--output [dir]', 'instead, check the Kubernetes objects of an existing output folder against the Kubernetes 1.28 and CRD schemas (default dir: dist); with --site and --env, only those environments\'')
      .conflicts(['fleet', 'catalog']))
    .action(async (options: ValidateCommandOptions) => {
      if (options.output !== undefined) {
        const { validateOutput } = await import('../engine/validate-objects');
        const dir = options.output === true ? DEFAULT_OUT : String(options.output);
        const result = validateOutput(dir, { site: options.site, env: options.env });
        io.out(`${result.objects} object${result.objects === 1 ? '' : 's'} in ${result.repositories} environment repositor${result.repositories === 1 ? 'y' : 'ies'} under ${dir} valid`);
        return;
      }
      const { synth } = await import('../engine/synth');
      const { remotesDir } = await import('../engine/remotes');
      const inputs = await loadInputs(options, compiled);
      // Nothing is read from or written to an output folder (a dry run writes none, and this
      // one never exists); local repositories are named as publish names them with its
      // default --out.
      const nowhere = join(tmpdir(), `siteforge-validate-${randomUUID()}`);
      const report = await synth({ ...inputs, outDir: nowhere, remotesDir: remotesDir(DEFAULT_OUT), site: options.site, env: options.env, dryRun: true, onSiteDone: synthProgress(io) })
        .finally(() => io.status(''));
      io.out(`${report.environments.length} environment${report.environments.length === 1 ? '' : 's'} valid`);
    });
}
