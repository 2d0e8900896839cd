import { workerData } from 'node:worker_threads';
import { runSynthWorker, type SynthWorkerData } from './synth-worker';

// The program of a synth worker thread, compiled with the fleet module (see
// compiled-program.js), which it imports from the same build.
const data = workerData as SynthWorkerData;
runSynthWorker(await import(data.fleetModuleUrl));
