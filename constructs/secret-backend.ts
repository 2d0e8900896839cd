import { errorAt, shownValue, UserError } from './errors';
import type { Secret } from './secret';
import { dnsSubdomainProblem } from './names';

/** Where External Secrets reads values from: a namespaced SecretStore or a ClusterSecretStore. */
export class SecretStoreRef {
  /** A ClusterSecretStore, usable from every namespace. */
  public static cluster(name: string): SecretStoreRef {
    return new SecretStoreRef('ClusterSecretStore', name);
  }

  /** A SecretStore in the environment's namespace. */
  public static namespaced(name: string): SecretStoreRef {
    return new SecretStoreRef('SecretStore', name);
  }

  private constructor(
    public readonly kind: 'SecretStore' | 'ClusterSecretStore',
    public readonly name: string,
  ) {
    const problem = dnsSubdomainProblem(name);
    if (problem) throw new UserError(`the ${kind} name ${problem}, got ${JSON.stringify(name)}`);
  }
}

/**
 * Which namespaces and names a sealed value may be unsealed under (Sealed Secrets' scopes).
 * The scope is part of the encryption: it is the RSA-OAEP label.
 */
export class SealingScope {
  /** Only under its own namespace and name (label `<namespace>/<name>`). */
  public static readonly STRICT = new SealingScope('strict', undefined);
  /** Under any name in its namespace (label `<namespace>`). */
  public static readonly NAMESPACE_WIDE = new SealingScope('namespace-wide', 'sealedsecrets.bitnami.com/namespace-wide');
  /** Under any namespace and name (empty label). */
  public static readonly CLUSTER_WIDE = new SealingScope('cluster-wide', 'sealedsecrets.bitnami.com/cluster-wide');

  private constructor(
    public readonly name: 'strict' | 'namespace-wide' | 'cluster-wide',
    /** Annotation set to "true" on the SealedSecret, for scopes other than strict. */
    public readonly annotation: string | undefined,
  ) {}

  /** The RSA-OAEP label of a value sealed for `namespace`/`name` under this scope. */
  public label(namespace: string, name: string): string {
    if (this.name === 'strict') return `${namespace}/${name}`;
    return this.name === 'namespace-wide' ? namespace : '';
  }
}

export interface ExternalSecretsOptions {
  /**
   * The store ExternalSecrets read from.
   * @default SecretStoreRef.cluster('siteforge')
   */
  readonly store?: SecretStoreRef;
  /**
   * How often values read from the store are refreshed (a Go duration).
   * @default "1h"
   */
  readonly refreshInterval?: string;
}

export interface SealedSecretsOptions {
  /**
   * The Sealed Secrets controller's public key, as a PEM certificate (what
   * `kubeseal --fetch-cert` prints) or a PEM public key (`-----BEGIN PUBLIC KEY-----`).
   */
  readonly certificate: string;
  /**
   * Scope values are sealed for.
   * @default SealingScope.STRICT
   */
  readonly scope?: SealingScope;
}

const PEM = /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----\s*$/;
const DURATION = /^([0-9]+(ns|us|ms|s|m|h))+$/;

/** Throws an error naming `path` unless `secrets` is a SecretBackend (not a string such as "sealed"). */
export function assertSecretBackend(path: string, secrets: unknown): asserts secrets is SecretBackend {
  if (!(secrets instanceof SecretBackend)) {
    throw errorAt(path, `secrets must be SecretBackend.externalSecrets(...) or SecretBackend.sealedSecrets({ certificate }), got ${shownValue(secrets)}`);
  }
}

/**
 * How an environment's Kubernetes secrets are rendered: chosen per site, overridden per
 * environment. VM secrets are always Ansible Vault values.
 */
export class SecretBackend {
  /**
   * External Secrets (connected sites): an `ExternalSecret` per secret, reading `fromStore`
   * values from the store; generated values come from External Secrets' Password generator,
   * created once. Nothing secret is in the repository. `Secret.fromEnv` is refused.
   */
  public static externalSecrets(options: ExternalSecretsOptions = {}): SecretBackend {
    const refreshInterval = options.refreshInterval ?? '1h';
    if (!DURATION.test(refreshInterval)) {
      throw errorAt('SecretBackend.externalSecrets', `refreshInterval must be a duration such as 1h or 30m, got ${JSON.stringify(refreshInterval)}`);
    }
    return new SecretBackend('external-secrets', { store: options.store ?? SecretStoreRef.cluster('siteforge'), refreshInterval });
  }

  /**
   * Sealed Secrets (air-gapped sites with the controller): a `SealedSecret` per secret,
   * encrypted with the controller's certificate. `Secret.fromStore` is refused.
   */
  public static sealedSecrets(options: SealedSecretsOptions): SecretBackend {
    if (typeof options.certificate !== 'string' || !PEM.test(options.certificate.trim() + '\n')) {
      throw errorAt('SecretBackend.sealedSecrets', 'certificate must be a PEM certificate (kubeseal --fetch-cert) or PEM public key');
    }
    return new SecretBackend('sealed-secrets', { certificate: options.certificate.trim() + '\n', scope: options.scope ?? SealingScope.STRICT });
  }

  private constructor(
    public readonly kind: 'external-secrets' | 'sealed-secrets',
    private readonly options: { store?: SecretStoreRef; refreshInterval?: string; certificate?: string; scope?: SealingScope },
  ) {}

  /** External Secrets: the store. */
  public get store(): SecretStoreRef | undefined {
    return this.options.store;
  }

  /** External Secrets: the refresh interval of store values. */
  public get refreshInterval(): string | undefined {
    return this.options.refreshInterval;
  }

  /** Sealed Secrets: the controller's PEM certificate or public key. */
  public get certificate(): string | undefined {
    return this.options.certificate;
  }

  /** Sealed Secrets: the sealing scope. */
  public get scope(): SealingScope | undefined {
    return this.options.scope;
  }
}

/**
 * Why `backend` cannot carry `secret`, as an error goes on after naming the value ("data.token
 * " + this), or undefined: a store key needs External Secrets, and a value read from a variable
 * must be sealed, since ExternalSecrets read only from the store. `instead` is what to use for
 * a store key. `env` is the environment's path.
 */
export function backendSourceProblem(secret: Secret, backend: SecretBackend, env: string, instead: string): string | undefined {
  if (secret.source === 'store' && backend.kind !== 'external-secrets') {
    return `is read from a secret store, which works only with SecretBackend.externalSecrets(), not with ${backend.kind} (${env}); use ${instead}`;
  }
  if (secret.source === 'env' && backend.kind === 'external-secrets') {
    return `is read from ${secret.description}, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...) for ${env}`;
  }
  return undefined;
}
