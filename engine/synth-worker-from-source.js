// @ts-check
// The program of a synth worker thread where siteforge runs from source (the fleet could not
// be compiled, or SITEFORGE_FROM_SOURCE=1): the TypeScript through tsx's loader, which a
// worker thread registers for itself.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./synth-worker-main.ts', import.meta.url).href);
