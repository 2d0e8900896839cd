// Worker threads start without the TypeScript loader the main thread has; register it first.
import { register } from 'tsx/esm/api';

register();
await import('./synth-worker.ts');
