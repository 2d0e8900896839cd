import type { Environment } from '../environment';

/** A Kubernetes Secret sealed by the engine: what goes into a SealedSecret. */
export interface SealedSecretMaterial {
  /** Key → base64 of the sealed value. */
  readonly encryptedData: Readonly<Record<string, string>>;
  /** Extra annotations the engine keeps with the object (what it was sealed with). */
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * What the engine hands the renderers after resolving an environment's secrets: encrypted
 * values only. Encryption needs randomness, environment variables and the previous output,
 * so it happens in the engine; the renderers stay pure and only lay the ciphertext out.
 */
export interface SecretMaterial {
  /** Sealed Secrets, by `<namespace>/<name>`. */
  readonly sealed: Readonly<Record<string, SealedSecretMaterial>>;
  /** Ansible Vault files (`$ANSIBLE_VAULT;1.1;AES256`), by VM instance name. */
  readonly vault: Readonly<Record<string, string>>;
  /**
   * What the certificates of the TLS Secrets siteforge holds say of themselves, by Secret name,
   * for the environment's README; only those read from the environment (a store's are unknown).
   * @default {}
   */
  readonly certificates?: Readonly<Record<string, CertificateFacts>>;
}

/** The public facts of a TLS certificate: what it is valid for, and until when. */
export interface CertificateFacts {
  /** Its subjectAltName DNS names. */
  readonly names: readonly string[];
  /** Its expiry, as an ISO 8601 date (`2027-03-01`). */
  readonly validUntil: string;
}

const provided = new WeakMap<Environment, SecretMaterial>();

/** Gives `env` the encrypted values its renderers lay out (called by the engine before rendering). */
export function provideSecretMaterial(env: Environment, material: SecretMaterial): void {
  provided.set(env, material);
}

/** The material provided for `env`, if any. */
export function secretMaterialOf(env: Environment): SecretMaterial | undefined {
  return provided.get(env);
}
