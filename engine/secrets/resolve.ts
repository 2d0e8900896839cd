import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  Environment, sealedSecretPath, secretRequirements, secretValueName, TLS_CERTIFICATE_KEY, TLS_PRIVATE_KEY_KEY, vaultFile, vaultVariable,
  type CertificateFacts, type SealedSecretMaterial, type Secret, type SecretMaterial, type SecretRequirement,
} from '../../constructs';
import { parseYaml, toYaml } from '../../constructs/yaml';
import { UserError, UserErrors } from '../errors';
import { vaultDecrypt, vaultEncrypt } from './ansible-vault';
import { generateSecretValue, matchesFingerprint, UNMADE_FINGERPRINT, valueFingerprint, type FingerprintCheck, type FingerprintVerdict } from './generate';
import { sealingKeyFingerprint, sealingKeyOf, sealValue } from './sealed-secrets';

/** The environment variable holding the Ansible Vault password at synth time. */
export const VAULT_PASSWORD_VARIABLE = 'SITEFORGE_VAULT_PASSWORD';

/** Smallest RSA key of a TLS certificate: the CA/Browser Forum's baseline requirements allow none smaller. */
const MIN_RSA_BITS = 2048;

/** Shortest secret value accepted: shorter ones are weak, and the gate could not search for them. */
export const MIN_SECRET_LENGTH = 8;

/** The most a Secret's data may hold, keys and values together, in bytes (the API server's limit). */
const MAX_SECRET_BYTES = 1024 * 1024;

/** A secret value the synth handled, which must appear in no generated file. */
export interface HandledSecret {
  readonly value: string;
  /** Where the value comes from, for errors (never the value). */
  readonly description: string;
}

export interface ResolveSecretsOptions {
  /** The environment's repository folder as the previous synth left it (may not exist). */
  readonly repoDir: string;
  /**
   * Credential files of the environment as its published repository holds them (path → text),
   * read where `repoDir` has none (see publishedReads).
   * @default {}
   */
  readonly published?: Readonly<Record<string, string>>;
  /**
   * Generate new values for every generated secret instead of keeping the previous ones.
   * @default false
   */
  readonly rotate?: boolean;
  /**
   * Where `Secret.fromEnv` values and the vault password are read.
   * @default process.env
   */
  readonly variables?: Readonly<Record<string, string | undefined>>;
  /**
   * Values already checked against the fingerprints the previous output holds, by fingerprint
   * (see checkFingerprints): they are not checked again, whether they made them or not.
   * @default - none: each value is checked here
   */
  readonly checkedFingerprints?: ReadonlyMap<string, FingerprintVerdict>;
  /**
   * Whether a value sealed anew gets its fingerprint (about 100 ms of scrypt each), which a
   * later synth checks it against; false where the output is thrown away (a dry run): it gets
   * UNMADE_FINGERPRINT, which no value matches.
   * @default true
   */
  readonly makeFingerprints?: boolean;
}

export interface ResolvedSecrets {
  readonly material: SecretMaterial;
  readonly handled: readonly HandledSecret[];
}

const SEALING_KEY = 'siteforge.dev/sealing-key';
const SEALING_SCOPE = 'siteforge.dev/sealing-scope';
const FINGERPRINTS = 'siteforge.dev/value-fingerprints';

/**
 * Encrypts the secrets of `env` for its renderers. Generated values are created once: a
 * sealed value is kept as the previous output holds it (so long as it was sealed with the same
 * key, scope, namespace and name); a vault file is decrypted with the vault password and kept
 * byte for byte when its values did not change. Every problem of the environment is thrown
 * at once.
 */
export function resolveSecrets(env: Environment, options: ResolveSecretsOptions): ResolvedSecrets {
  return resolveWith(env, options, {
    matches: (value, fingerprint) => {
      const checked = fingerprint === undefined ? undefined : options.checkedFingerprints?.get(fingerprint);
      return checked?.value === value ? checked.made : matchesFingerprint(value, fingerprint);
    },
    make: options.makeFingerprints === false ? () => UNMADE_FINGERPRINT : valueFingerprint,
  });
}

/** What resolveSecrets will make of an environment's secrets, found before it is rendered. */
export interface SecretsPreview {
  /**
   * The values it checks against the fingerprints the previous output holds, each about
   * 100 ms of scrypt: checkFingerprints checks them beforehand, beside the threads that render.
   */
  readonly checks: readonly FingerprintCheck[];
  /** The secretMaterialDigest of what it resolves, should every check confirm its value. */
  readonly digest: string;
}

/**
 * Resolves the secrets of `env` as resolveSecrets does, taking every value read from the
 * environment (or a vault) as the one its fingerprint was made from, without checking it;
 * undefined when they cannot be resolved (rendering the environment reports why).
 */
export function previewSecrets(env: Environment, options: Omit<ResolveSecretsOptions, 'checkedFingerprints' | 'makeFingerprints'>): SecretsPreview | undefined {
  const checks: FingerprintCheck[] = [];
  try {
    const { material } = resolveWith(env, options, {
      // A value with no fingerprint to check is sealed anew, as resolveSecrets does.
      matches: (value, fingerprint) => {
        if (fingerprint === undefined) return false;
        checks.push({ value, fingerprint });
        return true;
      },
      // A value sealed anew has a new seal, which changes the digest whatever its fingerprint:
      // none is made here (each is 100 ms of scrypt).
      make: () => '',
    });
    return { checks, digest: secretMaterialDigest(material) };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return undefined;
  }
}

/**
 * A digest of what an environment's secrets resolved to: sealed values, their fingerprints,
 * vault files and what TLS certificates say of themselves, none of which gives a value away.
 * The files rendered are the same for the same construct tree and the same digest.
 */
export function secretMaterialDigest(material: SecretMaterial): string {
  return createHash('sha256').update(JSON.stringify(material)).digest('base64url');
}

/** How resolveWith tells a value from its fingerprint, and makes one. */
interface Fingerprinting {
  matches(value: string, fingerprint: string | undefined): boolean;
  make(value: string): string;
}

function resolveWith(env: Environment, options: ResolveSecretsOptions, fingerprinting: Fingerprinting): ResolvedSecrets {
  const variables = options.variables ?? process.env;
  const sealed: Record<string, SealedSecretMaterial> = {};
  const vault: Record<string, string> = {};
  const handled: HandledSecret[] = [];
  const errors: UserError[] = [];
  const keys = new Map<string, KeyObject>();
  const context: Context = { options, variables, fingerprinting, handled, keys, vaultValues: new Map(), readValues: new Map(), certificates: {} };
  // A vault carrying the values of the instances its instance uses is resolved after theirs.
  const order = new Map(env.instancesInDependencyOrder().map((instance, index) => [instance, index]));
  // Environment Secrets, which belong to no instance, come last.
  const rank = (r: SecretRequirement) => (r.instance ? order.get(r.instance)! : order.size);
  const requirements = secretRequirements(env).sort((a, b) => rank(a) - rank(b));
  for (const requirement of requirements) {
    try {
      if (requirement.target === 'vm') vault[requirement.name] = resolveVault(requirement, context);
      else if (requirement.backend!.kind === 'sealed-secrets') sealed[`${requirement.namespace}/${requirement.name}`] = resolveSealed(requirement, context);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(...(e instanceof UserErrors ? e.errors : [e]));
    }
  }
  UserErrors.throwIfAny(errors);
  return { material: { sealed, vault, certificates: context.certificates }, handled };
}

/**
 * Whether rendering `env` reads environment variables (the vault password, `Secret.fromEnv`
 * values): then its output depends on more than its construct tree.
 */
export function readsVariables(env: Environment): boolean {
  return secretRequirements(env).some((r) => r.target === 'vm' || Object.values(r.values).some((secret) => secret.source === 'env'));
}

interface Context {
  readonly options: ResolveSecretsOptions;
  readonly variables: Readonly<Record<string, string | undefined>>;
  readonly fingerprinting: Fingerprinting;
  readonly handled: HandledSecret[];
  readonly keys: Map<string, KeyObject>;
  /** The values written into each VM instance's vault (instance name → variable → value), for the Secrets that share them. */
  readonly vaultValues: Map<string, Readonly<Record<string, string>>>;
  /** Values read from the environment so far, by variable. */
  readonly readValues: Map<string, string>;
  /** What the certificates of the TLS Secrets read so far say, by Secret name. */
  readonly certificates: Record<string, CertificateFacts>;
}

function valueFromEnv(requirement: SecretRequirement, key: string, secret: Secret, context: Context): string {
  // A TLS Secret's values are read to check the certificate, then to seal them: handle each variable once.
  const read = context.readValues.get(secret.variable!);
  if (read !== undefined) return read;
  const value = context.variables[secret.variable!];
  const what = secretValueName(requirement, key);
  if (value === undefined || value === '') {
    const problem = value === undefined ? 'is not set; export it' : 'is empty; export it with the value';
    throw new UserError(`${requirement.path}: ${what} ${requirement.purpose === 'credentials' ? 'come' : 'comes'} from the environment variable ${secret.variable}, which ${problem} before synthesizing`);
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new UserError(`${requirement.path}: the environment variable ${secret.variable} (${what}) holds ${value.length} characters; a secret needs at least ${MIN_SECRET_LENGTH}`);
  }
  context.handled.push({ value, description: `${secret.description} (${requirement.path} ${what})` });
  context.readValues.set(secret.variable!, value);
  return value;
}

function resolveSealed(requirement: SecretRequirement, context: Context): SealedSecretMaterial {
  const backend = requirement.backend!;
  const pem = backend.certificate!;
  let key = context.keys.get(pem);
  if (!key) {
    key = sealingKeyOf(pem, requirement.path);
    context.keys.set(pem, key);
  }
  const fingerprint = sealingKeyFingerprint(key);
  const scope = backend.scope!;
  const label = scope.label(requirement.namespace!, requirement.name);
  const previous = readPreviousSealed(previousFile(context.options, sealedSecretPath(requirement.name)));
  const reusable = previous !== undefined &&
    previous.namespace === requirement.namespace &&
    previous.annotations[SEALING_KEY] === fingerprint &&
    previous.annotations[SEALING_SCOPE] === scope.name;
  const previousFingerprints = reusable ? parseFingerprints(previous.annotations[FINGERPRINTS]) : {};
  const encryptedData: Record<string, string> = {};
  const fingerprints: Record<string, string> = {};
  // What the unsealed Secret holds: its keys and values, as the API server counts them.
  let bytes = 0;
  if (requirement.purpose === 'tls') {
    const facts = usableCertificateFacts(requirement, context);
    if (facts) context.certificates[requirement.name] = facts;
  }
  const vaulted = requirement.fromVault ? context.vaultValues.get(requirement.instance!.name) : undefined;
  // The vault could not be resolved: that error is reported already.
  if (requirement.fromVault && vaulted === undefined) return { encryptedData: {}, annotations: {} };
  for (const [secretKey, secret] of Object.entries(requirement.values)) {
    const before = previous?.encryptedData[secretKey];
    const known = vaulted ? vaulted[vaultVariable(requirement.instance!.name, secretKey)] : secret.source === 'env' ? valueFromEnv(requirement, secretKey, secret, context) : undefined;
    bytes += Buffer.byteLength(secretKey) + (known !== undefined ? Buffer.byteLength(known) : secret.length ?? 0);
    if (known !== undefined) {
      // A value known here is sealed again only when it changed (its fingerprint tells).
      if (before && reusable && context.fingerprinting.matches(known, previousFingerprints[secretKey])) {
        encryptedData[secretKey] = before;
        fingerprints[secretKey] = previousFingerprints[secretKey];
      } else {
        encryptedData[secretKey] = sealValue(key, label, Buffer.from(known, 'utf8'));
        fingerprints[secretKey] = context.fingerprinting.make(known);
      }
    } else if (secret.source === 'generated') {
      if (before && reusable && !context.options.rotate) {
        encryptedData[secretKey] = before;
        continue;
      }
      if (before && !context.options.rotate) {
        throw new UserError(`${requirement.path}: the generated ${secretValueName(requirement, secretKey)} ${requirement.purpose === 'credentials' ? 'were' : 'was'} sealed with another certificate, scope or namespace, and ${requirement.purpose === 'credentials' ? 'their' : 'its'} value is known only to the cluster; run synth with --rotate-secrets to generate and seal new values`);
      }
      const value = generateSecretValue(secret.length!);
      context.handled.push({ value, description: `generated ${secretValueName(requirement, secretKey)} of ${requirement.path}` });
      encryptedData[secretKey] = sealValue(key, label, Buffer.from(value, 'utf8'));
    } else {
      throw new UserError(`${requirement.path}: ${secretValueName(requirement, secretKey)} ${requirement.purpose === 'credentials' ? 'are' : 'is'} read from a secret store, which needs SecretBackend.externalSecrets()`);
    }
  }
  if (bytes > MAX_SECRET_BYTES) {
    throw new UserError(`${requirement.path}: the Secret ${requirement.name} would hold ${bytes} bytes, more than the ${MAX_SECRET_BYTES} bytes Kubernetes stores in one Secret; split its values over several Secrets, or mount large files another way`);
  }
  const annotations: Record<string, string> = { [SEALING_KEY]: fingerprint, [SEALING_SCOPE]: scope.name };
  if (Object.keys(fingerprints).length > 0) annotations[FINGERPRINTS] = JSON.stringify(fingerprints);
  return { encryptedData, annotations };
}

/**
 * What the TLS Secret's certificate says of itself (undefined when it is read from a store,
 * which synth never sees). Throws, naming the variables, unless its certificate and key (read from the
 * environment) are PEM, belong together, and the certificate is valid for the host of every
 * instance whose Ingress serves the Secret (a DNS name of its subjectAltName; browsers ignore
 * the CN): the ingress controller would otherwise serve its default certificate, or one
 * browsers refuse.
 */
function usableCertificateFacts(requirement: SecretRequirement, context: Context): CertificateFacts | undefined {
  const certificateSecret = requirement.values[TLS_CERTIFICATE_KEY];
  const keySecret = requirement.values[TLS_PRIVATE_KEY_KEY];
  if (certificateSecret.source !== 'env' || keySecret.source !== 'env') return undefined;
  const where = `${requirement.path}: the TLS Secret ${requirement.name}`;
  const chain = valueFromEnv(requirement, TLS_CERTIFICATE_KEY, certificateSecret, context);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(chain);
  } catch {
    throw new UserError(`${where}: the environment variable ${certificateSecret.variable} holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the certificate chain, the server's certificate first`);
  }
  // tls.crt is the chain alone: it is read as public, and ingress-nginx refuses one that does not start with a certificate.
  const others = [...new Set([...chain.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]).filter((type) => type !== 'CERTIFICATE'))];
  if (others.some((type) => type.endsWith('PRIVATE KEY'))) {
    throw new UserError(`${where}: the environment variable ${certificateSecret.variable} holds a private key as well as certificates, and tls.crt is read as public; export the certificate chain alone, and the key in ${keySecret.variable === certificateSecret.variable ? 'a variable of its own' : keySecret.variable}`);
  }
  if (others.length > 0) {
    throw new UserError(`${where}: the environment variable ${certificateSecret.variable} holds ${others.map((type) => `a ${type}`).join(', ')} as well as certificates; export the certificate chain alone, the server's certificate first`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(valueFromEnv(requirement, TLS_PRIVATE_KEY_KEY, keySecret, context));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: the environment variable ${keySecret.variable} holds no unencrypted PEM private key; export the key (openssl pkey -in <key file> removes a passphrase)`);
  }
  const rsaBits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  if (rsaBits !== undefined && rsaBits < MIN_RSA_BITS) {
    throw new UserError(`${where}: the key in ${keySecret.variable} is a ${rsaBits}-bit RSA key, too weak for TLS (certificate authorities issue none under ${MIN_RSA_BITS} bits); export a certificate with an RSA key of at least ${MIN_RSA_BITS} bits, or an EC key`);
  }
  if (!certificate.checkPrivateKey(key)) {
    const chained = certificatesOf(chain);
    const position = chained.findIndex((c) => c.checkPrivateKey(key));
    if (position > 0) {
      throw new UserError(`${where}: the key in ${keySecret.variable} belongs to certificate ${position + 1} of the chain in ${certificateSecret.variable} (${chained[position].subject.replace(/\n/g, ', ')}), not to the first (${certificate.subject.replace(/\n/g, ', ')}); export the chain with the server's certificate first`);
    }
    throw new UserError(`${where}: the key in ${keySecret.variable} does not belong to the certificate in ${certificateSecret.variable} (${certificate.subject.replace(/\n/g, ', ')}); export the certificate's own key`);
  }
  const env = Environment.of(requirement.instance!);
  const hosts = env.instances
    .filter((i) => i.placement.kind === 'kubernetes' && i.tls.secretNameOf(i.name) === requirement.name)
    .flatMap((i) => i.ingressHosts);
  // As browsers and Go's TLS clients match: only the DNS names of subjectAltName count (not the
  // CN), and a wildcard is a whole leftmost label.
  const uncovered = [...new Set(hosts)].sort().filter((host) => certificate.checkHost(host, { subject: 'never', partialWildcards: false }) === undefined);
  if (uncovered.length > 0) {
    const names = certificate.subjectAltName ? `it names ${certificate.subjectAltName}` : `it has no subjectAltName, and browsers ignore its ${certificate.subject.replace(/\n/g, ', ')}`;
    throw new UserError(`${where}: the certificate in ${certificateSecret.variable} is not valid for ${uncovered.join(', ')} (${names}); export a certificate for ${uncovered.length === 1 ? 'that host' : 'those hosts'}, or serve ${uncovered.length === 1 ? 'it' : 'them'} another IngressTls`);
  }
  const names = (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('DNS:')).map((name) => name.slice(4));
  return { names, validUntil: new Date(certificate.validTo).toISOString().slice(0, 10) };
}

/** The certificates of a PEM chain that parse, in order. */
function certificatesOf(chain: string): X509Certificate[] {
  return [...chain.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].flatMap((m) => {
    try {
      return [new X509Certificate(m[0])];
    } catch {
      return [];
    }
  });
}

interface PreviousSealed {
  readonly namespace?: string;
  readonly annotations: Record<string, string>;
  readonly encryptedData: Record<string, string>;
}

/** The previous text of the credential file `path`: the output's, else the published repository's. */
function previousFile(options: ResolveSecretsOptions, path: string): { readonly path: string; readonly text: string } | undefined {
  const file = join(options.repoDir, path);
  if (existsSync(file)) return { path: file, text: readFileSync(file, 'utf8') };
  const text = options.published?.[path];
  return text === undefined ? undefined : { path, text };
}

function readPreviousSealed(file: { readonly path: string; readonly text: string } | undefined): PreviousSealed | undefined {
  if (!file) return undefined;
  try {
    const object = parseYaml(file.text, file.path) as {
      kind?: string; metadata?: { namespace?: string; annotations?: Record<string, string> }; spec?: { encryptedData?: Record<string, string> };
    };
    if (object?.kind !== 'SealedSecret') return undefined;
    return { namespace: object.metadata?.namespace, annotations: object.metadata?.annotations ?? {}, encryptedData: object.spec?.encryptedData ?? {} };
  } catch {
    return undefined;
  }
}

function parseFingerprints(text: string | undefined): Record<string, string> {
  try {
    const parsed = JSON.parse(text ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' ? parsed as Record<string, string> : {};
  } catch {
    return {};
  }
}

function resolveVault(requirement: SecretRequirement, context: Context): string {
  const password = context.variables[VAULT_PASSWORD_VARIABLE];
  if (password === undefined || password === '') {
    throw new UserError(`${requirement.path}: ${VAULT_PASSWORD_VARIABLE} is not set; the credentials of instances on VMs are encrypted with Ansible Vault: export the vault password as ${VAULT_PASSWORD_VARIABLE}`);
  }
  // It guards every VM credential in the repositories' history: no weaker than one of them.
  if (password.length < MIN_SECRET_LENGTH) {
    throw new UserError(`${requirement.path}: ${VAULT_PASSWORD_VARIABLE} holds ${password.length} characters; the vault password needs at least ${MIN_SECRET_LENGTH}`);
  }
  const previousText = previousFile(context.options, vaultFile(requirement.name))?.text;
  let previous: Record<string, unknown> = {};
  if (previousText !== undefined) {
    try {
      previous = (parseYaml(vaultDecrypt(previousText, password), vaultFile(requirement.name)) ?? {}) as Record<string, unknown>;
    } catch (e) {
      if (!context.options.rotate) {
        throw new UserError(`${requirement.path}: cannot decrypt the previous ${vaultFile(requirement.name)} with ${VAULT_PASSWORD_VARIABLE} (${(e as Error).message}); set the password it was written with, or run synth with --rotate-secrets to generate new values`);
      }
      previous = {};
    }
  }
  const values: Record<string, string> = {};
  for (const [variable, secret] of Object.entries(requirement.values)) {
    if (secret.source === 'env') {
      values[variable] = valueFromEnv(requirement, variable, secret, context);
      continue;
    }
    if (secret.source !== 'generated') {
      throw new UserError(`${requirement.path}: ${variable} is read from a secret store, which works only on Kubernetes with External Secrets`);
    }
    const before = previous[variable];
    values[variable] = typeof before === 'string' && !context.options.rotate ? before : generateSecretValue(secret.length!);
    context.handled.push({ value: values[variable], description: `generated ${variable} of ${requirement.path}` });
  }
  // The credentials of the instances it uses, as their own vaults hold them now (rotated or not).
  for (const [variable, dependency] of Object.entries(requirement.fromDependencies ?? {})) {
    const value = context.vaultValues.get(dependency.name)?.[variable];
    // Its vault could not be resolved: that error is reported already.
    if (value === undefined) return '';
    values[variable] = value;
  }
  context.vaultValues.set(requirement.name, values);
  if (previousText !== undefined && isDeepStrictEqual(values, previous)) return previousText;
  return vaultEncrypt(toYaml(values), password);
}
