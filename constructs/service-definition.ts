/**
 * What a catalog service must provide for the model to install and render it. The catalog
 * loader (`catalog/index.ts`) builds these from `service.yml` files; the constructs only use
 * this shape and never know a particular service by name.
 */
import type { INPUT_IDENTITY } from './input-text';

/** Rendered text from a compiled template; a missing variable is an error naming the template. */
export type Template = (context: object) => string;

export type PlacementKind = 'kubernetes' | 'vm';

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

export interface ServiceImage {
  /** The name templates and workloads refer to the image by. */
  readonly name: string;
  /** Registry and path, e.g. `docker.io/bitnami/mysql`. */
  readonly repository: string;
  readonly tag: string;
  /** `sha256:<64 hex>` where the catalog pins one. */
  readonly digest?: string;
}

export interface ServiceProfile {
  readonly name: string;
  readonly description: string;
  /** Fewest nodes the profile runs with. */
  readonly minNodes: number;
  /** Most nodes the profile runs with; undefined means no upper bound. */
  readonly maxNodes?: number;
  /** Nodes when the instance does not say. */
  readonly defaultNodes: number;
  /** Node counts the profile refuses, e.g. 2 for a quorum-based cluster. */
  readonly forbiddenNodes: readonly number[];
}

export interface HelmChart {
  /** `https://...` chart repository or `oci://...` registry. */
  readonly repository: string;
  readonly name: string;
  readonly version: string;
  readonly digest?: string;
}

export interface WorkloadProbe {
  /** HTTP path; a TCP check when undefined. */
  readonly path?: string;
  /** Name of one of the service's ports. */
  readonly port: string;
  readonly initialDelaySeconds: number;
}

export interface ConfigFile {
  /** File name inside `mountPath`. */
  readonly name: string;
  /** Directory the file is mounted in. */
  readonly mountPath: string;
  readonly template: Template;
}

export interface ResourceQuantities {
  readonly request?: string;
  readonly limit?: string;
}

export interface WorkloadResources {
  readonly cpu?: ResourceQuantities;
  readonly memory?: ResourceQuantities;
}

/** How a service is installed from a Helm chart. */
export interface HelmService {
  readonly chart: HelmChart;
  /** The template of the chart's values. */
  readonly values: Template;
  /**
   * Name of the chart's Service that clients reach the instance at, on the service's first
   * port, from a context holding `instance.name` alone: bindings (`<service>.<namespace>.svc`),
   * `instance.url` and the Ingress siteforge writes (`siteforgeIngress`) use it. Bitnami's
   * Redis chart names its master's Service `<instance>-master`, and none after the instance.
   * @default - the instance's name
   */
  readonly clientService?: Template;
  /**
   * Paths in the chart's values (keys joined by dots, such as `primary.podAnnotations`) of the
   * maps the chart adds to its pods' annotations: siteforge sets `checksum/secrets` in each
   * (see `secretsChecksum`), as a chart given its credentials Secret by name
   * (`existingSecret`) does not notice the Secret change.
   */
  readonly podAnnotations: readonly string[];
  /**
   * Names of further hosts the chart's Ingresses serve for an exposed instance, besides its
   * host (GitLab's bundled MinIO and agent server): see `Instance.extraHosts`.
   */
  readonly extraHosts: readonly string[];
  /** Whether the values set up an Ingress for an exposed instance (they read `instance.host`). */
  readonly ingress: boolean;
  /**
   * The Ingress siteforge writes for an exposed instance instead of the chart (its values then
   * set up none): charts of before Kubernetes 1.19 write theirs as `extensions/v1beta1` or
   * `networking.k8s.io/v1beta1`, which Kubernetes no longer serves since 1.22. It routes the
   * instance's host (at the root: the instance takes no exposure path) to the Service clients
   * reach (`clientService`), on the service's first port, and serves the instance's TLS.
   * @default - the chart's own, if its values set one up
   */
  readonly siteforgeIngress?: { readonly annotations: Readonly<Record<string, string>> };
  /**
   * The PodDisruptionBudget siteforge writes for a clustered instance instead of the chart (its
   * values then set up none): charts of before Kubernetes 1.21 write theirs as
   * `policy/v1beta1`, which Kubernetes no longer serves since 1.25.
   * @default - the chart's own, if its values set one up
   */
  readonly siteforgePodDisruptionBudget?: HelmPodDisruptionBudget;
  /**
   * Objects the chart writes in an API Kubernetes no longer serves, which siteforge does not
   * write for it: its sync fails on a cluster of that version or later.
   */
  readonly removedApis: readonly RemovedApi[];
  /**
   * Images the chart pulls that the entry cannot rewrite to a registry mirror (registry host
   * and path): pods that need them start only where those registries are reachable.
   */
  readonly imagesNotMirrored: readonly string[];
  /**
   * Whether the values give an exposed instance's Ingress its TLS Secret and say https or
   * http as it has TLS or not (they read `instance.tls`).
   */
  readonly tls: boolean;
  /** Whether the values size the workload (they read `instance.resources`). */
  readonly resources: boolean;
}

/** An object kind a chart writes in an API that Kubernetes no longer serves from `removedIn` on. */
export interface RemovedApi {
  readonly kind: string;
  readonly apiVersion: string;
  /** The first Kubernetes version without it, such as `1.25`. */
  readonly removedIn: string;
}

/** A PodDisruptionBudget siteforge writes beside a chart (see HelmService.siteforgePodDisruptionBudget). */
export interface HelmPodDisruptionBudget {
  /** Labels of the instance's pods, as the chart sets them; templates over the instance's context. */
  readonly selector: Readonly<Record<string, Template>>;
  /**
   * How many pods a voluntary disruption may take down at once.
   * @default - none: minAvailable is given
   */
  readonly maxUnavailable?: number;
  /**
   * Keep a majority of the nodes (`instance.quorum`) running.
   * @default - none: maxUnavailable is given
   */
  readonly minAvailable?: 'quorum';
}

/** A workload rendered natively with cdk8s-plus (the vendor's own services). */
export interface NativeWorkload {
  readonly kind: 'Deployment' | 'StatefulSet';
  /** Name of one of the service's images. */
  readonly image: string;
  readonly command?: readonly string[];
  /** Arguments; each is a template over the instance's context. */
  readonly args?: readonly Template[];
  /** Environment variables; values are templates. */
  readonly env: Readonly<Record<string, Template>>;
  readonly readiness?: WorkloadProbe;
  readonly liveness?: WorkloadProbe;
  readonly configFiles: readonly ConfigFile[];
  /** Persistent storage; a StatefulSet gets a volume claim template for it. */
  readonly storage?: { readonly mountPath: string; readonly size: string };
  readonly resources: WorkloadResources;
  /** Name of the port an Ingress routes to. */
  readonly httpPort?: string;
  /** Directories the container writes to (the root file system is read-only). */
  readonly writablePaths: readonly string[];
}

/** How a bound instance reaches this service. */
export interface ServiceConnection {
  /** Environment variables injected into the user; templates over the binding context. */
  readonly env: Readonly<Record<string, Template>>;
  /** Credentials, injected only as references to a Kubernetes Secret. */
  readonly credentials?: {
    /** Template of the Secret's name. */
    readonly secretName: Template;
    /** Environment variable name → key in the Secret. */
    readonly env: Readonly<Record<string, string>>;
    /** Every key the Secret holds (the chart may need more than the bindings read). */
    readonly keys?: readonly string[];
  };
}

/** Metrics a service exposes for Prometheus, and its Grafana dashboard (the service's `monitor/` folder). */
export interface ServiceMonitoring {
  /** Name of the port that serves metrics. */
  readonly port: string;
  /** HTTP path of the metrics. */
  readonly path: string;
  /** Scrape interval, e.g. `30s`. */
  readonly interval: string;
  /** Grafana dashboard JSON (`monitor/dashboard.json`), shipped as a ConfigMap; none when undefined. */
  readonly dashboard?: string;
}

/** One problem with an instance's settings, at a JSON path such as `/auth/database`. */
export interface SettingsProblem {
  readonly path: string;
  readonly message: string;
}

export interface ServiceDefinition {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly category: string;
  readonly upgradable: boolean;
  readonly ports: readonly ServicePort[];
  /** Names of the services this one needs. */
  readonly dependencies: readonly string[];
  readonly profiles: Readonly<Record<string, ServiceProfile>>;
  readonly defaultProfile: string;
  readonly placements: readonly PlacementKind[];
  readonly images: readonly ServiceImage[];
  /** Metrics and dashboard; the service is not monitored when undefined. */
  readonly monitoring?: ServiceMonitoring;
  /**
   * The definition of dependency `name` (one of `dependencies`), for instances that pull in
   * their missing dependencies (`withDependencies`); undefined when the catalog cannot provide it.
   */
  resolveDependency?(name: string): ServiceDefinition | undefined;
  /** Chart-based services: the chart and the template of its values. */
  readonly helm?: HelmService;
  /** Natively rendered services. */
  readonly workload?: NativeWorkload;
  readonly connection?: ServiceConnection;
  /** Hash of everything the service's catalog folder holds; changes when any of its files does. */
  readonly fingerprint: string;
  /**
   * How input hashes name this definition instead of reading it (see `inputText`).
   * @default - read field by field; a definition holding functions (templates) then makes its
   * environments render on every synth
   */
  readonly [INPUT_IDENTITY]?: string;
  /** VM-placed services: how Ansible installs them. */
  readonly vm?: VmDefinition;
  /** Checks settings against the service's schema and fills in its defaults. */
  resolveSettings(settings: unknown): { readonly settings: Record<string, unknown>; readonly problems: readonly SettingsProblem[] };
}

/** One Ansible task as the catalog writes it (a mapping such as `{ name, ansible.builtin.file }`). */
export type AnsibleTask = Readonly<Record<string, unknown>>;

/** A config file of a service on VMs, rendered at synth time and written by Ansible's template module. */
export interface VmConfigFile {
  /** Absolute path on the host (prefixed with the role's root at run time). */
  readonly path: string;
  /** File mode, as an octal string such as `0644`. */
  readonly mode: string;
  /** Owner and group of the file, once the install step created that user. */
  readonly owner?: string;
  /**
   * The handlebars template. Its output is a Jinja template: Jinja expressions are written
   * `\{{ var }}` in the `.hbs` file, and every value handlebars inserts is escaped for Jinja.
   */
  readonly template: Template;
}

/** A Debian package of a service on VMs, installed at the service's version. */
export interface VmPackage {
  /** Debian package name, such as `redis-server`. */
  readonly name: string;
  /**
   * Epoch of the package's Debian version (`5` in `5:5.0.9-1`): apt compares the whole version,
   * epoch included, so `redis-server=5.0.9-*` does not match `5:5.0.9-1`.
   * @default - the version has no epoch
   */
  readonly epoch?: number;
  /**
   * Whether the package's Debian versions carry a Debian revision after the upstream version
   * (`5.0.9-1`, `5:5.0.9-1+deb10u1`), as Debian's own packages and most vendor repositories'
   * do; false for repositories that publish the upstream version alone (Elastic's `7.8.1`).
   * apt then installs `name=[epoch:]version-*`, or `name=[epoch:]version` without a revision
   * (see `aptVersionPattern`).
   * @default true
   */
  readonly revision?: boolean;
}

/** How a service is installed on VM hosts by Ansible. */
export interface VmDefinition {
  /** Host roles the service may run on; a host qualifies when it carries one of them. */
  readonly hostRoles: readonly string[];
  /** The ports the service binds on each host. */
  readonly ports: readonly ServicePort[];
  /** systemd unit started and enabled after install and upgrade, if any. */
  readonly unit?: string;
  /**
   * The hosts clients reach: `all` (any host serves them), or `primary`, the first host, where
   * the others replicate from it and serve no writes. The EndpointSlice that lets pods reach a
   * VM instance lists these hosts.
   */
  readonly clientHosts: 'all' | 'primary';
  /** Tasks of the `install` tag. */
  readonly install: readonly AnsibleTask[];
  /** Tasks of the `upgrade` tag (run only with `--tags upgrade`). */
  readonly upgrade: readonly AnsibleTask[];
  /**
   * Upgrades one host at a time, when set: with `--tags upgrade` the instance's play runs with
   * `serial: 1`, and on each host, after its restart, the `waitFor` tasks wait until the service
   * is healthy before the next host starts. Install runs stay on every host at once.
   * @default - every host of the instance is upgraded at once, task by task
   */
  readonly rollingUpgrade?: { readonly waitFor: readonly AnsibleTask[] };
  readonly configFiles: readonly VmConfigFile[];
  /**
   * Debian packages the service installs, at its version: the role gets them as
   * `siteforge_packages` (apt's `name=[epoch:]version-*`, see `aptPackageSpec`), which its install
   * and upgrade tasks install, and `artifacts.lock.json` lists them.
   */
  readonly packages: readonly VmPackage[];
  /**
   * Keys of the credentials the role needs (such as `mysql-password`); each becomes the Ansible
   * Vault variable `<instance>_<key>` (see `constructs/ansible/variables.ts`).
   */
  readonly secrets: readonly string[];
}
