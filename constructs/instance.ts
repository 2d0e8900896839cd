import { Construct } from 'constructs';
import { errorAt } from './errors';
import { assertDnsSubdomain } from './names';
import { Placement } from './placement';
import { Exposure } from './exposure';
import { Site } from './site';
import { Environment } from './environment';
import type { Host } from './host-group';
import type { ServiceDefinition, ServiceProfile, WorkloadResources } from './service-definition';

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
   * Whether to pull in the service's missing dependencies: each dependency is bound to the
   * environment's instance of that service, or, when there is none, to a new instance named
   * after the service (`<instance>-<service>` when that name is taken) with its defaults, on
   * the same placement when the dependency supports it.
   * @default false - a missing dependency is an error naming both services
   */
  readonly withDependencies?: boolean;
  /**
   * Whether to render monitoring for a service that declares metrics: a ServiceMonitor
   * (Prometheus operator) and its Grafana dashboard as a ConfigMap.
   * @default true
   */
  readonly monitoring?: boolean;
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

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
  public readonly withDependencies: boolean;
  /** Whether the instance renders its service's monitoring (false when the service declares none). */
  public readonly monitored: boolean;
  private readonly used: Instance[] = [];

  constructor(scope: Environment, id: string, props: InstanceProps) {
    super(scope, id);
    const path = this.node.path;
    this.name = id;
    this.service = props.service;

    const profileName = props.profile ?? props.service.defaultProfile;
    const profile = props.service.profiles[profileName];
    if (!profile) {
      throw errorAt(path, `${props.service.name} has no profile ${JSON.stringify(profileName)}; profiles are ${Object.keys(props.service.profiles).join(', ')}`);
    }
    this.profile = profile;
    this.nodes = props.nodes ?? profile.defaultNodes;
    if (!Number.isInteger(this.nodes) || this.nodes < profile.minNodes || (profile.maxNodes !== undefined && this.nodes > profile.maxNodes) || profile.forbiddenNodes.includes(this.nodes)) {
      throw errorAt(path, `nodes must be ${describeNodes(profile)} for profile ${profile.name}, got ${props.nodes}`);
    }

    const { settings, problems } = props.service.resolveSettings(props.settings ?? {});
    if (problems.length > 0) {
      throw errorAt(path, problems.map((p) => `settings${p.path} ${p.message}`).join('; '));
    }
    this.settings = settings;

    this.placement = props.placement ?? Placement.kubernetes();
    if (!props.service.placements.includes(this.placement.kind)) {
      throw errorAt(path, `${props.service.name} cannot be placed on ${this.placement.kind}; it supports ${props.service.placements.join(', ')}`);
    }
    this.resources = { ...props.service.workload?.resources, ...props.resources };
    for (const [resource, quantities] of Object.entries(this.resources)) {
      for (const [bound, quantity] of Object.entries(quantities ?? {})) {
        if (typeof quantity !== 'string' || !QUANTITY.test(quantity)) {
          throw errorAt(path, `resources.${resource}.${bound} must be a Kubernetes quantity such as 500m or 2Gi, got ${JSON.stringify(quantity)}`);
        }
      }
    }
    this.exposure = props.exposure ?? Exposure.none();
    if (this.exposure.ingress) {
      if (this.placement.kind !== 'kubernetes') throw errorAt(path, 'an Ingress exposure needs placement on Kubernetes');
      assertDnsSubdomain(path, 'exposure host', this.host);
    }

    this.monitored = (props.monitoring ?? true) && props.service.monitoring !== undefined;
    this.withDependencies = props.withDependencies ?? false;
    if (this.withDependencies) this.pullInDependencies(scope);

    this.node.addValidation({ validate: () => this.problems() });
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

  /** Host name of the Ingress, when exposed. */
  public get host(): string | undefined {
    if (!this.exposure.ingress) return undefined;
    return this.exposure.host ?? `${this.name}.${Site.of(this).domain}`;
  }

  /** VM hosts that run this instance (empty on Kubernetes). */
  public get hosts(): Host[] {
    const { group, role } = this.placement;
    return group ? group.hostsWithRole(role).slice(0, this.nodes) : [];
  }

  private problems(): string[] {
    const path = this.node.path;
    const env = Environment.of(this);
    const problems: string[] = [];
    for (const dependency of this.service.dependencies) {
      if (!this.used.some((d) => d.service.name === dependency)) {
        problems.push(`${path}: ${this.service.name} depends on ${dependency}, but ${this.name} uses no ${dependency} instance; add one to ${env.node.path} and call ${this.name}.uses(it), or set withDependencies: true`);
      }
    }
    if (this.placement.kind === 'kubernetes' && !env.cluster) {
      problems.push(`${path}: placed on Kubernetes, but ${env.node.path} has no cluster; call addCluster() on it or place the instance on VMs`);
    }
    const { group, role } = this.placement;
    if (group) {
      if (Environment.of(group) !== env) {
        problems.push(`${path}: host group ${group.node.path} belongs to another environment`);
      }
      const qualified = group.hostsWithRole(role);
      if (qualified.length < this.nodes) {
        const which = role ? `hosts with role ${role} in ${group.node.path}` : `hosts in ${group.node.path}`;
        const names = qualified.length > 0 ? qualified.map((h) => h.name).join(', ') : 'none';
        problems.push(`${path}: needs ${this.nodes} distinct ${which}, found ${qualified.length} (${names}); add hosts or lower nodes`);
      }
    }
    return problems;
  }
}

function describeNodes(profile: ServiceProfile): string {
  const range = profile.maxNodes === undefined
    ? `at least ${profile.minNodes}`
    : profile.minNodes === profile.maxNodes ? `${profile.minNodes}` : `from ${profile.minNodes} to ${profile.maxNodes}`;
  return profile.forbiddenNodes.length > 0 ? `${range}, not ${profile.forbiddenNodes.join(' or ')}` : range;
}
