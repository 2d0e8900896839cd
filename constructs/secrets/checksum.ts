import { createHash } from 'node:crypto';
import type { Environment } from '../environment';
import { secretMaterialOf } from './material';

/** The pod-template annotation that changes when a sealed value its pods read changes. */
export const SECRETS_CHECKSUM_ANNOTATION = 'checksum/secrets';

/** A Secret of the environment's namespace that a pod reads. */
export interface SecretRead {
  /** The Secret's name. */
  readonly name: string;
  /**
   * The keys the pod reads.
   * @default - every key of the Secret (a chart given the Secret by name reads what it wants)
   */
  readonly keys?: readonly string[];
}

/**
 * sha256 of the sealed values the pods of a workload read (`reads`): their SealedSecrets'
 * `encryptedData`, as the engine provided it (see `SecretMaterial`). The engine keeps a sealed
 * value byte for byte while its value is kept and seals it anew when it changes (a rotated or
 * new generated value, a changed `Secret.fromEnv` value): the checksum changes with the value
 * and with nothing else, so a pod-template annotation of it rolls the pods exactly then
 * (Helm's `checksum/secret` convention, on ciphertext: no value is hashed).
 *
 * Undefined when no Secret read is sealed by siteforge: with External Secrets the values live
 * in the store and are unknown at synth time, and an environment rendered without the
 * engine's material has none to hash.
 */
export function secretsChecksum(env: Environment, reads: readonly SecretRead[]): string | undefined {
  const sealed = secretMaterialOf(env)?.sealed;
  const namespace = env.cluster?.namespace;
  if (!sealed || namespace === undefined) return undefined;
  const entries: [string, string, string | null][] = [];
  for (const name of [...new Set(reads.map((r) => r.name))].sort()) {
    const material = sealed[`${namespace}/${name}`];
    if (!material) continue;
    const readsOfName = reads.filter((r) => r.name === name);
    const keys = readsOfName.some((r) => r.keys === undefined)
      ? Object.keys(material.encryptedData)
      : readsOfName.flatMap((r) => r.keys!);
    for (const key of [...new Set(keys)].sort()) entries.push([name, key, material.encryptedData[key] ?? null]);
  }
  if (entries.length === 0) return undefined;
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}
