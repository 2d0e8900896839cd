import { randomInt, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random value of `length` letters and digits: no character a shell, a URL, YAML or a
 * connection string would need quoted, 5.95 bits each (190 bits for the default 32).
 */
export function generateSecretValue(length: number): string {
  let value = '';
  for (let i = 0; i < length; i++) value += ALPHABET[randomInt(ALPHABET.length)];
  return value;
}

/*
 * A value read from the environment is sealed again only when it changed. A SealedSecret
 * cannot be opened without the cluster's private key, so the synth keeps, next to the sealed
 * value, a salted scrypt digest of it (N=2^15, r=8, p=1): enough to tell "same value" without
 * storing anything a reader could use short of guessing, at about 100 ms per guess.
 */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** `scrypt$<salt base64>$<digest base64>` of `value`, with a fresh salt. */
export function valueFingerprint(value: string): string {
  const salt = randomBytes(16);
  const digest = scryptSync(value, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64')}$${digest.toString('base64')}`;
}

/**
 * What stands in for a value's fingerprint where the output is thrown away (a dry run, as
 * `siteforge validate` makes): making a real one is 100 ms of scrypt for nothing. It is not of
 * the form `scrypt$<salt>$<digest>`, so matchesFingerprint and checkFingerprints reject it
 * whatever the value: should it ever reach an output, a later synth takes the value as changed
 * and seals it anew, with a real fingerprint.
 */
export const UNMADE_FINGERPRINT = 'unmade';

/** Whether `fingerprint` (from valueFingerprint) was made from `value`. */
export function matchesFingerprint(value: string, fingerprint: unknown): boolean {
  const parts = fingerprintParts(fingerprint);
  return parts !== undefined && timingSafeEqual(scryptSync(value, parts.salt, 32, SCRYPT), parts.digest);
}

/** A value, and the fingerprint the previous output holds for it (see valueFingerprint). */
export interface FingerprintCheck {
  readonly value: string;
  readonly fingerprint: string;
}

/**
 * How many fingerprint checks run at once: one a core, as many as libuv's threadpool runs
 * (four unless UV_THREADPOOL_SIZE says otherwise), and each holds 32 MiB for scrypt
 * (128·N·r bytes). On two cores, four at once were no faster than two and took 30–60 MiB more.
 */
export const FINGERPRINT_CHECKS_AT_ONCE = Math.max(1, Math.min(availableParallelism(), Number(process.env.UV_THREADPOOL_SIZE) || 4));

/** What a fingerprint check found: the value checked, and whether it made the fingerprint. */
export interface FingerprintVerdict {
  readonly value: string;
  readonly made: boolean;
}

/**
 * The verdict of every check, by fingerprint: whichever way a check comes out, the render
 * need not do it again. Each takes about 100 ms of scrypt, by design: they run on libuv's
 * threadpool, beside this thread, as many at once as `limit` lets (see concurrencyLimit).
 * Once `ended` is aborted, a check not started yet is not made (its value counts as changed):
 * a failed synth does not keep the process alive for checks nobody reads.
 */
export async function checkFingerprints(checks: readonly FingerprintCheck[], limit: <R>(task: () => Promise<R>) => Promise<R>, ended?: AbortSignal): Promise<Map<string, FingerprintVerdict>> {
  const made = await Promise.all(checks.map(({ value, fingerprint }) => limit(() => new Promise<boolean>((resolve, reject) => {
    const parts = fingerprintParts(fingerprint);
    if (!parts || ended?.aborted) return resolve(false);
    scrypt(value, parts.salt, 32, SCRYPT, (error, digest) => (error ? reject(error) : resolve(timingSafeEqual(digest, parts.digest))));
  }))));
  const verdicts = checks.map(({ value, fingerprint }, i) => [fingerprint, { value, made: made[i] }] as const);
  // Two values checked against one fingerprint (copied between files): the one that made it is
  // kept, so that it is not checked again; the other is checked as it is resolved.
  return new Map([...verdicts.filter(([, v]) => !v.made), ...verdicts.filter(([, v]) => v.made)]);
}

/** The salt and digest of a fingerprint valueFingerprint made; undefined for anything else. */
function fingerprintParts(fingerprint: unknown): { readonly salt: Buffer; readonly digest: Buffer } | undefined {
  if (typeof fingerprint !== 'string') return undefined;
  const [scheme, salt, digest] = fingerprint.split('$');
  if (scheme !== 'scrypt' || !salt || !digest) return undefined;
  const expected = Buffer.from(digest, 'base64');
  return expected.length === 32 ? { salt: Buffer.from(salt, 'base64'), digest: expected } : undefined;
}
