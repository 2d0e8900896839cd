import { Construct } from 'constructs';
import { errorAt, shownValue } from './errors';
import { assertDnsLabel, assertGroupNames, childPath, byName } from './names';
import { Zone } from './zone';
import { Site, checkChartMirror, checkChartMirrorCa, checkChartMirrorCredentials, checkRegistryMirror } from './site';
import { KubernetesCluster, KubernetesClusterProps } from './kubernetes-cluster';
import { HostGroup, HostGroupProps } from './host-group';
import { Instance, InstanceProps } from './instance';
import { assertSecretBackend, type SecretBackend } from './secret-backend';
import { addServiceGroup, type ServiceGroupDefinition, type ServiceGroupOptions } from './service-group';
import { SyncPolicy } from './sync-policy';
import { ansibleNameProblems } from './ansible/names';
import { secretNameProblems } from './secrets/requirements';

export interface EnvironmentProps {
  /**
   * The zone the environment belongs to.
   * @default Zone.RUNTIME
   */
  readonly zone?: Zone;
  /**
   * Groups that own this environment, in addition to the site's owners.
   * @default []
   */
  readonly owners?: readonly string[];
  /**
   * Groups of project members given this environment (项目成员 with environment permission):
   * they may see and sync it, not change it.
   * @default []
   */
  readonly members?: readonly string[];
  /**
   * Registry mirror of this environment, as `host[:port][/path]` (an air-gapped runtime zone
   * while the dev zone pulls from the internet, say).
   * @default - the site's registryMirror
   */
  readonly registryMirror?: string;
  /**
   * Chart mirror of this environment (`https://`, `http://` or `oci://`).
   * @default - the site's chartMirror
   */
  readonly chartMirror?: string;
  /**
   * Whether this environment's chart mirror asks for credentials (see SiteProps.chartMirrorCredentials).
   * @default - the site's chartMirrorCredentials when the environment uses the site's mirror,
   * else false
   */
  readonly chartMirrorCredentials?: boolean;
  /**
   * Whether a private certificate authority signed this environment's chart mirror's
   * certificate (see SiteProps.chartMirrorCa).
   * @default - the site's chartMirrorCa when the environment uses the site's mirror, else false
   */
  readonly chartMirrorCa?: boolean;
  /**
   * How this environment's Kubernetes secrets are rendered.
   * @default - the site's secrets backend
   */
  readonly secrets?: SecretBackend;
  /**
   * How the cluster's applier syncs this environment.
   * @default SyncPolicy.automated()
   */
  readonly sync?: SyncPolicy;
}

/** Names an environment keeps for its own folders and children; instances cannot take them. */
const RESERVED_NAMES = new Set(['cluster', 'namespace', 'secrets']);

/** One environment of a site (dev, test, prod...): becomes one git repository. */
export class Environment extends Construct {
  /** The environment that `construct` belongs to. */
  public static of(construct: Construct): Environment {
    const env = construct.node.scopes.find((c): c is Environment => c instanceof Environment);
    if (!env) throw new Error(`${construct.node.path} is not inside an Environment`);
    return env;
  }

  public readonly name: string;
  public readonly zone: Zone;
  public readonly owners: readonly string[];
  public readonly members: readonly string[];
  public readonly registryMirror?: string;
  public readonly chartMirror?: string;
  public readonly chartMirrorCredentials: boolean;
  public readonly chartMirrorCa: boolean;
  public readonly secrets: SecretBackend;
  public readonly sync: SyncPolicy;

  constructor(scope: Construct, id: string, props: EnvironmentProps = {}) {
    assertDnsLabel(childPath(scope, id), 'environment name', id);
    super(scope, id);
    this.name = id;
    // Plain JavaScript (and a compiled fleet, which is not type-checked) can pass anything.
    if (props === null || typeof props !== 'object' || Array.isArray(props)) {
      throw errorAt(this.node.path, `props must be an object such as { zone: Zone.RUNTIME, owners: ['delivery'] }, got ${shownValue(props)}`);
    }
    this.zone = props.zone ?? Zone.RUNTIME;
    if (this.zone !== Zone.DEV && this.zone !== Zone.RUNTIME) throw errorAt(this.node.path, `zone must be Zone.DEV or Zone.RUNTIME, got ${JSON.stringify(this.zone)}`);
    this.owners = props.owners ?? [];
    assertGroupNames(this.node.path, 'owners', this.owners);
    this.members = props.members ?? [];
    assertGroupNames(this.node.path, 'members', this.members);
    const site = Site.of(this);
    this.registryMirror = checkRegistryMirror(this.node.path, props.registryMirror) ?? site.registryMirror;
    this.chartMirror = checkChartMirror(this.node.path, props.chartMirror) ?? site.chartMirror;
    // What the site says of its mirror holds for the environments that use it.
    const sitesMirror = props.chartMirror === undefined;
    this.chartMirrorCredentials = checkChartMirrorCredentials(this.node.path, props.chartMirrorCredentials ?? (sitesMirror && site.chartMirrorCredentials), this.chartMirror);
    this.chartMirrorCa = checkChartMirrorCa(this.node.path, props.chartMirrorCa ?? (sitesMirror && site.chartMirrorCa), this.chartMirror);
    this.secrets = props.secrets ?? site.secrets;
    assertSecretBackend(this.node.path, this.secrets);
    this.sync = props.sync ?? SyncPolicy.automated();
    if (!(this.sync instanceof SyncPolicy)) throw errorAt(this.node.path, `sync must be SyncPolicy.automated() or SyncPolicy.manual(), got ${shownValue(this.sync)}`);
    this.node.addValidation({ validate: () => this.dependencyCycles() });
    this.node.addValidation({ validate: () => this.hostNameProblems() });
    this.node.addValidation({ validate: () => this.ingressProblems() });
    this.node.addValidation({ validate: () => this.vaultCredentialProblems() });
    this.node.addValidation({ validate: () => secretNameProblems(this) });
    this.node.addValidation({ validate: () => ansibleNameProblems(this) });
  }

  /**
   * An instance on the cluster using one on VMs reads its credentials from a Secret with the
   * values of the VM instance's Ansible Vault: Sealed Secrets can carry them (siteforge seals
   * them); with External Secrets the cluster would make other values.
   */
  private vaultCredentialProblems(): string[] {
    if (this.secrets.kind !== 'external-secrets') return [];
    return this.instances.filter((d) => d.placement.kind === 'vm' && Object.keys(d.credentials).length > 0).flatMap((d) => this.clusterUsersOf(d)
      .map((i) => `${i.node.path}: uses ${d.name} on VMs, whose credentials are kept in its Ansible Vault, which External Secrets cannot give the cluster; use SecretBackend.sealedSecrets(...) for ${this.node.path} (the vault's values are then sealed into the Secret ${i.name} reads), or place ${d.name} on the cluster`));
  }

  /** The instances on the cluster that use `instance`. */
  public clusterUsersOf(instance: Instance): Instance[] {
    return this.instances.filter((i) => i.placement.kind === 'kubernetes' && i.dependencies.includes(instance));
  }

  /** Two exposed instances on one host and path: the ingress controller would route to one of them. */
  private ingressProblems(): string[] {
    const problems: string[] = [];
    // A host a chart serves besides its instance's, whatever path, is its own.
    const extra = new Map<string, Instance>();
    for (const instance of this.instances) for (const host of Object.values(instance.extraHosts)) extra.set(host, instance);
    for (const instance of this.instances.filter((i) => i.exposure.ingress)) {
      const owner = extra.get(instance.host!);
      if (owner && owner !== instance) problems.push(`${instance.node.path}: exposed on ${instance.host}, which ${owner.name}'s chart serves too (${owner.service.name}'s further hosts are <name>-<first label of its host>); give one another host`);
    }
    const routed = new Map<string, Instance>();
    const byHost = new Map<string, Instance>();
    for (const instance of this.instances.filter((i) => i.exposure.ingress)) {
      const route = `${instance.host}${instance.exposure.path ?? '/'}`;
      const other = routed.get(route);
      if (other) problems.push(`${instance.node.path}: exposed on ${route}, as ${other.name} is; give one another host or path`);
      else routed.set(route, instance);
      // The ingress controller serves a host with TLS once any of its Ingresses has it (and
      // redirects its plain HTTP there): the host's URLs cannot be http:// for one path.
      const first = byHost.get(instance.host!);
      if (!first) byHost.set(instance.host!, instance);
      else if (first.tls.enabled !== instance.tls.enabled) {
        const [withTls, without] = first.tls.enabled ? [first, instance] : [instance, first];
        problems.push(`${instance.node.path}: exposed on ${instance.host} as ${first.name} is, but ${withTls.name}'s Ingress has TLS and ${without.name}'s has none (plain HTTP); give both the same tls`);
      }
    }
    return problems;
  }

  /**
   * URL of this environment's repository: the site's `gitRemote` filled in, or
   * `https://git.<domain>/siteforge/<site>-<env>.git` when the site names none.
   */
  public get repoUrl(): string {
    const site = Site.of(this);
    const template = site.gitRemote ?? `https://git.${site.domain}/siteforge/{site}-{env}.git`;
    return template.replace(/\{site\}/g, site.name).replace(/\{env\}/g, this.name);
  }

  /** Gives the environment its Kubernetes cluster (one per environment). */
  public addCluster(props: KubernetesClusterProps = {}): KubernetesCluster {
    if (this.cluster) throw errorAt(this.node.path, 'already has a Kubernetes cluster; an environment has at most one');
    return new KubernetesCluster(this, 'cluster', props);
  }

  /** Adds a group of VM hosts. */
  public addHostGroup(name: string, props: HostGroupProps): HostGroup {
    this.assertFreeName(name, 'host group');
    return new HostGroup(this, name, props);
  }

  /** Installs a catalog service into this environment. */
  public addInstance(name: string, props: InstanceProps): Instance {
    this.assertFreeName(name, 'instance');
    // It names the instance's Service, whose name Kubernetes wants to start with a letter (RFC 1035).
    if (!/^[a-z]/.test(name)) {
      throw errorAt(childPath(this, name), `instance name must start with a letter (it names the instance's Kubernetes Service), got ${JSON.stringify(name)}`);
    }
    return new Instance(this, name, props);
  }

  /**
   * Installs every service of a group (e.g. the catalog's `observability`) in one line, bound
   * to each other as the group says; returns the instances by service name.
   */
  public addServiceGroup(group: ServiceGroupDefinition, options: ServiceGroupOptions = {}): Record<string, Instance> {
    return addServiceGroup(this, group, options);
  }

  public get cluster(): KubernetesCluster | undefined {
    return this.node.tryFindChild('cluster') as KubernetesCluster | undefined;
  }

  public get hostGroups(): HostGroup[] {
    return this.node.children.filter((c): c is HostGroup => c instanceof HostGroup);
  }

  public get instances(): Instance[] {
    return this.node.children.filter((c): c is Instance => c instanceof Instance);
  }

  /**
   * Instances ordered so that every instance comes after the instances it uses; ties are
   * broken by name, so the order is stable.
   */
  public instancesInDependencyOrder(): Instance[] {
    const ordered: Instance[] = [];
    const placed = new Set<Instance>();
    let pending = [...this.instances].sort(byName);
    while (pending.length > 0) {
      const ready = pending.filter((i) => i.dependencies.every((d) => placed.has(d)));
      if (ready.length === 0) throw errorAt(this.node.path, `dependency cycle: ${this.findCycle().join(' -> ')}`);
      for (const i of ready) placed.add(i);
      ordered.push(...ready);
      pending = pending.filter((i) => !placed.has(i));
    }
    return ordered;
  }

  /**
   * The dependency depth of every instance: 0 for one that uses nothing, else one more than the
   * deepest instance it uses. Becomes sync waves and play order.
   */
  public dependencyDepths(): Map<Instance, number> {
    const depth = new Map<Instance, number>();
    for (const i of this.instancesInDependencyOrder()) {
      depth.set(i, Math.max(-1, ...i.dependencies.map((d) => depth.get(d)!)) + 1);
    }
    return depth;
  }

  private assertFreeName(name: string, what: string): void {
    assertDnsLabel(childPath(this, name), `${what} name`, name);
    if (RESERVED_NAMES.has(name)) {
      throw errorAt(`${this.node.path}/${name}`, `${what} name ${JSON.stringify(name)} is reserved; choose another name`);
    }
    if (this.node.tryFindChild(name)) {
      throw errorAt(`${this.node.path}/${name}`, `${this.node.path} already has an instance or host group named ${JSON.stringify(name)}; give each its own name`);
    }
  }

  /**
   * Host names are unique across the environment's host groups (they are Ansible inventory
   * names), and no host is named like an instance or host group (those are Ansible groups).
   */
  private hostNameProblems(): string[] {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    const groups = new Set([...this.instances.map((i) => i.name), ...this.hostGroups.map((g) => g.name)]);
    for (const group of this.hostGroups) {
      for (const host of group.hosts) {
        const path = `${group.node.path}/${host.name}`;
        const first = seen.get(host.name);
        if (first !== undefined && first !== group.node.path) {
          problems.push(`${path}: host ${JSON.stringify(host.name)} is also in ${first}; host names are unique in the environment`);
        }
        if (!seen.has(host.name)) seen.set(host.name, group.node.path);
        if (groups.has(host.name)) {
          problems.push(`${path}: host ${JSON.stringify(host.name)} has the name of an instance or host group of ${this.node.path}; Ansible would mix up the host and the group: rename the host`);
        }
      }
    }
    return problems;
  }

  private dependencyCycles(): string[] {
    const cycle = this.findCycle();
    return cycle.length > 0 ? [`${this.node.path}: dependency cycle: ${cycle.join(' -> ')}; remove one of these uses()`] : [];
  }

  /** One cycle of the `uses` graph as instance names, first name repeated at the end, or []. */
  private findCycle(): string[] {
    const state = new Map<Instance, 'visiting' | 'done'>();
    const stack: Instance[] = [];
    const visit = (i: Instance): string[] => {
      if (state.get(i) === 'done') return [];
      if (state.get(i) === 'visiting') {
        return [...stack.slice(stack.indexOf(i)), i].map((x) => x.name);
      }
      state.set(i, 'visiting');
      stack.push(i);
      for (const d of i.dependencies) {
        const cycle = visit(d);
        if (cycle.length > 0) return cycle;
      }
      stack.pop();
      state.set(i, 'done');
      return [];
    };
    for (const i of [...this.instances].sort(byName)) {
      const cycle = visit(i);
      if (cycle.length > 0) return cycle;
    }
    return [];
  }
}
