import { randomInt, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

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

/** Whether `fingerprint` (from valueFingerprint) was made from `value`. */
export function matchesFingerprint(value: string, fingerprint: unknown): boolean {
  if (typeof fingerprint !== 'string') return false;
  const [scheme, salt, digest] = fingerprint.split('$');
  if (scheme !== 'scrypt' || !salt || !digest) return false;
  const expected = Buffer.from(digest, 'base64');
  if (expected.length !== 32) return false;
  return timingSafeEqual(scryptSync(value, Buffer.from(salt, 'base64'), 32, SCRYPT), expected);
}
