import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** First line of every file Ansible Vault 1.1 encrypts with AES256. */
export const VAULT_HEADER = '$ANSIBLE_VAULT;1.1;AES256';

/**
 * Ansible Vault's key derivation (ansible/ansible `lib/ansible/parsing/vault/__init__.py`,
 * `VaultAES256._gen_key_initctr`): PBKDF2-HMAC-SHA256 with 10,000 iterations gives 80 bytes,
 * the AES key, the HMAC key and the CTR initial counter block.
 */
function deriveKeys(password: string, salt: Buffer): { aesKey: Buffer; hmacKey: Buffer; iv: Buffer } {
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10_000, 80, 'sha256');
  return { aesKey: derived.subarray(0, 32), hmacKey: derived.subarray(32, 64), iv: derived.subarray(64, 80) };
}

/**
 * `plaintext` encrypted as `ansible-vault encrypt` does (format 1.1, AES256): a random 32-byte
 * salt; PKCS#7 padding to the AES block, then AES-256-CTR; HMAC-SHA256 over the ciphertext;
 * the body is hexlify(hex(salt) \n hex(hmac) \n hex(ciphertext)) in 80-column lines under the
 * header, ending with a newline.
 */
export function vaultEncrypt(plaintext: string, password: string): string {
  const salt = randomBytes(32);
  const { aesKey, hmacKey, iv } = deriveKeys(password, salt);
  const data = Buffer.from(plaintext, 'utf8');
  const padding = 16 - (data.length % 16);
  const padded = Buffer.concat([data, Buffer.alloc(padding, padding)]);
  const cipher = createCipheriv('aes-256-ctr', aesKey, iv);
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest('hex');
  const inner = [salt.toString('hex'), hmac, ciphertext.toString('hex')].join('\n');
  const body = Buffer.from(inner, 'ascii').toString('hex');
  const lines = [VAULT_HEADER];
  for (let i = 0; i < body.length; i += 80) lines.push(body.slice(i, i + 80));
  return lines.join('\n') + '\n';
}

/** Why a vault text cannot be decrypted. */
export class VaultDecryptError extends Error {}

/** The plaintext of a `$ANSIBLE_VAULT;1.1;AES256` text; throws VaultDecryptError on a wrong password or a damaged file. */
export function vaultDecrypt(text: string, password: string): string {
  const [header, ...rest] = text.trim().split(/\r?\n/);
  if (header.trim() !== VAULT_HEADER) throw new VaultDecryptError(`not an Ansible Vault 1.1 AES256 file`);
  const inner = Buffer.from(rest.join('').trim(), 'hex').toString('ascii').split('\n');
  if (inner.length !== 3) throw new VaultDecryptError('the vault body is damaged');
  const [saltHex, hmacHex, cipherHex] = inner;
  const salt = Buffer.from(saltHex, 'hex');
  const ciphertext = Buffer.from(cipherHex, 'hex');
  const { aesKey, hmacKey, iv } = deriveKeys(password, salt);
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const given = Buffer.from(hmacHex, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new VaultDecryptError('HMAC mismatch: wrong vault password or damaged file');
  }
  const decipher = createDecipheriv('aes-256-ctr', aesKey, iv);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const padding = padded[padded.length - 1];
  if (padding < 1 || padding > 16) throw new VaultDecryptError('bad padding');
  return padded.subarray(0, padded.length - padding).toString('utf8');
}
