import { Construct } from 'constructs';
import { errorAt, shownValue } from './errors';
import { backendSourceProblem } from './secret-backend';
import { assertDnsLabel, assertDnsSubdomain, byName, childPath } from './names';
import { EnvironmentConfigMap, type EnvironmentConfigMapProps } from './environment-config-map';
import { EnvironmentSecret, type EnvironmentSecretProps } from './environment-secret';
import { MAX_SECRET_OBJECT_NAME } from './secrets/paths';
import { Applier } from './applier';
import { Site } from './site';
import { Environment } from './environment';
import { ARGOCD_NAMESPACE } from './argocd/applications';
import { FLUX_NAMESPACE } from './flux/apps';
import { configMapNameOf, dashboardNameOf } from './kubernetes/object-names';
import type { Instance } from './instance';
import { fluxCanFetch } from './flux/git-url';
import { argoCdCanReadWithKey } from './argocd/repository-access';
import { IngressTls, ingressTlsProblem } from './ingress-tls';

export interface KubernetesClusterProps {
  /**
   * URL of the cluster's API server, as the applier addresses it. Only the URL is ever
   * written; credentials stay in the applier.
   * @default "https://kubernetes.default.svc" (the cluster the applier runs in)
   */
  readonly apiServer?: string;
  /**
   * What applies the environment repository in the cluster.
   * @default Applier.argoCd()
   */
  readonly applier?: Applier;
  /**
   * Ingress class of the cluster's ingress controller.
   * @default "nginx"
   */
  readonly ingressClass?: string;
  /**
   * How the Ingresses of exposed instances get certificates: cert-manager with an issuer
   * (`IngressTls.certManager({ issuer: IssuerRef.cluster('letsencrypt-prod') })`), a TLS
   * Secret the administrators create (`IngressTls.secret('wildcard-tls')`) or the repository
   * holds (`IngressTls.secret('wildcard-tls', { certificate, privateKey })`), or none. An
   * exposure may choose otherwise (`Exposure.ingress({ tls })`).
   * @default IngressTls.none() - plain HTTP: no Ingress has TLS, and instance URLs are `http://<host>`
   */
  readonly tls?: IngressTls;
  /**
   * Storage class for persistent volumes.
   * @default - the cluster's default storage class
   */
  readonly storageClass?: string;
  /**
   * Namespace the environment's instances are installed in; the applier creates it, so not
   * one of the cluster's own or its applier's (`default`, `kube-system`, `argocd`…).
   * @default - `<site>-<environment>`
   */
  readonly namespace?: string;
}

/** The ConfigMap in which Kubernetes (1.20 and later) publishes the cluster's root CA in every namespace. */
const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';

/** The ConfigMaps siteforge makes for a natively rendered instance: of its config files, of its dashboard. */
function nativeConfigMaps(instance: Instance): string[] {
  return [
    ...(instance.service.workload?.configFiles.length ? [configMapNameOf(instance)] : []),
    ...(instance.monitored && instance.service.monitoring?.dashboard ? [dashboardNameOf(instance)] : []),
  ];
}

/**
 * Namespaces Kubernetes makes for itself, and those Argo CD and Flux run in (a function: the
 * appliers' modules import this one's, and their constants may not be set yet when it loads).
 */
function clusterNamespaces(): readonly string[] {
  return ['default', 'kube-system', 'kube-public', 'kube-node-lease', ARGOCD_NAMESPACE, FLUX_NAMESPACE];
}

/** The Kubernetes target of an environment. */
export class KubernetesCluster extends Construct {
  public readonly apiServer: string;
  public readonly applier: Applier;
  public readonly ingressClass: string;
  /** How exposed instances' Ingresses get certificates, unless their exposure says otherwise. */
  public readonly tls: IngressTls;
  public readonly storageClass?: string;
  public readonly namespace: string;

  constructor(scope: Environment, id: string, props: KubernetesClusterProps = {}) {
    super(scope, id);
    if (props === null || typeof props !== 'object') {
      throw errorAt(this.node.path, `addCluster takes options such as { apiServer: 'https://k8s.acme.internal:6443' }, got ${shownValue(props)}`);
    }
    this.apiServer = props.apiServer ?? 'https://kubernetes.default.svc';
    if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(this.apiServer)) {
      throw errorAt(this.node.path, `apiServer must be an https:// URL, got ${JSON.stringify(props.apiServer)}`);
    }
    this.applier = props.applier ?? Applier.argoCd();
    if (!(this.applier instanceof Applier)) throw errorAt(this.node.path, `applier must be Applier.argoCd() or Applier.flux(), got ${shownValue(this.applier)}`);
    // Flux's GitRepository would be refused by the API server, or never fetch: fail here instead.
    if (this.applier.name === 'flux' && !fluxCanFetch(scope.repoUrl)) {
      throw errorAt(scope.node.path, `Flux cannot fetch the environment repository ${JSON.stringify(scope.repoUrl)} (a GitRepository takes only https://, http:// and ssh:// URLs); set the site's gitRemote to an https://, ssh:// or user@host:path URL`);
    }
    // Argo CD would be told to add a key it refuses for such a URL, and could never log in.
    if (this.applier.name === 'argocd' && !argoCdCanReadWithKey(scope.repoUrl)) {
      const example = Site.of(scope).gitRemote!.replace(/^ssh:\/\//, 'ssh://git@');
      throw errorAt(scope.node.path, `Argo CD reads the environment repository ${JSON.stringify(scope.repoUrl)} with a key only when the URL names the ssh user; set the site's gitRemote to one that does, e.g. ${JSON.stringify(example)}`);
    }
    this.ingressClass = props.ingressClass ?? 'nginx';
    this.tls = props.tls ?? IngressTls.none();
    const tlsProblem = ingressTlsProblem(this.tls);
    if (tlsProblem) throw errorAt(this.node.path, `tls ${tlsProblem}`);
    this.storageClass = props.storageClass;
    this.namespace = props.namespace ?? `${Site.of(scope).name}-${scope.name}`;
    assertDnsLabel(this.node.path, 'ingressClass', this.ingressClass);
    if (this.storageClass !== undefined) assertDnsLabel(this.node.path, 'storageClass', this.storageClass);
    // The default is made of two valid names, each up to 63 characters: only its length can be wrong.
    if (props.namespace === undefined && this.namespace.length > 63) {
      throw errorAt(this.node.path, `namespace ${this.namespace}, made of the site and environment names (<site>-<env>), must be at most 63 characters, got ${this.namespace.length}; give the environment a namespace of its own (addCluster({ namespace })), or shorten the site or environment name`);
    }
    assertDnsLabel(this.node.path, 'namespace', this.namespace);
    // The applier creates the environment's Namespace and, with prune, may delete it with everything in it.
    if (clusterNamespaces().includes(this.namespace)) {
      throw errorAt(this.node.path, `namespace ${this.namespace} belongs to the cluster or its applier (${clusterNamespaces().join(', ')}), and the environment's applier would take it over and could delete it; give the environment a namespace of its own (the default is <site>-<env>)`);
    }
    this.node.addValidation({ validate: () => this.namespaceObjectProblems() });
  }

  /**
   * Adds a ConfigMap `name` to the environment's namespace, belonging to no instance
   * (Choerodon's 配置映射): written to `manifests/namespace/`.
   */
  public addConfigMap(name: string, props: EnvironmentConfigMapProps): EnvironmentConfigMap {
    this.assertFreeObjectName(name, 'ConfigMap');
    if (name === ROOT_CA_CONFIG_MAP) {
      throw errorAt(childPath(this, name), `ConfigMap ${name} is in every namespace already: the controller manager publishes the cluster's root CA in it for service account tokens, and would replace the data given; give it another name`);
    }
    return new EnvironmentConfigMap(this, name, props);
  }

  /** The ConfigMaps added with addConfigMap, by name. */
  public get configMaps(): EnvironmentConfigMap[] {
    return this.node.children.filter((c): c is EnvironmentConfigMap => c instanceof EnvironmentConfigMap).sort(byName);
  }

  /**
   * Adds a Secret `name` to the environment's namespace, belonging to no instance
   * (Choerodon's 密文): written to `manifests/secrets/` by the environment's secret backend.
   */
  public addSecret(name: string, props: EnvironmentSecretProps): EnvironmentSecret {
    this.assertFreeObjectName(name, 'Secret');
    return new EnvironmentSecret(this, name, props);
  }

  /** The Secrets added with addSecret, by name. */
  public get environmentSecrets(): EnvironmentSecret[] {
    return this.node.children.filter((c): c is EnvironmentSecret => c instanceof EnvironmentSecret).sort(byName);
  }

  private assertFreeObjectName(name: string, kind: 'ConfigMap' | 'Secret'): void {
    assertDnsSubdomain(childPath(this, name), `${kind} name`, name);
    // Each object is a file <kind>-<name>.yaml, which file systems take up to 255 bytes long.
    const files = kind === 'ConfigMap' ? ['configmap'] : ['externalsecret', 'sealedsecret'];
    const longest = kind === 'ConfigMap' ? 255 - 'configmap-.yaml'.length : MAX_SECRET_OBJECT_NAME;
    if (name.length > longest) {
      throw errorAt(childPath(this, name), `${kind} name has ${name.length} characters, too many for its file ${files.map((file) => `${file}-<name>.yaml`).join(' or ')} (file systems take 255 bytes); give it a name of at most ${longest} characters`);
    }
    if (this.node.tryFindChild(name)) {
      throw errorAt(childPath(this, name), `${this.node.path} already has a ConfigMap or Secret named ${JSON.stringify(name)}; give each its own name`);
    }
  }

  /**
   * An environment object named like a chart-based instance, or starting with its name and a
   * dash (a chart's `<release>-…`), or like a ConfigMap siteforge makes for a native instance;
   * an environment Secret named like a TLS Secret an Ingress serves; and values the
   * environment's secret backend cannot carry.
   */
  private namespaceObjectProblems(): string[] {
    const env = Environment.of(this);
    const instances = env.instances.filter((i) => i.placement.kind === 'kubernetes');
    const problems: string[] = [];
    // A chart names its objects <release>-… as it likes; a native instance's ConfigMaps are
    // siteforge's own (its Secrets are checked by name in secretNameProblems).
    for (const [kind, objects] of [['ConfigMap', this.configMaps], ['Secret', this.environmentSecrets]] as const) {
      for (const object of objects) {
        const chart = instances.find((i) => i.service.helm && (object.name === i.name || object.name.startsWith(`${i.name}-`)));
        if (chart) problems.push(`${object.node.path}: ${kind} ${object.name} is named like the objects of instance ${chart.name} (${chart.name}-…), which its chart may make; give it a name that starts otherwise`);
        const native = kind === 'ConfigMap' ? instances.find((i) => !i.service.helm && nativeConfigMaps(i).includes(object.name)) : undefined;
        if (native) problems.push(`${object.node.path}: ConfigMap ${object.name} is one siteforge makes for instance ${native.name} (its config files or its dashboard); give it another name`);
      }
    }
    for (const secret of this.environmentSecrets) {
      const tls = instances.find((i) => i.tls.secretNameOf(i.name) === secret.name);
      if (tls) problems.push(`${secret.node.path}: Secret ${secret.name} is the TLS Secret ${tls.name}'s Ingress serves, and one would replace the other; give it another name`);
      for (const [key, value] of Object.entries(secret.data)) {
        const problem = backendSourceProblem(value, env.secrets, env.node.path, 'Secret.fromEnv(...) or Secret.generated()');
        if (problem) problems.push(`${secret.node.path}: data.${key} ${problem}`);
      }
    }
    return problems;
  }
}
