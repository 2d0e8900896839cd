import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, UserErrors } from './errors';
import { fleetModuleFile, noSuchEnvironment, selectSites, type Selection } from './fleet';
import { managedRepositories, OutputTransaction } from './output';
import { remotesDir, repositoryErrors, type EnvironmentRemote } from './remotes';
import { sharedClusterErrors } from './shared-clusters';
import type { OutputLock } from './output-lock';
import { readOutputIndex, recordSeenOutput } from './output-index';
import { autoWorkers, concurrencyLimit } from './pool';
import { generatorFingerprint } from './generator-fingerprint';
import { scanSite, synthSite, type EnvironmentResult, type SiteOutcome, type SiteSynthContext } from './site-synth';
import { checkFingerprints, FINGERPRINT_CHECKS_AT_ONCE, type FingerprintCheck, type FingerprintVerdict } from './secrets/generate';
import type { SynthWorkerData, SynthWorkerReply, SynthWorkerRequest } from './synth-worker';
import type { RenderChecked } from './checked-render';
import { compiledProgram, type CompiledProgram } from './compiled-program.js';
import { PUBLISHED_READS_AT_ONCE, readPublished, type PublishedSecretFiles } from './secrets/published';

export type { EnvironmentResult } from './site-synth';

export interface SynthOptions extends Selection {
  readonly fleet: readonly SiteDefinition[];
  readonly catalog: Catalog;
  /** Folder that receives `<site>/<env>/` repositories. */
  readonly outDir: string;
  /**
   * Render and check everything, write nothing.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Generate new values for every generated secret of the selected environments.
   * @default false - generated secrets are kept as the previous output holds them
   */
  readonly rotateSecrets?: boolean;
  /**
   * The branch of the environment repositories whose generated credentials a site with no
   * output in `outDir` yet keeps (see publishedReads).
   * @default "main"
   */
  readonly publishedBranch?: string;
  /**
   * Threads that build and render sites in parallel, one site at a time each (this one
   * included); `auto` chooses by the number of sites that need rendering (see `autoWorkers`),
   * and is 1 without `fleetModule`. More than 1 needs `fleetModule`, which each worker loads
   * (with `catalogDir`) for itself.
   * @default 1 (everything in this thread)
   */
  readonly workers?: number | 'auto';
  /** Module exporting `fleet` (the same fleet as `fleet`), for worker threads. */
  readonly fleetModule?: string;
  /**
   * The compiled build this process runs from (with `fleetModule`): worker threads run its
   * synth worker and fleet, so they render the very code this thread does.
   * @default - compiled here when worker threads are wanted (see compiledProgram); where it
   * cannot be, they run from source
   */
  readonly program?: CompiledProgram;
  /**
   * The output folder's lock, already held (by publish, which keeps it while it publishes).
   * @default - synth takes it while it writes
   */
  readonly lock?: OutputLock;
  /**
   * Catalog folder for worker threads.
   * @default - the built-in catalog
   */
  readonly catalogDir?: string;
  /**
   * Whether this thread renders sites too when there are worker threads. False leaves every
   * site to the workers (which is how tests check what a worker renders).
   * @default true
   */
  readonly renderInThisThread?: boolean;
  /**
   * Render every selected environment, even one whose inputs and files are as the last synth
   * left them (see `inputHash` in `.siteforge/state.json`).
   * @default false
   */
  readonly renderAll?: boolean;
  /**
   * Folder of the local bare repositories of sites with no gitRemote, as publish would use
   * them: two environments that would publish to one repository are refused, naming it.
   * @default - `<outDir>/.remotes`
   */
  readonly remotesDir?: string;
  /** Called after each environment is rendered, or found unchanged. */
  readonly onEnvironment?: (result: EnvironmentResult) => void;
  /**
   * Called as each selected site is done (found unchanged, rendered, or stopped by its
   * errors), with how many of the selected sites are done so far: for progress.
   */
  readonly onSiteDone?: (done: number, total: number) => void;
  /** Called as synth reaches each of its phases (see SynthPhase), for figures such as the bench's. */
  readonly onPhase?: (phase: SynthPhase) => void;
}

/**
 * The phases of a synth: `scanned` once the environments whose inputs and files are unchanged
 * are known; `worker ready` as each worker thread has loaded siteforge, the catalog and the
 * fleet (none when it had nothing left to do); `rendered` once every site is; `written` once the
 * output and its index are in place (not in a dry run).
 */
export type SynthPhase = 'scanned' | 'worker ready' | 'rendered' | 'written';

export interface SynthReport {
  readonly environments: readonly EnvironmentResult[];
  /** The repository each selected environment publishes to, by `<site>/<env>`. */
  readonly remotes: ReadonlyMap<string, EnvironmentRemote>;
  /** URL of the module the worker threads ran; undefined when this thread rendered alone. */
  readonly workerProgram?: string;
}

/**
 * Builds, renders and writes the selected environments. Sites are built one at a time (per
 * worker) and dropped once rendered. Every user error of every selected site is collected and
 * thrown together, and then nothing is written: the previous output stays as it was. A full
 * synth (no selection) also removes the repositories of environments that left the fleet.
 */
export async function synth(options: SynthOptions): Promise<SynthReport> {
  const definitions = selectSites(options.fleet, options);
  const transaction = options.dryRun ? undefined : new OutputTransaction(options.outDir, options.lock);
  // Fingerprint checks not started when synth ends (it failed) are not started at all.
  const checksEnded = new AbortController();
  try {
    const selection: Selection = { site: options.site, env: options.env };
    const localRemotes = options.remotesDir ?? remotesDir(options.outDir);
    const index = transaction ? readOutputIndex(options.outDir) : {};
    const context: SiteSynthContext = {
      selection, generator: generatorFingerprint(), outDir: options.outDir, remotesDir: localRemotes, stagingDir: transaction?.stagingDir,
      rotateSecrets: options.rotateSecrets, renderAll: options.renderAll, index,
      // A dry run writes no credentials, and rotating makes new ones anyway.
      readsPublished: transaction !== undefined && !options.rotateSecrets,
    };
    let sitesDone = 0;
    const onOutcome = (outcome: SiteOutcome) => {
      outcome.results.forEach((r) => options.onEnvironment?.(r));
      options.onSiteDone?.(++sitesDone, definitions.length);
    };
    const indexOf = new Map(options.fleet.map((d, i) => [d, i]));
    // Sites found unchanged here need no thread; the others are rendered. A site whose values
    // are checked against fingerprints waits for the checks, started here: it may turn out
    // unchanged, and is rendered without checking them again otherwise.
    const outcomes = new Map<number, SiteOutcome>();
    const toRender: number[] = [];
    const confirming = new Map<number, Promise<Confirmation>>();
    const checking = concurrencyLimit(FINGERPRINT_CHECKS_AT_ONCE);
    const check = (checks: readonly FingerprintCheck[]) => checkFingerprints(checks, checking, checksEnded.signal);
    // The verdicts each site is rendered with; none for a site the scan found nothing to check in.
    const checked = new Map<number, ReadonlyMap<string, FingerprintVerdict>>();
    let maybeUnchanged = 0;
    for (const definition of definitions) {
      const index = indexOf.get(definition)!;
      const { unchanged, fingerprintChecks } = scanSite(definition, options.catalog, context);
      if (unchanged && fingerprintChecks?.length === 0) {
        outcomes.set(index, unchanged);
        onOutcome(unchanged);
        continue;
      }
      toRender.push(index);
      if (unchanged) maybeUnchanged++;
      if (fingerprintChecks?.length === 0) checked.set(index, new Map());
      if (fingerprintChecks?.length) {
        confirming.set(index, check(fingerprintChecks).then((checked) => ({
          checked,
          unchanged: fingerprintChecks.every(({ value, fingerprint }) => {
            const verdict = checked.get(fingerprint);
            return verdict?.made === true && verdict.value === value;
          }) ? unchanged : undefined,
        })));
      }
      // A check that ends hands its place to the next one from this thread's event loop.
      if (confirming.size > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    options.onPhase?.('scanned');
    // Worker threads load the fleet from its module: without one, `auto` is this thread alone.
    // Sites that may turn out unchanged are not counted: they start no thread.
    const likelyRendered = toRender.length - maybeUnchanged;
    const wanted = options.workers === 'auto' ? (options.fleetModule ? autoWorkers(likelyRendered) : 1) : options.workers ?? 1;
    const workers = Math.max(1, Math.min(wanted, likelyRendered));
    const rendered = await synthInWorkers(options, { indexes: toRender, confirming, checked, check }, context, workers, onOutcome);
    options.onPhase?.('rendered');
    for (const [index, outcome] of rendered.outcomes) outcomes.set(index, outcome);

    const ordered = [...outcomes.keys()].sort((a, b) => a - b).map((i) => outcomes.get(i)!);
    // What publish would refuse is refused here too, before anything is written.
    const remotes = ordered.flatMap((o) => o.remotes);
    const refused = repositoryErrors(options.fleet, options.catalog, selection, localRemotes, remotes);
    // Two environments (of two sites, most often) that would make one object on one cluster.
    const clusters = sharedClusterErrors(options.fleet, options.catalog, selection, ordered.flatMap((o) => o.clusterObjects));
    UserErrors.throwIfAny([...ordered.flatMap((o) => o.errors).map((message) => new UserError(message)), ...refused, ...clusters]);
    const results = ordered.flatMap((o) => o.results);
    if (results.length === 0 && options.env !== undefined) throw noSuchEnvironment(options.fleet, options.catalog, options);
    results.forEach((r) => transaction?.add(r));
    if (transaction && options.site === undefined && options.env === undefined) {
      const kept = new Set(results.map((r) => r.repo));
      for (const repo of managedRepositories(options.outDir).filter((r) => !kept.has(r))) {
        const [site, env] = repo.split('/');
        const result = { ...transaction.stageRemoval(repo), site, env, files: 0, removed: true, rendered: false, fresh: false };
        results.push(result);
        options.onEnvironment?.(result);
      }
    }
    if (transaction) {
      const placed = transaction.commit();
      // What this synth wrote, or read and found right, goes into the index; what it trusted unread is there already.
      const seen = results.filter((r) => !r.removed && r.seenStats !== undefined).map((r) => ({ repo: r.repo, stats: { ...r.seenStats, ...placed.get(r.repo) } }));
      recordSeenOutput(options.outDir, index, seen, results.filter((r) => r.removed).map((r) => r.repo));
      options.onPhase?.('written');
    }
    return { environments: results, remotes: new Map(remotes.map((r) => [`${r.site}/${r.env}`, r])), workerProgram: rendered.workerProgram };
  } finally {
    checksEnded.abort();
    transaction?.abort();
  }
}

/** The sites synthInWorkers renders, and how their values are checked against fingerprints. */
interface SitesToRender {
  /** Indexes in the fleet. */
  readonly indexes: readonly number[];
  /** Sites waiting for the checks the scan started; they join the queue once those are done. */
  readonly confirming: ReadonlyMap<number, Promise<Confirmation>>;
  /** The verdicts each site is rendered with, by index; filled in as checks end. */
  readonly checked: Map<number, ReadonlyMap<string, FingerprintVerdict>>;
  /** Checks values against their fingerprints beside the threads that render (see checkFingerprints). */
  readonly check: (checks: readonly FingerprintCheck[]) => Promise<Map<string, FingerprintVerdict>>;
}

/** A site's fingerprint checks, done (see SiteScan). */
interface Confirmation {
  /** What each check found, by fingerprint. */
  readonly checked: ReadonlyMap<string, FingerprintVerdict>;
  /** The site's outcome when it turned out unchanged. @default - it is rendered */
  readonly unchanged?: SiteOutcome;
}

/**
 * Runs `synthSite` for the sites at `indexes` of the fleet on `workers` threads: this one and
 * `workers - 1` worker threads (each thread holds its own copy of cdk8s and the catalog, so
 * this one takes part rather than idle). Sites are handed out one at a time, two in flight
 * per worker so it never waits. A site that asks for the credential files its published
 * repositories hold gets them read here, and goes back to the queue with them; so does one
 * that asks for its values to be checked against their fingerprints. A site in `confirming`
 * joins the queue once the checks the scan started are done, unless they found it unchanged.
 * Returns each site's outcome by its index, and what the worker threads ran.
 */
async function synthInWorkers(
  options: SynthOptions,
  { indexes, confirming, checked, check }: SitesToRender,
  context: SiteSynthContext,
  workers: number,
  onOutcome: (outcome: SiteOutcome) => void,
): Promise<{ outcomes: Map<number, SiteOutcome>; workerProgram?: string }> {
  const queue = indexes.filter((index) => !confirming.has(index));
  const outcomes = new Map<number, SiteOutcome>();
  const published = new Map<number, PublishedSecretFiles>();
  const readingPublished = concurrencyLimit(PUBLISHED_READS_AT_ONCE);
  let remaining = indexes.length;
  let failure: Error | undefined;
  // Whatever waits for a site to take: this thread, and each worker thread once ready.
  let wakeThisThread = () => {};
  const feeds: (() => void)[] = [];
  const changed = () => {
    wakeThisThread();
    feeds.forEach((feed) => feed());
  };
  const fail = (error: Error) => {
    failure ??= error;
    changed();
  };
  const settle = (index: number, outcome: SiteOutcome) => {
    if (outcome.fingerprintChecks !== undefined) {
      check(outcome.fingerprintChecks).then((verdicts) => {
        if (failure) return;
        checked.set(index, verdicts);
        queue.unshift(index);
        changed();
      }).catch(fail);
      return;
    }
    if (outcome.publishedReads === undefined) {
      outcomes.set(index, outcome);
      onOutcome(outcome);
      remaining--;
      return changed();
    }
    readPublished(outcome.publishedReads, { branch: options.publishedBranch ?? 'main', outDir: options.outDir, limit: readingPublished }).then(({ files, errors }) => {
      if (failure) return;
      if (errors.length > 0) return settle(index, { ...outcome, publishedReads: undefined, errors: errors.map((e) => e.message) });
      published.set(index, files);
      queue.unshift(index);
      changed();
    }, fail);
  };

  for (const [index, checking] of confirming) {
    // What settling the site throws (a callback's bug) fails the synth too: left to reject
    // unhandled, it would keep the site from ever being done, and this thread waiting for it.
    checking.then((confirmation) => {
      if (failure) return;
      if (confirmation.unchanged) return settle(index, confirmation.unchanged);
      checked.set(index, confirmation.checked);
      queue.push(index);
      changed();
    }).catch(fail);
  }

  const startWorker = (program: WorkerProgram) => {
    const data: SynthWorkerData = { fleetModule: options.fleetModule!, fleetModuleUrl: program.fleet, catalogDir: options.catalogDir, context };
    // No loader flags: the program is plain JavaScript, or registers tsx itself.
    const worker = new Worker(new URL(program.synthWorker), { workerData: data, execArgv: [] });
    let inFlight = 0;
    const feed = () => {
      while (inFlight < 2 && queue.length > 0 && !failure) {
        const index = queue.shift()!;
        worker.postMessage({ index, published: published.get(index), checkedFingerprints: checked.get(index) } satisfies SynthWorkerRequest);
        inFlight++;
      }
    };
    worker.on('message', (reply: SynthWorkerReply | 'ready') => {
      if (reply === 'ready') {
        options.onPhase?.('worker ready');
        feeds.push(feed);
        return feed();
      }
      inFlight--;
      // Once the synth failed, what a worker still sends starts nothing (a read, a callback).
      if (failure) return;
      if ('bug' in reply) return fail(new Error(`while synthesizing site ${options.fleet[reply.index].name} in a worker:\n${reply.bug}`));
      settle(reply.index, reply.outcome);
      // A site that asked for credential files has left its place: the next one takes it now,
      // not once they are read (settle feeds the workers only when an outcome is final).
      feed();
    });
    worker.on('error', fail);
    worker.on('exit', (code) => (remaining > 0 ? fail(new Error(`synth worker exited with code ${code}`)) : undefined));
    return worker;
  };
  const pool: Worker[] = [];
  let program: WorkerProgram | undefined;
  try {
    if (workers > 1 && !options.fleetModule) throw new Error('synth with workers needs fleetModule');
    program = workers > 1 ? await workerProgram(options) : undefined;
    while (pool.length < workers - 1) pool.push(startWorker(program!));
    const thisThreadRenders = workers === 1 || options.renderInThisThread !== false;
    // Loaded once there is a site to render: a synth that renders nothing never loads cdk8s.
    let render: RenderChecked | undefined;
    while (remaining > 0 && !failure) {
      const index = thisThreadRenders ? queue.shift() : undefined;
      if (index === undefined) {
        await new Promise<void>((resolve) => (wakeThisThread = resolve));
        continue;
      }
      render ??= (await import('./checked-render')).renderChecked;
      settle(index, synthSite(options.fleet[index], options.catalog, { ...context, published: published.get(index), checkedFingerprints: checked.get(index) }, render));
      // Let replies from the workers in, so they are fed while this thread works.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (failure) throw failure;
  } catch (e) {
    // A bug here (or in a callback, or finding the workers' program) ends the synth as a
    // worker's does: fingerprint checks and published reads still under way must then settle
    // no site, nor report one done, after synth has rejected.
    failure ??= e as Error;
    throw e;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return { outcomes, workerProgram: program?.synthWorker };
}

/** What a synth worker thread runs: its program, and the fleet module that imports. */
interface WorkerProgram {
  readonly synthWorker: string;
  readonly fleet: string;
}

/**
 * The program worker threads run: the build this process runs from, else one compiled now;
 * from source (tsx's loader, which takes a worker about twice as long to start) when the
 * fleet cannot be compiled or SITEFORGE_FROM_SOURCE=1.
 */
async function workerProgram(options: SynthOptions): Promise<WorkerProgram> {
  const fleetFile = fleetModuleFile(options.fleetModule!);
  if (options.program?.fleetFile === fleetFile && options.program.fleet) return { synthWorker: options.program.synthWorker, fleet: options.program.fleet };
  if (process.env.SITEFORGE_FROM_SOURCE !== '1') {
    try {
      const { synthWorker, fleet } = await compiledProgram({ fleetFile });
      if (fleet) return { synthWorker, fleet };
    } catch {
      // Run from source, as the CLI then does.
    }
  }
  return { synthWorker: new URL('./synth-worker-from-source.js', import.meta.url).href, fleet: pathToFileURL(fleetFile).href };
}
