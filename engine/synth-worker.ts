import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../catalog';
import { fleetOf, type Selection } from './fleet';
import { stageEnvironment } from './output';
import { synthSite, type SiteOutcome } from './site-synth';

/** What the main thread gives each worker. */
export interface SynthWorkerData {
  /** The fleet module, as the user named it (for messages). */
  readonly fleetModule: string;
  readonly catalogDir?: string;
  readonly selection: Selection;
  readonly outDir: string;
  /** Staging folder of the main thread's transaction; undefined for a dry run. */
  readonly stagingDir?: string;
  readonly rotateSecrets?: boolean;
  /** generatorFingerprint() as the main thread computed it. */
  readonly generator: string;
}

/** A worker's answer for the site at `index` of the fleet. */
export type SynthWorkerReply = { readonly index: number; readonly outcome: SiteOutcome } | { readonly index: number; readonly bug: string };

/**
 * The body of a synth worker thread, given the fleet module it was bundled with (see
 * worker-bundle.ts): loads the catalog, then synthesizes each site the main thread names.
 */
export function runSynthWorker(fleetModule: { fleet?: unknown }): void {
  const data = workerData as SynthWorkerData;
  const catalog = loadCatalog(data.catalogDir);
  const fleet = fleetOf(fleetModule, data.fleetModule);
  const stage = data.stagingDir === undefined
    ? undefined
    : (repo: string, files: Parameters<typeof stageEnvironment>[3], inputHash: string) => stageEnvironment(data.outDir, data.stagingDir!, repo, files, inputHash);
  parentPort!.on('message', (index: number) => {
    try {
      const outcome = synthSite(fleet[index], catalog, { selection: data.selection, generator: data.generator, outDir: data.outDir, rotateSecrets: data.rotateSecrets, stage });
      parentPort!.postMessage({ index, outcome } satisfies SynthWorkerReply);
    } catch (e) {
      parentPort!.postMessage({ index, bug: (e as Error)?.stack ?? String(e) } satisfies SynthWorkerReply);
    }
  });
  parentPort!.postMessage('ready');
}
