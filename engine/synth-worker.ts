import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../catalog';
import { fleetOf } from './fleet';
import { renderChecked } from './checked-render';
import { synthSite, type SiteOutcome, type SiteSynthContext } from './site-synth';
import type { PublishedSecretFiles } from './secrets/published';
import type { FingerprintVerdict } from './secrets/generate';

/** What the main thread gives each worker. */
export interface SynthWorkerData {
  /** The fleet module, as the user named it (for messages). */
  readonly fleetModule: string;
  /** URL of the fleet module compiled with the worker's program. */
  readonly fleetModuleUrl: string;
  readonly catalogDir?: string;
  /** As the main thread renders. */
  readonly context: SiteSynthContext;
}

/** What the main thread asks of a worker: the site at `index` of the fleet, with the credential files its repositories hold once read. */
export interface SynthWorkerRequest {
  readonly index: number;
  /** @default - not read yet (see SiteSynthContext.published) */
  readonly published?: PublishedSecretFiles;
  /** @default - none (see SiteSynthContext.checkedFingerprints) */
  readonly checkedFingerprints?: ReadonlyMap<string, FingerprintVerdict>;
}

/** A worker's answer for the site at `index` of the fleet. */
export type SynthWorkerReply = { readonly index: number; readonly outcome: SiteOutcome } | { readonly index: number; readonly bug: string };

/**
 * The body of a synth worker thread, given the fleet module compiled with it (see
 * synth-worker-main.ts): loads the catalog, then synthesizes each site the main thread names.
 */
export function runSynthWorker(fleetModule: { fleet?: unknown }): void {
  const data = workerData as SynthWorkerData;
  const catalog = loadCatalog(data.catalogDir);
  const fleet = fleetOf(fleetModule, data.fleetModule);
  parentPort!.on('message', ({ index, published, checkedFingerprints }: SynthWorkerRequest) => {
    try {
      const outcome = synthSite(fleet[index], catalog, { ...data.context, published, checkedFingerprints }, renderChecked);
      parentPort!.postMessage({ index, outcome } satisfies SynthWorkerReply);
    } catch (e) {
      parentPort!.postMessage({ index, bug: (e as Error)?.stack ?? String(e) } satisfies SynthWorkerReply);
    }
  });
  parentPort!.postMessage('ready');
}
