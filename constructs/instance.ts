import { isIP } from 'node:net';
import { Construct } from 'constructs';
import { errorAt, receivedValue, shownValue } from './errors';
import { assertDnsSubdomain, didYouMean, dnsSubdomainProblem } from './names';
import { Placement } from './placement';
import { Exposure } from './exposure';
import { IngressTls, ingressTlsProblem } from './ingress-tls';
import { EnvironmentConfigMap } from './environment-config-map';
import { EnvironmentSecret } from './environment-secret';
import { Site } from './site';
import { Environment } from './environment';
import { HostGroup, type Host } from './host-group';
import { Secret } from './secret';
import type { ServiceDefinition, ServiceProfile, WorkloadResources } from './service-definition';
import { plaintextSecretSettings, vaultFile, vaultVariable } from './ansible/variables';

export interface InstanceProps {
  /** The catalog service to install. */
  readonly service: ServiceDefinition;
  /**
   * Profile of the service (e.g. `single` or `cluster`).
   * @default - the service's default profile
   */
  readonly profile?: string;
  /**
   * Number of nodes: pods on Kubernetes, hosts on VMs.
   * @default - the profile's default node count
   */
  readonly nodes?: number;
  /**
   * Settings, checked against the service's `values.schema.json`.
   * @default - the schema's defaults
   */
  readonly settings?: Record<string, unknown>;
  /**
   * Where the instance runs.
   * @default Placement.kubernetes()
   */
  readonly placement?: Placement;
  /**
   * CPU and memory requests and limits of each node, as Kubernetes quantities.
   * @default - the service's defaults
   */
  readonly resources?: WorkloadResources;
  /**
   * How the instance is reached from outside the cluster.
   * @default Exposure.none()
   */
  readonly exposure?: Exposure;
  /**
   * Values of the instance's credentials, by key of its service's credentials Secret
   * (`mysql-password`...). Rendered by the environment's secrets backend on Kubernetes and as
   * Ansible Vault values on VMs; never in plaintext.
   * @default - every key is `Secret.generated()`
   */
  readonly credentials?: Readonly<Record<string, Secret>>;
  /**
   * Whether to pull in the service's missing dependencies: each dependency is bound to the
   * environment's instance of that service, or, when there is none, to a new instance named
   * after the service (`<instance>-<service>` when that name is taken) with its defaults, on
   * the same placement when the dependency supports it (else on the cluster, which an instance
   * on VMs cannot use: that is refused).
   * @default false - a missing dependency is an error naming both services
   */
  readonly withDependencies?: boolean;
  /**
   * Whether to render monitoring for a service that declares metrics: a ServiceMonitor
   * (Prometheus operator) and its Grafana dashboard as a ConfigMap.
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * The environment's own ConfigMaps and Secrets (`cluster.addConfigMap`, `cluster.addSecret`)
   * whose keys become environment variables of the instance's container (Kubernetes
   * `envFrom`, in this order; the service's own variables win). Only for a service siteforge
   * renders natively on Kubernetes: a chart's values decide what its pods read.
   * @default - none
   */
  readonly envFrom?: readonly (EnvironmentConfigMap | EnvironmentSecret)[];
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** What each suffix of a quantity multiplies by. */
const QUANTITY_SCALE: Readonly<Record<string, number>> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** The amount a quantity (checked against QUANTITY) stands for. */
function amountOf(quantity: string): number {
  const [, number, suffix = ''] = /^([0-9.]+)(.*)$/.exec(quantity)!;
  return Number(number) * QUANTITY_SCALE[suffix];
}

/** 63 characters of a label value, less "-" and the 10 of a controller revision's hash. */
const MAX_STATEFULSET_NAME = 52;
/** Helm's longest release name (chartutil.ValidateReleaseName). */
const MAX_RELEASE_NAME = 53;
/** An Ingress path: absolute, of the characters a URL path may hold unescaped (RFC 3986). */
const INGRESS_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

/** A catalog service installed into an environment (Choerodon's 实例). */
export class Instance extends Construct {
  public readonly name: string;
  public readonly service: ServiceDefinition;
  public readonly profile: ServiceProfile;
  public readonly nodes: number;
  /** Settings with the schema's defaults filled in. */
  public readonly settings: Record<string, unknown>;
  public readonly placement: Placement;
  public readonly resources: WorkloadResources;
  public readonly exposure: Exposure;
  /** Credentials by key, sorted; empty when the service has none. */
  public readonly credentials: Readonly<Record<string, Secret>>;
  public readonly withDependencies: boolean;
  /** Whether the instance renders its service's monitoring (false when the service declares none). */
  public readonly monitored: boolean;
  /** The environment's ConfigMaps and Secrets the container reads all keys of. */
  public readonly envFrom: readonly (EnvironmentConfigMap | EnvironmentSecret)[];
  private readonly used: Instance[] = [];
  /** Whether the profile is the service's default, not one the site named. */
  private readonly defaultProfile: boolean;

  constructor(scope: Environment, id: string, props: InstanceProps) {
    super(scope, id);
    const path = this.node.path;
    this.name = id;
    // Plain JavaScript (and a compiled fleet, which is not type-checked) can pass anything.
    if (props === null || typeof props !== 'object') {
      throw errorAt(path, `props must be an object such as { service: catalog.service('mysql') }, got ${shownValue(props)}`);
    }
    if (typeof (props.service as Partial<ServiceDefinition> | undefined)?.resolveSettings !== 'function') {
      throw errorAt(path, `service must be a catalog service, as catalog.service('mysql') gives, not ${receivedValue(props.service)}`);
    }
    this.service = props.service;

    const profileName = props.profile ?? props.service.defaultProfile;
    const profile = Object.hasOwn(props.service.profiles, profileName) ? props.service.profiles[profileName] : undefined;
    if (!profile) {
      const profiles = Object.keys(props.service.profiles);
      throw errorAt(path, `${props.service.name} has no profile ${JSON.stringify(profileName)}${didYouMean(profileName, profiles)}; profiles are ${profiles.join(', ')}`);
    }
    this.profile = profile;
    this.defaultProfile = props.profile === undefined;
    // Checked with the tree (see problems), not thrown here: nothing built on needs a valid
    // count, and a throw would end the site's build, hiding its other environments' problems.
    this.nodes = props.nodes ?? profile.defaultNodes;

    const { settings, problems } = props.service.resolveSettings(props.settings ?? {});
    if (problems.length > 0) {
      throw errorAt(path, problems.map((p) => `settings${p.path} ${p.message}`).join('; '));
    }
    this.settings = settings;

    this.placement = props.placement ?? Placement.kubernetes();
    if (!(this.placement instanceof Placement)) {
      throw errorAt(path, `placement must be Placement.kubernetes() or Placement.vm({ group }), got ${shownValue(this.placement)}`);
    }
    if (this.placement.kind === 'vm' && !(this.placement.group instanceof HostGroup)) {
      throw errorAt(path, `Placement.vm needs the host group that runs the instance: Placement.vm({ group }) with a group addHostGroup returned, got ${shownValue(this.placement.group)}`);
    }
    if (!props.service.placements.includes(this.placement.kind)) {
      throw errorAt(path, `${props.service.name} cannot be placed on ${this.placement.kind}; it supports ${props.service.placements.join(', ')}`);
    }
    if (this.placement.kind === 'vm') this.checkVmPlacement();
    // Each pod's controller-revision-hash label is the StatefulSet's name, "-" and a hash of up
    // to 10 characters, and a label value holds at most 63: a longer name starts no pod.
    if (this.placement.kind === 'kubernetes' && props.service.workload?.kind === 'StatefulSet' && id.length > MAX_STATEFULSET_NAME) {
      throw errorAt(path, `instance name must be at most ${MAX_STATEFULSET_NAME} characters, as it names a StatefulSet (Kubernetes labels its pods with the name and a hash, at most 63 characters together), got ${id.length}`);
    }
    // Argo CD and Flux install a chart as the release named after the instance, and Helm
    // (helm template too) refuses a release name over 53 characters.
    if (this.placement.kind === 'kubernetes' && props.service.helm && id.length > MAX_RELEASE_NAME) {
      throw errorAt(path, `instance name must be at most ${MAX_RELEASE_NAME} characters, as it names a Helm release (Helm refuses a longer one, so the chart would never install), got ${id.length}`);
    }
    this.resources = { ...props.service.workload?.resources, ...props.resources };
    for (const [resource, quantities] of Object.entries(this.resources)) {
      if (quantities !== undefined && (quantities === null || typeof quantities !== 'object' || Array.isArray(quantities))) {
        throw errorAt(path, `resources.${resource} must be { request, limit } such as ${resource === 'memory' ? "{ request: '256Mi', limit: '512Mi' }" : "{ request: '500m', limit: '1' }"}, got ${shownValue(quantities)}`);
      }
      for (const [bound, quantity] of Object.entries(quantities ?? {})) {
        if (typeof quantity !== 'string' || !QUANTITY.test(quantity)) {
          throw errorAt(path, `resources.${resource}.${bound} must be a Kubernetes quantity such as 500m or 2Gi, got ${JSON.stringify(quantity)}`);
        }
      }
      // Kubernetes refuses a Pod whose request is above its limit.
      const { request, limit } = (quantities ?? {}) as { request?: string; limit?: string };
      if (request !== undefined && limit !== undefined && amountOf(request) > amountOf(limit)) {
        throw errorAt(path, `resources.${resource}.request (${request}) is above its limit (${limit}); raise the limit or lower the request`);
      }
    }
    // A chart whose values leave them out would take them in silence.
    const helm = this.placement.kind === 'kubernetes' ? props.service.helm : undefined;
    if (props.resources !== undefined && helm && !helm.resources) {
      throw errorAt(path, `${props.service.name}'s Helm values do not size its workload (they never read instance.resources): leave resources out, or size it through its settings`);
    }
    this.exposure = props.exposure ?? Exposure.none();
    if (!(this.exposure instanceof Exposure)) {
      throw errorAt(path, `exposure must be Exposure.ingress({ host, path, tls }) or Exposure.none(), got ${shownValue(this.exposure)}`);
    }
    if (this.exposure.ingress) {
      if (this.placement.kind !== 'kubernetes') throw errorAt(path, `an Ingress exposure needs placement on Kubernetes, but ${id} is placed on VMs; leave exposure out or place it on Kubernetes`);
      if (helm && !helm.ingress && !helm.siteforgeIngress) throw errorAt(path, `${props.service.name}'s Helm values set up no Ingress (they never read instance.host): leave exposure out`);
      assertDnsSubdomain(path, 'exposure host', this.host);
      // An IPv4 address passes as DNS labels, but the API server refuses it as an Ingress host.
      if (isIP(this.host)) {
        throw errorAt(path, `exposure host must be a DNS name, not an IP address, got ${JSON.stringify(this.host)}: Kubernetes refuses an Ingress rule for an IP; give a name that resolves to the ingress controller, such as ${id}.${Site.of(this).domain}`);
      }
      for (const [name, extra] of Object.entries(this.extraHosts)) {
        if (dnsSubdomainProblem(extra)) throw errorAt(path, `the host ${props.service.name}'s chart serves as ${name}, ${extra}, ${dnsSubdomainProblem(extra)}; give the instance a host whose first label is shorter`);
      }
      const tlsProblem = this.exposure.tls === undefined ? undefined : ingressTlsProblem(this.exposure.tls);
      if (tlsProblem) throw errorAt(path, `exposure tls ${tlsProblem}`);
      const ingressPath = this.exposure.path ?? '/';
      if (typeof ingressPath !== 'string' || !INGRESS_PATH.test(ingressPath)) {
        throw errorAt(path, `exposure path must start with "/" and hold only the characters of a URL path (letters, digits, and -._~!$&'()*+,;=:@%/), got ${JSON.stringify(ingressPath)}`);
      }
      // The Ingress siteforge writes for a chart routes the path as it is, and the chart's
      // application, told no path (the values read none), answers at the root alone.
      if (helm?.siteforgeIngress && ingressPath !== '/') {
        throw errorAt(path, `exposure path must be "/" for ${props.service.name}, whose chart serves at the root alone (siteforge writes its Ingress, helm.ingress), got ${JSON.stringify(ingressPath)}; leave path out and give the instance a host of its own`);
      }
    }

    this.credentials = resolveCredentials(path, props.service, this.placement.kind, scope.secrets.kind, props.credentials);
    for (const option of ['monitoring', 'withDependencies'] as const) {
      if (props[option] !== undefined && typeof props[option] !== 'boolean') throw errorAt(path, `${option} must be true or false, got ${shownValue(props[option])}`);
    }
    this.monitored = (props.monitoring ?? true) && props.service.monitoring !== undefined;
    this.envFrom = this.checkedEnvFrom(scope, props.envFrom);
    this.withDependencies = props.withDependencies ?? false;
    if (this.withDependencies) this.pullInDependencies(scope);

    this.node.addValidation({ validate: () => this.problems() });
  }

  private checkedEnvFrom(env: Environment, envFrom: unknown): readonly (EnvironmentConfigMap | EnvironmentSecret)[] {
    const path = this.node.path;
    if (envFrom === undefined) return [];
    if (!Array.isArray(envFrom)) throw errorAt(path, `envFrom must be a list of the environment's ConfigMaps and Secrets ([cluster.addConfigMap(...)]), got ${shownValue(envFrom)}`);
    if (envFrom.length === 0) return [];
    if (this.placement.kind !== 'kubernetes' || !this.service.workload) {
      const where = this.placement.kind === 'vm' ? 'placed on VMs' : `rendered from its Helm chart, whose values decide what its pods read`;
      throw errorAt(path, `envFrom gives a container the keys of ConfigMaps and Secrets, but ${this.name} is ${where}; leave envFrom out`);
    }
    const seen = new Set<object>();
    for (const source of envFrom) {
      if (!(source instanceof EnvironmentConfigMap || source instanceof EnvironmentSecret)) {
        throw errorAt(path, `envFrom takes what cluster.addConfigMap and cluster.addSecret return, got ${shownValue(source)}`);
      }
      if (Environment.of(source) !== env) throw errorAt(path, `envFrom names ${source.node.path}, which belongs to another environment; add it to ${env.node.path}'s cluster`);
      if (seen.has(source)) throw errorAt(path, `envFrom names ${source.node.path} twice; name it once`);
      // The kubelet skips such keys with only an event (IsEnvVarName; relaxed from Kubernetes 1.32).
      const unnamed = Object.keys(source.data).find((key) => /^[0-9]/.test(key));
      if (unnamed !== undefined) {
        throw errorAt(path, `envFrom reads ${source.node.path}, whose key ${JSON.stringify(unnamed)} starts with a digit: the kubelet of Kubernetes 1.28 leaves such a key out of the environment (a variable name may not start with a digit until 1.32); rename the key`);
      }
      seen.add(source);
    }
    return [...envFrom];
  }

  /** Binds every dependency to the environment's instance of it, creating the missing ones. */
  private pullInDependencies(env: Environment): void {
    const path = this.node.path;
    for (const dependency of this.service.dependencies) {
      const existing = env.instances.find((i) => i !== this && i.service.name === dependency);
      if (existing) {
        this.uses(existing);
        continue;
      }
      const service = this.service.resolveDependency?.(dependency);
      if (!service) {
        throw errorAt(path, `withDependencies: ${this.service.name} depends on ${dependency}, but its definition is not available; add a ${dependency} instance to ${env.node.path} yourself`);
      }
      const name = env.node.tryFindChild(dependency) ? `${this.name}-${dependency}` : dependency;
      const placement = service.placements.includes(this.placement.kind) ? this.placement : Placement.kubernetes();
      this.uses(env.addInstance(name, { service, placement, withDependencies: true }));
    }
  }

  /** Binds this instance to `dependency`: it is deployed first and its connection settings are injected. */
  public uses(dependency: Instance): this {
    if (!(dependency instanceof Instance)) throw errorAt(this.node.path, `uses takes an instance of its environment (what addInstance returns), not ${shownValue(dependency)}`);
    if (dependency === this) throw errorAt(this.node.path, 'an instance cannot use itself');
    if (Environment.of(dependency) !== Environment.of(this)) {
      throw errorAt(this.node.path, `can only use instances of its own environment, not ${dependency.node.path}`);
    }
    if (!this.used.includes(dependency)) this.used.push(dependency);
    return this;
  }

  /** The instances this one uses, in the order `uses` was called. */
  public get dependencies(): readonly Instance[] {
    return this.used;
  }

  /** Whether the instance runs as a cluster of several nodes. */
  public get clustered(): boolean {
    return this.nodes > 1;
  }

  /**
   * The Service clients reach the instance at on its cluster: the one its chart names for them
   * (`helm.clientService`), else the one named after the instance (a native workload's, or the
   * selector-less Service of an instance on VMs).
   */
  public get serviceName(): string {
    const clientService = this.placement.kind === 'kubernetes' ? this.service.helm?.clientService : undefined;
    return clientService ? clientService({ instance: { name: this.name } }) : this.name;
  }

  /** Host name of the Ingress, when exposed. */
  public get host(): string | undefined {
    if (!this.exposure.ingress) return undefined;
    return this.exposure.host ?? `${this.name}.${Site.of(this).domain}`;
  }

  /**
   * The further hosts its chart's Ingresses serve, by the names its catalog entry gives them
   * (`helm.extraHosts`), when exposed: `<name>-<first label of host>.<the rest of host>`
   * (`minio-gitlab.acme.example.com` for `gitlab.acme.example.com`), so that two instances
   * of one service never share one, and a wildcard certificate for the host's domain covers
   * them; empty when not exposed.
   */
  public get extraHosts(): Readonly<Record<string, string>> {
    const host = this.host;
    if (host === undefined) return {};
    const dot = host.indexOf('.');
    const [first, rest] = dot < 0 ? [host, ''] : [host.slice(0, dot), host.slice(dot)];
    return Object.fromEntries((this.service.helm?.extraHosts ?? []).map((name) => [name, `${name}-${first}${rest}`]));
  }

  /** Every host its Ingresses serve: `host` and the `extraHosts`; empty when not exposed. */
  public get ingressHosts(): string[] {
    const host = this.host;
    return host === undefined ? [] : [host, ...Object.values(this.extraHosts)];
  }

  /**
   * How the Ingress gets its certificate: the exposure's choice, else the cluster's;
   * `IngressTls.none()` when the instance is not exposed.
   */
  public get tls(): IngressTls {
    if (!this.exposure.ingress) return IngressTls.none();
    return this.exposure.tls ?? Environment.of(this).cluster?.tls ?? IngressTls.none();
  }

  /** The URL the instance is reached at from outside, when exposed: `https://<host>` with TLS, else `http://<host>`. */
  public get url(): string | undefined {
    const host = this.host;
    if (host === undefined) return undefined;
    return `${this.tls.enabled ? 'https' : 'http'}://${host}`;
  }

  /** VM hosts that run this instance (empty on Kubernetes): the first `nodes` qualifying hosts. */
  public get hosts(): Host[] {
    return this.qualifyingHosts().slice(0, this.nodes);
  }

  /**
   * Hosts of the placement's group that may run this instance: those carrying the placement's
   * role (when it names one) and one of the host roles the service runs on.
   */
  public qualifyingHosts(): Host[] {
    const { group, role } = this.placement;
    if (!group) return [];
    const serviceRoles = this.service.vm?.hostRoles ?? [];
    return group.hostsWithRole(role).filter((h) => h.roles.some((r) => serviceRoles.includes(r)));
  }

  private checkVmPlacement(): void {
    const path = this.node.path;
    const vm = this.service.vm;
    if (!vm) throw errorAt(path, `${this.service.name} has no vm section in its catalog folder, so it cannot be placed on VMs; place it on Kubernetes or add vm to its service.yml`);
    const role = this.placement.role;
    if (role !== undefined && !vm.hostRoles.includes(role)) {
      throw errorAt(path, `${this.service.name} cannot run on hosts with role ${role}; it runs on hosts with role ${vm.hostRoles.join(' or ')}`);
    }
    const secrets = plaintextSecretSettings(this.settings);
    if (secrets.length > 0) {
      const key = secrets[0].split('/').pop()!;
      throw errorAt(path, `setting ${secrets.join(', ')} holds a credential and would be written in plaintext on VMs; remove it from settings and define the Ansible Vault variable ${vaultVariable(this.name, key)} in ${vaultFile(this.name)} instead`);
    }
  }

  /** Whether `nodes` is a count the profile allows. */
  private nodesValid(): boolean {
    return allowsNodes(this.profile, this.nodes);
  }

  /**
   * The fix when the site gave nodes but no profile, and the default profile does not allow
   * that count while another does (`nodes: 3` for Elasticsearch, whose default is single).
   */
  private profileForNodes(): string {
    if (!this.defaultProfile) return '';
    const fitting = Object.values(this.service.profiles).filter((p) => allowsNodes(p, this.nodes));
    if (fitting.length === 0) return '';
    return `; profile ${this.profile.name} is ${this.service.name}'s default: for ${this.nodes} nodes, set ${fitting.map((p) => `profile: '${p.name}'`).join(' or ')}`;
  }

  private problems(): string[] {
    const path = this.node.path;
    const env = Environment.of(this);
    const problems: string[] = [];
    const nodesValid = this.nodesValid();
    if (!nodesValid) problems.push(`${path}: nodes must be ${Number.isInteger(this.nodes) ? '' : 'an integer, '}${describeNodes(this.profile)} for profile ${this.profile.name}, got ${shownValue(this.nodes)}${this.profileForNodes()}`);
    for (const dependency of this.service.dependencies) {
      if (!this.used.some((d) => d.service.name === dependency)) {
        problems.push(`${path}: ${this.service.name} depends on ${dependency}, but ${this.name} uses no ${dependency} instance; add one to ${env.node.path} and call ${this.name}.uses(it), or set withDependencies: true`);
      }
    }
    if (this.placement.kind === 'kubernetes' && !env.cluster) {
      problems.push(`${path}: placed on Kubernetes, but ${env.node.path} has no cluster; call addCluster() on it or place the instance on VMs`);
    }
    // A VM host resolves no cluster DNS name and reads no Secret of the cluster: it would be
    // given an address and credential variables that do not exist there.
    if (this.placement.kind === 'vm') {
      for (const dependency of this.used.filter((d) => d.placement.kind === 'kubernetes')) {
        problems.push(`${path}: placed on VMs, but uses ${dependency.name} on Kubernetes, which VMs cannot reach (its address is a cluster DNS name and its credentials are in a Secret of the cluster); place both on VMs (Placement.vm) or both on the cluster`);
      }
    }
    // A chart whose values leave TLS out would serve the ingress controller's default
    // certificate on a URL that says https (the Ingress siteforge writes serves it).
    const helm = this.placement.kind === 'kubernetes' ? this.service.helm : undefined;
    if (this.exposure.ingress && helm && !helm.siteforgeIngress && !helm.tls && this.tls.enabled) {
      const from = this.exposure.tls ? 'its exposure' : `its cluster (${env.cluster?.node.path})`;
      problems.push(`${path}: ${this.service.name}'s Helm values set up no TLS (they never read instance.tls), but ${from} gives its Ingress TLS; expose it with tls: IngressTls.none()`);
    }
    const { group, role } = this.placement;
    if (group) {
      if (Environment.of(group) !== env) {
        problems.push(`${path}: host group ${group.node.path} belongs to another environment`);
      }
      const qualified = this.qualifyingHosts();
      const roles = role ?? this.service.vm?.hostRoles.join(' or ') ?? '';
      if (qualified.length === 0) {
        problems.push(`${path}: no host in ${group.node.path} can run ${this.service.name}: it needs a host with role ${roles}; give hosts that role or place the instance elsewhere`);
      } else if (nodesValid && qualified.length < this.nodes) {
        const names = qualified.map((h) => h.name).join(', ');
        problems.push(`${path}: needs ${this.nodes} distinct hosts with role ${roles} in ${group.node.path}, found ${qualified.length} (${names}); add hosts or lower nodes`);
      }
    }
    return problems;
  }
}

/** The credential keys of `service` (its credentials Secret's keys, and its VM secrets), sorted. */
export function credentialKeys(service: ServiceDefinition): string[] {
  const credentials = service.connection?.credentials;
  return [...new Set([...(credentials?.keys ?? []), ...Object.values(credentials?.env ?? {}), ...(service.vm?.secrets ?? [])])].sort();
}

function resolveCredentials(
  path: string,
  service: ServiceDefinition,
  placement: 'kubernetes' | 'vm',
  backend: 'external-secrets' | 'sealed-secrets',
  given: Readonly<Record<string, Secret>> = {},
): Record<string, Secret> {
  const keys = credentialKeys(service);
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw errorAt(path, `credentials must be an object of Secrets by key, such as { '${keys[0] ?? 'password'}': Secret.generated() }, got ${Array.isArray(given) ? 'a list' : given === null ? 'null' : `a ${typeof given}`} (not shown)`);
  }
  for (const [key, secret] of Object.entries(given)) {
    if (!keys.includes(key)) {
      throw errorAt(path, keys.length > 0
        ? `credentials has unknown key ${JSON.stringify(key)}; ${service.name} credentials are ${keys.join(', ')}`
        : `credentials has key ${JSON.stringify(key)}, but ${service.name} has no credentials`);
    }
    if (!(secret instanceof Secret)) {
      // What was given is not shown: a string here is likely the secret itself.
      throw errorAt(path, `credentials.${key} must be a Secret (Secret.generated(), Secret.fromStore(...), Secret.fromEnv(...)), got ${secret === null ? 'null' : typeof secret === 'object' ? `a ${(secret as object).constructor?.name ?? 'null-prototype'} object` : `a ${typeof secret}`} (not shown)`);
    }
    const where = placement === 'vm' ? 'on VMs (Ansible Vault)' : `with ${backend}`;
    if (secret.source === 'store' && backend !== 'external-secrets') {
      throw errorAt(path, `credentials.${key} is read from a secret store, which works only with SecretBackend.externalSecrets(), not ${where}; use Secret.fromEnv(...) or Secret.generated()`);
    }
    if (secret.source === 'store' && placement === 'vm') {
      throw errorAt(path, `credentials.${key} is read from a secret store, which works only on Kubernetes with SecretBackend.externalSecrets(), not ${where}; use Secret.fromEnv(...) or Secret.generated()`);
    }
    if (secret.source === 'env' && backend === 'external-secrets' && placement === 'kubernetes') {
      throw errorAt(path, `credentials.${key} is read from ${secret.description}, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...)`);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, given[key] ?? Secret.generated()]));
}

/** Whether `profile` allows `nodes` nodes. */
function allowsNodes(profile: ServiceProfile, nodes: number): boolean {
  const { minNodes, maxNodes, forbiddenNodes } = profile;
  return Number.isInteger(nodes) && nodes >= minNodes && (maxNodes === undefined || nodes <= maxNodes) && !forbiddenNodes.includes(nodes);
}

function describeNodes(profile: ServiceProfile): string {
  const range = profile.maxNodes === undefined
    ? `at least ${profile.minNodes}`
    : profile.minNodes === profile.maxNodes ? `${profile.minNodes}` : `from ${profile.minNodes} to ${profile.maxNodes}`;
  return profile.forbiddenNodes.length > 0 ? `${range}, not ${profile.forbiddenNodes.join(' or ')}` : range;
}
