import { dnsSubdomainProblem } from './names';
import { Secret } from './secret';
import { MAX_SECRET_OBJECT_NAME } from './secrets/paths';

/**
 * The cert-manager issuer that signs an Ingress's certificates: a ClusterIssuer, usable from
 * every namespace, or an Issuer in the environment's namespace. siteforge only names it: the
 * cluster's administrators install cert-manager and create the issuer.
 */
export class IssuerRef {
  /** A ClusterIssuer (`kubectl get clusterissuers`), e.g. `letsencrypt-prod` or a company CA. */
  public static cluster(name: string): IssuerRef {
    return new IssuerRef('ClusterIssuer', name);
  }

  /** An Issuer in the environment's namespace (`kubectl get issuers -n <namespace>`). */
  public static namespaced(name: string): IssuerRef {
    return new IssuerRef('Issuer', name);
  }

  private constructor(
    public readonly kind: 'ClusterIssuer' | 'Issuer',
    public readonly name: string,
  ) {}
}

/** Options of TLS by cert-manager. */
export interface CertManagerTlsOptions {
  /** The issuer that signs every certificate: `IssuerRef.cluster(name)` or `IssuerRef.namespaced(name)`. */
  readonly issuer: IssuerRef;
}

/**
 * A certificate and its key that siteforge puts into a TLS Secret (Choerodon's uploaded
 * certificate): the environment's secret backend carries them, so neither is ever written in
 * plaintext. `Secret.fromEnv(...)` with `SecretBackend.sealedSecrets(...)`,
 * `Secret.fromStore(...)` with `SecretBackend.externalSecrets(...)`.
 */
export interface TlsSecretContents {
  /**
   * The certificate chain, PEM (`tls.crt`): the server's certificate first, valid for the host
   * of every instance whose Ingress serves it, then its intermediates.
   */
  readonly certificate: Secret;
  /** The certificate's private key, PEM (`tls.key`). */
  readonly privateKey: Secret;
}

/**
 * How the Ingress of an exposed instance gets its certificate (the design's 证书): chosen per
 * cluster, overridden per exposure. With TLS the instance's URL is `https://<host>`, without
 * it `http://<host>`; the URL reaches the instance's config, the instances using it and the
 * environment's README, so they always say what the Ingress serves.
 */
export class IngressTls {
  /** Plain HTTP: the Ingress has no TLS section and the instance's URL is `http://<host>`. */
  public static none(): IngressTls {
    return new IngressTls('none');
  }

  /**
   * cert-manager issues one certificate per exposed instance: siteforge writes a
   * `Certificate` (cert-manager.io/v1) named like the instance into `manifests/<instance>/`,
   * for its host, stored in the Secret `<instance>-tls`, which its Ingress serves.
   */
  public static certManager(options: CertManagerTlsOptions): IngressTls {
    return new IngressTls('cert-manager', options?.issuer);
  }

  /**
   * A TLS Secret (`kubernetes.io/tls`) in the environment's namespace, such as the customer's
   * wildcard certificate: the Ingress serves it by name. With `contents`, the repository holds
   * the Secret, made by the environment's secret backend (a SealedSecret or an ExternalSecret)
   * from the certificate and key they name.
   * @param contents - default: none; the administrators create the Secret and siteforge writes
   * no certificate
   */
  public static secret(secretName: string, contents?: TlsSecretContents): IngressTls {
    return new IngressTls('secret', undefined, secretName, contents);
  }

  private constructor(
    public readonly kind: 'none' | 'cert-manager' | 'secret',
    /** cert-manager: the issuer. */
    public readonly issuer?: IssuerRef,
    /** secret: the name of the Secret. */
    private readonly givenSecretName?: string,
    /** secret: what siteforge puts into it; undefined when the administrators create it. */
    public readonly contents?: TlsSecretContents,
  ) {}

  /** Whether the Ingress terminates TLS (the instance's URL is `https://`). */
  public get enabled(): boolean {
    return this.kind !== 'none';
  }

  /** The Secret holding the certificate of `instance`'s Ingress, or undefined without TLS. */
  public secretNameOf(instance: string): string | undefined {
    if (this.kind === 'cert-manager') return `${instance}-tls`;
    return this.kind === 'secret' ? this.givenSecretName : undefined;
  }

  /** A sentence on where the certificate comes from, for READMEs. */
  public describe(instance: string): string {
    if (this.kind === 'cert-manager') return `cert-manager: Certificate \`${instance}\` from the ${this.issuer!.kind} \`${this.issuer!.name}\`, in Secret \`${this.secretNameOf(instance)}\``;
    if (this.kind === 'secret' && this.contents) {
      return `the Secret \`${this.givenSecretName}\`, held in this repository (certificate from ${this.contents.certificate.description}, key from ${this.contents.privateKey.description})`;
    }
    if (this.kind === 'secret') return `the Secret \`${this.givenSecretName}\`, created by the administrators`;
    return 'none (plain HTTP)';
  }
}

/**
 * Why `tls` (given as the `tls` of a cluster or an exposure) cannot be rendered, saying what to
 * change, or undefined. Plain JavaScript can pass anything, and names become Kubernetes names.
 */
export function ingressTlsProblem(tls: unknown): string | undefined {
  if (!(tls instanceof IngressTls)) {
    return `must be IngressTls.certManager({ issuer }), IngressTls.secret(name[, { certificate, privateKey }]) or IngressTls.none(), got ${JSON.stringify(tls) ?? String(tls)}`;
  }
  if (tls.kind === 'cert-manager') {
    const issuer = tls.issuer as unknown;
    if (!(issuer instanceof IssuerRef)) {
      return `needs an issuer: IngressTls.certManager({ issuer: IssuerRef.cluster(name) }) or IssuerRef.namespaced(name), got ${JSON.stringify(issuer) ?? String(issuer)}`;
    }
    const problem = dnsSubdomainProblem(issuer.name);
    if (problem) return `names the ${issuer.kind} ${JSON.stringify(issuer.name)}, whose name ${problem}; give the name \`kubectl get ${issuer.kind.toLowerCase()}s\` lists`;
  }
  if (tls.kind === 'secret') {
    const name = tls.secretNameOf('');
    const problem = dnsSubdomainProblem(name);
    if (problem) return `names the Secret ${JSON.stringify(name)}, whose name ${problem}; give the name of the TLS Secret in the environment's namespace`;
    if (tls.contents !== undefined && name!.length > MAX_SECRET_OBJECT_NAME) {
      return `names the Secret ${JSON.stringify(name)} of ${name!.length} characters, too many for the file that holds it (sealedsecret-<name>.yaml or externalsecret-<name>.yaml; file systems take 255 bytes); give it a name of at most ${MAX_SECRET_OBJECT_NAME} characters`;
    }
    if (tls.contents !== undefined) return tlsContentsProblem(tls.contents as unknown);
  }
  return undefined;
}

function tlsContentsProblem(contents: unknown): string | undefined {
  if (contents === null || typeof contents !== 'object') {
    return `takes the Secret's contents as { certificate, privateKey }, got ${typeof contents === 'string' ? 'a string (not shown)' : String(contents)}`;
  }
  const given = contents as Record<string, unknown>;
  const unknownKeys = Object.keys(given).filter((key) => key !== 'certificate' && key !== 'privateKey');
  if (unknownKeys.length > 0) return `has unknown contents ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')}; a TLS Secret holds a certificate and a privateKey`;
  for (const key of ['certificate', 'privateKey'] as const) {
    const secret = given[key];
    if (!(secret instanceof Secret)) {
      // Not shown: a string here is likely the certificate or key itself.
      return `${key} must be a Secret (Secret.fromEnv(...) or Secret.fromStore(...)), got ${secret === undefined ? 'nothing' : typeof secret === 'object' ? 'an object that is not one' : `a ${typeof secret}`} (not shown)`;
    }
    if (secret.source === 'generated') {
      return `${key} is Secret.generated(), but a certificate is issued, not generated: give Secret.fromEnv(...) (with sealed secrets) or Secret.fromStore(...) (with External Secrets), or use IngressTls.certManager({ issuer })`;
    }
  }
  return undefined;
}
