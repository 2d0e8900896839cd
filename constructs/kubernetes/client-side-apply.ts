import type { Applier } from '../applier';

/** The annotation with which an object asks Argo CD for sync options of its own. */
const ARGOCD_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/** The most an object's annotations may hold, together, in bytes (the API server's limit). */
const ANNOTATIONS_LIMIT = 256 * 1024;

/**
 * The annotations an object holding `data` (a ConfigMap's data, a SealedSecret's encrypted
 * data) needs to be applied by `applier`: under Argo CD, whose default client-side apply
 * copies the whole object, as Go writes JSON (`<`, `>` and `&` as `\u003c`…), into kubectl's
 * `last-applied-configuration` annotation, an object whose data may not fit there asks for
 * server-side apply, or the API server would refuse it (argoproj/argo-cd#820). 4 KiB are
 * left for the metadata and Argo CD's own annotations. Flux always applies server-side.
 */
export function applyAnnotations(applier: Applier, data: Readonly<Record<string, string>>): Record<string, string> {
  return applier.name === 'argocd' && tooLargeForClientSideApply(data) ? { [ARGOCD_SYNC_OPTIONS]: 'ServerSideApply=true' } : {};
}

function tooLargeForClientSideApply(data: Readonly<Record<string, string>>): boolean {
  const json = JSON.stringify(data);
  // Each of <, > and & grows from 1 byte to 6, each line or paragraph separator from 3 to 6.
  const escaped = 5 * (json.match(/[<>&]/g)?.length ?? 0) + 3 * (json.match(/[\u2028\u2029]/g)?.length ?? 0);
  return Buffer.byteLength(json) + escaped > ANNOTATIONS_LIMIT - 4 * 1024;
}
