import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitWith } from './exit';
import { columns, type Io } from './io';
import { synthProgress } from './progress';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { fleetOptions, outOption, targetOption, loadInputs, renderAllOption, workersOption, type FleetOptions } from './options';
import type { RepositoryResult } from '../engine/publish';

interface PublishCommandOptions extends FleetOptions {
  readonly out: string;
  readonly target: string;
  readonly direct?: boolean;
  readonly branch?: string;
  readonly overwriteDrift?: boolean;
  readonly retries: number;
  readonly concurrency: number;
  readonly workers: number | 'auto';
  readonly synth: boolean;
  readonly renderAll?: boolean;
}

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return n;
  };
}

export function publishCommand(io: Io, compiled?: CompiledProgram): Command {
  return fleetOptions(new Command('publish'))
    .description('synthesize, then commit and push every environment repository (to a review branch unless --direct)')
    .addOption(outOption())
    .addOption(targetOption())
    .addOption(new Option('--direct', 'commit straight to the target branch instead of a review branch').conflicts('branch'))
    .addOption(new Option('--branch <name>', 'review branch siteforge/<name> (default: siteforge/<changed instances>-<hash of the target and the output>)'))
    .addOption(new Option('--overwrite-drift', 'replace managed files edited in the repository instead of stopping'))
    .addOption(new Option('--retries <n>', 'rebuild and retry a push this many times when the remote moved').default(5).argParser(wholeNumber(0)))
    .addOption(new Option('--concurrency <n>', 'repositories published at once').default(4).argParser(wholeNumber(1)))
    // Both only shape the synth --no-synth leaves out.
    .addOption(workersOption().conflicts('synth'))
    .addOption(renderAllOption().conflicts('synth'))
    .addOption(new Option('--no-synth', 'publish what the last synth wrote in --out as it is (after reviewing its diff)'))
    .addHelpText('after', `
Sites with a gitRemote push there ({site} and {env} filled in); the others go to local bare
repositories <out>/.remotes/<site>-<env>.git, created on first publish. Publishing never
force-pushes and makes no commit when nothing changed. A managed file edited in the
repository (drift) stops that repository's publish unless --overwrite-drift is given.
Every repository is published independently; the exit code is 1 when any failed.`)
    .action(async (options: PublishCommandOptions) => {
      const { publish, publishFailed } = await import('../engine/publish');
      const inputs = await loadInputs(options, compiled);
      let done = 0;
      let total = 0;
      const report = await publish({
        ...inputs,
        workers: options.workers,
        catalogDir: options.catalog,
        outDir: options.out,
        site: options.site,
        env: options.env,
        target: options.target,
        direct: options.direct,
        branch: options.branch,
        overwriteDrift: options.overwriteDrift,
        retries: options.retries,
        concurrency: options.concurrency,
        synthesize: options.synth,
        renderAll: options.renderAll,
        onRepository: (r) => {
          done++;
          io.out(progressLine(r, done, total, io.isTty));
        },
        onSiteDone: synthProgress(io),
        onStart: (count: number) => {
          io.status('');
          total = count;
        },
      }).finally(() => io.status(''));
      const rows = [
        ['environment', 'repo', 'branch', 'commit', 'files changed', 'result'],
        ...report.repositories.map((r) => [`${r.site}/${r.env}`, r.remote, r.branch, r.commit ?? '-', String(r.filesChanged), resultText(r)]),
      ];
      io.out('');
      io.out(columns(rows));
      for (const r of report.repositories.filter((x) => x.error !== undefined)) {
        io.err(`${r.site}/${r.env}: ${r.error}`);
        for (const d of r.drift) {
          io.err(`  ${d.path} ${d.change}${d.commits.length > 0 ? ' by:' : ''}`);
          for (const c of d.commits) io.err(`    ${c}`);
        }
      }
      const failed = report.repositories.filter((r) => r.outcome === 'failed' || r.outcome === 'drift').length;
      const published = report.repositories.filter((r) => r.outcome === 'published').length;
      io.out(`published ${published}, unchanged ${report.repositories.length - published - failed}, failed ${failed} of ${report.repositories.length} repositor${report.repositories.length === 1 ? 'y' : 'ies'}`);
      if (publishFailed(report)) throw new ExitWith(1);
    });
}

function resultText(r: RepositoryResult): string {
  switch (r.outcome) {
    case 'published':
      return r.attempts > 1 ? `published (after ${r.attempts} attempts)` : r.drift.length > 0 ? 'published (drift overwritten)' : 'published';
    case 'unchanged':
      return 'unchanged';
    case 'drift':
      return `drift in ${r.drift.length} file${r.drift.length === 1 ? '' : 's'}`;
    case 'failed':
      return 'failed';
  }
}

function progressLine(r: RepositoryResult, done: number, total: number, tty: boolean): string {
  const count = total > 0 ? `${done}/${total}` : `${done}`;
  const text = `${r.site}/${r.env}: ${resultText(r)}${r.commit ? ` ${r.branch}@${r.commit}` : ''}`;
  if (!tty || total === 0) return `[${count}] ${text}`;
  const width = 20;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count} ${text}`;
}
