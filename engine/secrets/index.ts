import { join } from 'node:path';
import { provideSecretMaterial, Site, type Environment, type RenderedFile } from '../../constructs';
import { renderEnvironment } from '../../constructs/render';
import { assertNoPlaintextSecrets } from './gate';
import { resolveSecrets, secretMaterialDigest } from './resolve';
import type { FingerprintVerdict } from './generate';

export * from './gate';
export * from './resolve';
export { vaultEncrypt, vaultDecrypt, VAULT_HEADER } from './ansible-vault';
export { sealValue, sealingKeyOf, sealingKeyFingerprint } from './sealed-secrets';

export interface SecureRenderOptions {
  /** The output folder; the environment's previous repository is `<outDir>/<site>/<env>`. */
  readonly outDir: string;
  /**
   * Generate new values for the environment's generated secrets.
   * @default false
   */
  readonly rotateSecrets?: boolean;
  /**
   * Where `Secret.fromEnv` values and SITEFORGE_VAULT_PASSWORD are read.
   * @default process.env
   */
  readonly variables?: Readonly<Record<string, string | undefined>>;
  /**
   * The environment's credential files as its published repository holds them, for an output
   * folder that has none (see publishedReads).
   * @default {}
   */
  readonly published?: Readonly<Record<string, string>>;
  /**
   * Values checked against the fingerprints of the previous output (see previewSecrets).
   * @default - none: each value is checked as it is resolved
   */
  readonly checkedFingerprints?: ReadonlyMap<string, FingerprintVerdict>;
  /**
   * Whether values sealed anew get their fingerprints (see ResolveSecretsOptions.makeFingerprints).
   * @default true
   */
  readonly makeFingerprints?: boolean;
}

/** The files of an environment rendered with its secrets, and the secretMaterialDigest of those. */
export interface SecureRender {
  readonly files: RenderedFile[];
  readonly secretsDigest: string;
}

/**
 * Renders `env` with its secrets: resolves and encrypts them (reading the previous output so
 * generated values stay), renders every file, then runs the plaintext-secret gate on the
 * result. What synth calls instead of `renderEnvironment`.
 */
export function renderEnvironmentSecurely(env: Environment, options: SecureRenderOptions): RenderedFile[] {
  return renderWithSecretMaterial(env, options).files;
}

/** renderEnvironmentSecurely, with the digest of the secret material the files were rendered with. */
export function renderWithSecretMaterial(env: Environment, options: SecureRenderOptions): SecureRender {
  const repo = `${Site.of(env).name}/${env.name}`;
  const { material, handled } = resolveSecrets(env, {
    repoDir: join(options.outDir, repo),
    rotate: options.rotateSecrets ?? false,
    variables: options.variables,
    published: options.published,
    checkedFingerprints: options.checkedFingerprints,
    makeFingerprints: options.makeFingerprints,
  });
  provideSecretMaterial(env, material);
  const files = renderEnvironment(env);
  assertNoPlaintextSecrets(repo, files, handled);
  return { files, secretsDigest: secretMaterialDigest(material) };
}
