import { Construct } from 'constructs';
import { errorAt, shownValue } from './errors';
import { assertDnsLabel, assertDnsSubdomain, assertGroupNames, childPath } from './names';
import { Environment, EnvironmentProps } from './environment';
import { SecretBackend, assertSecretBackend } from './secret-backend';
import { ArgoCdTopology } from './argocd-topology';
import { applierNameClashes, fluxNameLengthProblems } from './applier-objects';

/** `mirror` without a trailing slash, after checking it is `host[:port][/path]`. */
export function checkRegistryMirror(path: string, mirror: string | undefined): string | undefined {
  if (mirror !== undefined && !/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*\/?$/.test(mirror)) {
    throw errorAt(path, `registryMirror must be host[:port][/path], got ${JSON.stringify(mirror)}`);
  }
  return mirror?.replace(/\/$/, '');
}

/** `mirror` without a trailing slash, after checking it is an http(s) or oci URL. */
export function checkChartMirror(path: string, mirror: string | undefined): string | undefined {
  // OCI repository names are lower case, without ~ (the distribution spec's name grammar).
  if (mirror !== undefined && !/^(https?:\/\/[a-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~-]+)*|oci:\/\/[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*)\/?$/.test(mirror)) {
    throw errorAt(path, `chartMirror must be an https://, http:// or oci:// URL (an oci:// path in lower case: OCI repository names have no upper-case letters or ~), got ${JSON.stringify(mirror)}`);
  }
  return mirror?.replace(/\/$/, '');
}

/**
 * `credentials` when it is a boolean, and false or there is a mirror to give them to that is
 * not read over plain http (they would cross the network in the clear, as siteforge never lets
 * a git repository's).
 */
export function checkChartMirrorCredentials(path: string, credentials: boolean, mirror: string | undefined): boolean {
  return checkChartMirrorFlag(path, 'chartMirrorCredentials', credentials, mirror, `would cross the network in the clear to ${mirror}; serve the mirror over https:// (or oci://)`);
}

/** `ca` when it is a boolean, and false or there is a mirror served over TLS for it to sign. */
export function checkChartMirrorCa(path: string, ca: boolean, mirror: string | undefined): boolean {
  return checkChartMirrorFlag(path, 'chartMirrorCa', ca, mirror, `is for a mirror served over TLS, and ${mirror} is not: serve it over https:// (or oci://)`);
}

/** `value` of the chart mirror's property `name` when it is a boolean, and false or there is a mirror, not an http:// one (`overHttp` says why). */
function checkChartMirrorFlag(path: string, name: string, value: boolean, mirror: string | undefined, overHttp: string): boolean {
  if (typeof value !== 'boolean') throw errorAt(path, `${name} must be true or false, got ${shownValue(value)}`);
  if (value && mirror === undefined) throw errorAt(path, `${name} is for a chart mirror, and there is none: give chartMirror too, or leave ${name} out`);
  if (value && mirror?.startsWith('http://')) throw errorAt(path, `${name} ${overHttp}, or leave ${name} out`);
  return value;
}

export interface SiteProps {
  /** Base domain of the site; instances exposed by Ingress get `<instance>.<domain>`. */
  readonly domain: string;
  /**
   * Registry that mirrors every image for an air-gapped site, as `host[:port][/path]`.
   * Images are rewritten to `<mirror>/<repository path>:<tag>`.
   * @default - images are pulled from their own registries
   */
  readonly registryMirror?: string;
  /**
   * Chart repository (`https://`, `http://` or `oci://`, whose path is lower case) that mirrors
   * every chart for an air-gapped site.
   * @default - charts come from their own repositories
   */
  readonly chartMirror?: string;
  /**
   * Whether the chart mirror asks for credentials (a private Harbor project, say). Flux's
   * HelmRepository then names the Secret `<site>-<env>-chart-mirror` in `flux-system`
   * (`username` and `password`), which its administrators create, and the environment README
   * says so; for Argo CD it says to add the mirror with its credentials. Refused for an
   * `http://` mirror, where they would cross the network in the clear.
   * @default false - the mirror is read without credentials
   */
  readonly chartMirrorCredentials?: boolean;
  /**
   * Whether a certificate authority of the customer's own signed the chart mirror's
   * certificate, which Flux and Argo CD do not trust unless told to. Flux's HelmRepository then
   * names the Secret `<site>-<env>-chart-mirror-ca` in `flux-system` (`ca.crt`), which its
   * administrators create, and the environment README says so; for Argo CD it says to add the
   * authority's certificate for the mirror's host. Refused for an `http://` mirror.
   * @default false - the mirror's certificate is one the clusters trust
   */
  readonly chartMirrorCa?: boolean;
  /**
   * Groups that own the whole site (项目所有者): they may change every environment.
   * @default []
   */
  readonly owners?: readonly string[];
  /**
   * URL template of the environment repositories, with `{site}` and `{env}` filled in, e.g.
   * `git@git.acme.internal:delivery/{site}-{env}.git`. `siteforge publish` pushes there, and
   * Argo CD or Flux read from there (Flux as `ssh://git@git.acme.internal/delivery/...`; it
   * cannot read `git://` or `file://`, so an environment applied by Flux is refused with those;
   * Argo CD reads an `ssh://` URL with a key only when it names the user, so an environment
   * applied by Argo CD is refused with `ssh://host/path`).
   * @default - none: publish writes local bare repositories under `dist/.remotes/`, and
   * applier objects read from `https://git.<domain>/siteforge/{site}-{env}.git`
   */
  readonly gitRemote?: string;
  /**
   * Whether anyone may read the environment repositories over https. Flux reads a private
   * one with the credentials of the Secret `<site>-<env>-git-https` in `flux-system`
   * (`username` and `password`, or `bearerToken`), which the GitRepository names and its
   * administrators create; a public one it reads without. Argo CD's administrators add a
   * private one's credentials (the environment README says how). Repositories reached over
   * ssh always take a key (for Flux, that of `<site>-<env>-git-ssh`), and over plain http none
   * (credentials would cross the network in the clear).
   * @default false - environment repositories are private: an https:// one is read with
   * credentials
   */
  readonly gitRemotePublic?: boolean;
  /**
   * How the site's Kubernetes secrets are rendered (environments may override it).
   * @default SecretBackend.externalSecrets() - ExternalSecrets reading the ClusterSecretStore
   * named `siteforge`
   */
  readonly secrets?: SecretBackend;
  /**
   * Which Argo CD applies the site's Argo CD environments: one per cluster, or one in the dev
   * zone that reaches the other clusters by their API server URLs.
   * @default ArgoCdTopology.perCluster()
   */
  readonly argoCd?: ArgoCdTopology;
}

/** One customer installation (交付现场): a set of environments, one repository each. */
export class Site extends Construct {
  /** The site that `construct` belongs to. */
  public static of(construct: Construct): Site {
    const site = construct.node.scopes.find((c): c is Site => c instanceof Site);
    if (!site) throw new Error(`${construct.node.path} is not inside a Site`);
    return site;
  }

  public readonly name: string;
  public readonly domain: string;
  public readonly registryMirror?: string;
  public readonly chartMirror?: string;
  public readonly chartMirrorCredentials: boolean;
  public readonly chartMirrorCa: boolean;
  public readonly owners: readonly string[];
  public readonly gitRemote?: string;
  public readonly gitRemotePublic: boolean;
  public readonly secrets: SecretBackend;
  public readonly argoCd: ArgoCdTopology;

  constructor(scope: Construct, id: string, props: SiteProps) {
    assertDnsLabel(childPath(scope, id), 'site name', id);
    super(scope, id);
    if (props === null || typeof props !== 'object') {
      throw errorAt(this.node.path, `props must be an object such as { domain: 'acme.example.com' }, got ${shownValue(props)}`);
    }
    assertDnsSubdomain(this.node.path, 'domain', props.domain);
    this.name = id;
    this.domain = props.domain;
    this.registryMirror = checkRegistryMirror(this.node.path, props.registryMirror);
    this.chartMirror = checkChartMirror(this.node.path, props.chartMirror);
    this.chartMirrorCredentials = checkChartMirrorCredentials(this.node.path, props.chartMirrorCredentials ?? false, this.chartMirror);
    this.chartMirrorCa = checkChartMirrorCa(this.node.path, props.chartMirrorCa ?? false, this.chartMirror);
    this.owners = props.owners ?? [];
    assertGroupNames(this.node.path, 'owners', this.owners);
    this.gitRemote = props.gitRemote;
    this.gitRemotePublic = props.gitRemotePublic ?? false;
    if (typeof this.gitRemotePublic !== 'boolean') throw errorAt(this.node.path, `gitRemotePublic must be true or false, got ${JSON.stringify(props.gitRemotePublic)}`);
    this.secrets = props.secrets ?? SecretBackend.externalSecrets();
    assertSecretBackend(this.node.path, this.secrets);
    this.argoCd = props.argoCd ?? ArgoCdTopology.perCluster();
    if (!(this.argoCd instanceof ArgoCdTopology)) {
      throw errorAt(this.node.path, `argoCd must be ArgoCdTopology.perCluster() or ArgoCdTopology.devZone(), got ${shownValue(this.argoCd)}`);
    }
    this.node.addValidation({ validate: () => this.argoCdProblems() });
    // Environments may share one Argo CD or Flux (siteforge cannot tell their clusters apart).
    this.node.addValidation({ validate: () => applierNameClashes(this) });
    this.node.addValidation({ validate: () => this.environments.flatMap((env) => fluxNameLengthProblems(env)) });
    if (this.gitRemote !== undefined && !isGitRemoteTemplate(this.gitRemote)) {
      // A password in it (which is refused) is not shown.
      const shown = String(this.gitRemote).replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
      throw errorAt(this.node.path, `gitRemote must be an https://, http://, ssh://, git://, file:// or user@host:path URL (with {site} and {env} placeholders; no password in it), got ${JSON.stringify(shown)}`);
    }
  }

  /** Adds an environment, which becomes one repository `<site>/<name>`. */
  public addEnvironment(name: string, props: EnvironmentProps = {}): Environment {
    if (typeof name === 'string' && this.node.tryFindChild(name)) {
      throw errorAt(childPath(this, name), `${this.node.path} already has an environment named ${JSON.stringify(name)}; give each environment its own name`);
    }
    return new Environment(this, name, props);
  }

  public get environments(): Environment[] {
    return this.node.children.filter((c): c is Environment => c instanceof Environment);
  }

  /** A dev-zone Argo CD must reach every runtime cluster it applies by URL. */
  private argoCdProblems(): string[] {
    if (this.argoCd.name !== 'dev-zone') return [];
    return this.environments
      .filter((e) => e.zone.name !== 'dev' && e.cluster?.applier.name === 'argocd' && e.cluster.apiServer === 'https://kubernetes.default.svc')
      .map((e) => `${e.cluster!.node.path}: the site's Argo CD runs in the dev zone and reaches this cluster by URL, but apiServer is the in-cluster default; set apiServer to the cluster's API server URL`);
  }
}

/**
 * A git URL siteforge can hand to git safely: https, ssh, git:// or scp-like `user@host:path`,
 * never starting with `-` (an option) and never `ext::` or other transport helpers.
 */
function isGitRemoteTemplate(url: string): boolean {
  // No part may start with "-" (git or ssh would read it as an option), no password in the URL.
  const user = '[A-Za-z0-9_{][A-Za-z0-9._~%+{}-]*';
  const host = '[A-Za-z0-9{][A-Za-z0-9.{}-]*';
  const path = '[A-Za-z0-9._~%{}+][A-Za-z0-9._~%{}/+-]*';
  const url_ = new RegExp(`^(https?|ssh|git)://(${user}@)?${host}(:[0-9]+)?(/${path})*/?$`);
  const file = new RegExp(`^file://(/${path})+/?$`);
  const scp = new RegExp(`^${user}@${host}:${path}$`);
  return url_.test(url) || file.test(url) || scp.test(url);
}
