import { Command, Option } from 'commander';
import { columns, type Io } from './io';
import { synthProgress } from './progress';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { fleetOptions, outOption, loadInputs, renderAllOption, workersOption, type FleetOptions } from './options';

interface SynthCommandOptions extends FleetOptions {
  readonly out: string;
  readonly workers: number | 'auto';
  readonly rotateSecrets?: boolean;
  readonly renderAll?: boolean;
}

export function synthCommand(io: Io, compiled?: CompiledProgram): Command {
  return fleetOptions(new Command('synth'))
    .description('synthesize every environment repository of the fleet into the output folder')
    .addOption(outOption())
    .addOption(workersOption())
    .addOption(new Option('--rotate-secrets', 'generate new values for the generated secrets of the selected environments'))
    .addOption(renderAllOption())
    .addHelpText('after', `
Writes are all or nothing: when any site has an error, nothing is written and the previous
output stays as it was. Files whose content did not change are not rewritten.

An environment is not rendered again when its inputHash (.siteforge/state.json: its site's
whole model, its services' catalog folders, siteforge's code) is unchanged and its files are
as the last synth wrote them. For an environment that reads environment variables
(Secret.fromEnv, the vault password) it also covers a digest of its sealed values, their
salted fingerprints and its vault files: it is rendered again once a value changed.`)
    .action(async (options: SynthCommandOptions) => {
      const { synth } = await import('../engine/synth');
      const inputs = await loadInputs(options, compiled);
      const report = await synth({
        ...inputs,
        outDir: options.out,
        site: options.site,
        env: options.env,
        workers: options.workers,
        fleetModule: inputs.fleetModule,
        catalogDir: options.catalog,
        rotateSecrets: options.rotateSecrets,
        renderAll: options.renderAll,
        onSiteDone: synthProgress(io),
      }).finally(() => io.status(''));
      const rows = report.environments.map((e) => [
        `${options.out}/${e.repo}`,
        e.removed ? 'removed (no longer in the fleet)'
          : !e.rendered ? `${e.files} files: inputs unchanged, not rendered`
          : `${e.files} files: ${e.written.length} written, ${e.deleted.length} deleted, ${e.unchanged} unchanged`,
      ]);
      if (rows.length > 0) io.out(columns(rows));
      const written = report.environments.reduce((n, e) => n + e.written.length, 0);
      const deleted = report.environments.reduce((n, e) => n + e.deleted.length, 0);
      const notRendered = report.environments.filter((e) => !e.rendered && !e.removed).length;
      io.out(`synthesized ${report.environments.length} environment${report.environments.length === 1 ? '' : 's'} into ${options.out}: ${written} files written, ${deleted} deleted${notRendered > 0 ? `; ${notRendered} not rendered (inputs unchanged)` : ''}`);
    });
}

