import { constants, createCipheriv, createHash, createPublicKey, publicEncrypt, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { UserError } from '../errors';

/**
 * Sealed Secrets' hybrid encryption, as bitnami-labs/sealed-secrets `pkg/crypto/crypto.go`
 * (`HybridEncrypt`) does it: a random 32-byte session key wrapped with RSA-OAEP (SHA-256,
 * MGF1-SHA-256) under `label`; the value encrypted with AES-256-GCM under the session key with
 * a 12-byte zero nonce (safe: every key encrypts one value); the result is the 2-byte
 * big-endian length of the RSA part, the RSA part, then the AES ciphertext and its 16-byte tag.
 * Returned as base64, as `spec.encryptedData` holds it.
 */
export function sealValue(publicKey: KeyObject, label: string, value: Buffer): string {
  const sessionKey = randomBytes(32);
  const wrapped = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label, 'utf8') },
    sessionKey,
  );
  const cipher = createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  const sealed = Buffer.concat([cipher.update(value), cipher.final(), cipher.getAuthTag()]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrapped.length);
  return Buffer.concat([length, wrapped, sealed]).toString('base64');
}

/**
 * The RSA public key in `pem`: a certificate (what `kubeseal --fetch-cert` prints) or a
 * `PUBLIC KEY`. `where` names the construct for errors.
 */
export function sealingKeyOf(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch (e) {
    throw new UserError(`${where}: the Sealed Secrets certificate cannot be read: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new UserError(`${where}: the Sealed Secrets certificate must hold an RSA key, got ${key.asymmetricKeyType}`);
  }
  return key;
}

/** `sha256:<hex>` of the key's SubjectPublicKeyInfo: which key a SealedSecret was sealed with. */
export function sealingKeyFingerprint(key: KeyObject): string {
  return `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}
