import { Command, Option } from 'commander';
import { ExitWith } from './exit';
import type { Io } from './io';
import { synthProgress } from './progress';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { fleetOptions, outOption, targetOption, loadInputs, type FleetOptions } from './options';
import type { DiffFormat } from '../engine/diff-format';

interface DiffCommandOptions extends FleetOptions {
  readonly out: string;
  readonly target: string;
  readonly against?: string;
  readonly format: DiffFormat;
  readonly exitCode?: boolean;
}

export function diffCommand(io: Io, compiled?: CompiledProgram): Command {
  return fleetOptions(new Command('diff'))
    .description('synthesize, then show what changed compared with each environment repository, object by object')
    .addOption(outOption())
    .addOption(targetOption())
    .addOption(new Option('--against <ref>', 'branch, tag or commit of each environment repository to compare with (default: the head of --target)'))
    .addOption(new Option('--format <format>', 'text for terminals, markdown for pull-request comments, json for machines').choices(['text', 'markdown', 'json']).default('text'))
    .addOption(new Option('--exit-code', 'exit 1 when anything differs'))
    .addHelpText('after', `
Kubernetes objects are compared by kind, namespace and name, with each changed field as a JSON
path and its old and new value; Helm values, Ansible and JSON files by key; other files by line.
Secret values (Secret data, stringData, encryptedData, keys that look like passwords or tokens)
are shown as ***.`)
    .action(async (options: DiffCommandOptions) => {
      const [{ diffFleet, hasDifferences }, { formatDiff }] = await Promise.all([import('../engine/diff'), import('../engine/diff-format')]);
      const inputs = await loadInputs(options, compiled);
      const report = await diffFleet({ ...inputs, outDir: options.out, site: options.site, env: options.env, target: options.target, against: options.against, onSiteDone: synthProgress(io) })
        .finally(() => io.status(''));
      io.out(formatDiff(report, options.format));
      const failed = report.environments.some((e) => e.error !== undefined);
      if (failed || (options.exitCode && hasDifferences(report))) throw new ExitWith(1);
    });
}
