import { Environment } from '../environment';
import { Site } from '../site';
import { errorAt } from '../errors';
import type { Instance } from '../instance';
import { yamlFile, type RenderedFile } from '../rendered-file';
import { ENVIRONMENT_BRANCH, appliedInstances, chartSourceOf, clusterInstances, qualifiedName } from '../applier-helpers';
import { fluxGitUrl } from './git-url';

/** Namespace of Flux's controllers, where the environment's Flux objects live. */
export const FLUX_NAMESPACE = 'flux-system';
const IN_CLUSTER = 'https://kubernetes.default.svc';
const KUSTOMIZE = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' };
/** Suffix of the Kustomization that applies a chart-based instance's own objects on a remote cluster. */
export const MANIFESTS_SUFFIX = '-manifests';

/**
 * Where a Kustomization applies its objects: Flux's objects (Kustomizations, HelmReleases and
 * the values ConfigMaps those read from their own namespace) stay on the cluster Flux runs in;
 * everything else goes to the environment's cluster, through the kubeconfig when it is remote.
 */
type Destination = 'flux' | 'cluster';

/**
 * `apps/` for Flux: a GitRepository for the environment repository, one Kustomization per
 * instance with `dependsOn` from the dependency graph (native instances apply
 * `manifests/<instance>`; chart-based ones apply `apps/releases/<instance>/`, a HelmRelease
 * whose values come from the ConfigMap that `values/kustomization.yaml` generates from
 * `values/<instance>.yaml`), a HelmRepository per chart repository (or the mirror), and the
 * root Kustomization that applies `apps/` itself.
 *
 * A remote cluster (apiServer not in-cluster) gets kubeConfig on the Kustomizations of its own
 * objects only; HelmReleases install remotely through their own kubeConfig, and the objects
 * siteforge adds beside a chart get a Kustomization `<instance>-manifests` of their own.
 *
 * Every folder builds with plain `kustomize build` (no file outside its folder is loaded).
 */
export function renderFluxApps(env: Environment, folders: ReadonlySet<string>): RenderedFile[] {
  const cluster = env.cluster;
  if (!cluster || cluster.applier.name !== 'flux') return [];
  const instances = appliedInstances(env, folders);
  const charts = clusterInstances(env).filter((i) => i.service.helm);
  for (const reserved of ['namespace', 'values']) {
    const clash = instances.find((i) => i.name === reserved);
    if (clash) throw errorAt(clash.node.path, `instance name ${JSON.stringify(reserved)} is taken by Flux's own Kustomization of ${env.node.path}; rename the instance`);
  }
  // Chart-based instances whose added objects (a Grafana dashboard, say) need a Kustomization
  // of their own: on a remote cluster they cannot come along with the HelmRelease, which
  // stays on Flux's cluster.
  const apart = fluxKubeconfigSecret(env) ? charts.filter((i) => folders.has(i.name)) : [];
  for (const chart of apart) {
    const name = `${chart.name}${MANIFESTS_SUFFIX}`;
    const clash = instances.find((i) => i.name === name);
    if (clash) throw errorAt(clash.node.path, `instance name ${JSON.stringify(name)} is taken by Flux's Kustomization of the objects beside ${chart.name}'s chart (its cluster is remote, so they are applied apart from the HelmRelease) in ${env.node.path}; rename the instance`);
  }

  const top: { file: string; object: object }[] = [
    { file: 'gitrepository.yaml', object: gitRepository(env) },
    // The root: Flux applies apps/ itself from the repository, as Argo CD's app-of-apps does.
    { file: 'root.yaml', object: kustomization(env, undefined, './apps', [], 'flux') },
  ];
  const repositories = new Map<string, string>();
  for (const instance of charts) {
    const { url, oci } = chartSourceOf(instance);
    if (repositories.has(url)) continue;
    const name = qualifiedName(env, repositoryName(url));
    repositories.set(url, name);
    top.push({ file: `helmrepository-${name}.yaml`, object: helmRepository(env, name, url, oci) });
  }
  top.push({ file: 'kustomization-namespace.yaml', object: kustomization(env, 'namespace', './manifests/namespace', [], 'cluster') });
  const secrets = folders.has('secrets') ? ['secrets'] : [];
  if (folders.has('secrets')) {
    top.push({ file: 'kustomization-secrets.yaml', object: kustomization(env, 'secrets', './manifests/secrets', ['namespace'], 'cluster') });
  }
  if (charts.length > 0) {
    top.push({ file: 'kustomization-values.yaml', object: kustomization(env, 'values', './values', ['namespace'], 'flux') });
  }
  const files: RenderedFile[] = [];
  for (const instance of instances) {
    const chart = charts.includes(instance);
    const deps = ['namespace', ...secrets, ...(chart ? ['values'] : []), ...instance.dependencies.filter((d) => instances.includes(d)).map((d) => d.name).sort()];
    const path = chart ? `./apps/releases/${instance.name}` : `./manifests/${instance.name}`;
    top.push({ file: `kustomization-${instance.name}.yaml`, object: kustomization(env, instance.name, path, deps, chart ? 'flux' : 'cluster') });
    if (apart.includes(instance)) {
      // After the release, as they come with it on a cluster of Flux's own.
      const name = `${instance.name}${MANIFESTS_SUFFIX}`;
      top.push({ file: `kustomization-${name}.yaml`, object: kustomization(env, name, `./manifests/${instance.name}`, [instance.name], 'cluster') });
    }
    if (chart) {
      const file = `helmrelease-${instance.name}.yaml`;
      const source = chartSourceOf(instance);
      // Objects siteforge adds beside the chart (a Grafana dashboard, say) come along as a base
      // on a cluster of Flux's own.
      const extra = folders.has(instance.name) && !apart.includes(instance) ? [`../../../manifests/${instance.name}`] : [];
      files.push(yamlFile(`apps/releases/${instance.name}/${file}`, helmRelease(instance, repositories.get(source.url)!)));
      files.push(yamlFile(`apps/releases/${instance.name}/kustomization.yaml`, { ...KUSTOMIZE, resources: [file, ...extra] }));
    }
  }
  files.push(...top.map(({ file, object }) => yamlFile(`apps/${file}`, object)));
  files.push(yamlFile('apps/kustomization.yaml', { ...KUSTOMIZE, resources: top.map((o) => o.file).sort() }));
  if (charts.length > 0) {
    files.push(yamlFile('values/kustomization.yaml', {
      ...KUSTOMIZE,
      namespace: FLUX_NAMESPACE,
      generatorOptions: { disableNameSuffixHash: true, labels: { 'app.kubernetes.io/managed-by': 'siteforge' } },
      configMapGenerator: charts.map((i) => ({ name: valuesConfigMap(i), files: [`values.yaml=${i.name}.yaml`] })),
    }));
  }
  return files;
}

function gitRepository(env: Environment): object {
  const url = fluxGitUrl(env.repoUrl);
  // Flux fetches over ssh only with a private key and the host's known keys from a Secret,
  // and a private repository over https only with credentials from one.
  const credentials = fluxGitSshSecret(env) ?? fluxGitHttpsSecret(env);
  const secret = credentials ? { secretRef: { name: credentials } } : {};
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: meta(env, qualifiedName(env)),
    spec: { url, ...secret, ref: { branch: ENVIRONMENT_BRANCH }, interval: '1m0s', ...suspended(env) },
  };
}

/**
 * Name of the Secret in Flux's namespace (`identity`, `known_hosts`) with which Flux reads the
 * environment repository when it is reached over ssh, or undefined; its administrators create
 * it, only the name is written.
 */
export function fluxGitSshSecret(env: Environment): string | undefined {
  return fluxGitUrl(env.repoUrl).startsWith('ssh://') ? qualifiedName(env, 'git-ssh') : undefined;
}

/**
 * Name of the Secret in Flux's namespace (`username` and `password`, or `bearerToken`; and
 * `ca.crt` for a private certificate authority) with which Flux reads the environment
 * repository over https, or undefined: when it is reached otherwise, or the site says its
 * repositories are public (`gitRemotePublic`). Its administrators create it, only the name is
 * written.
 */
export function fluxGitHttpsSecret(env: Environment): string | undefined {
  return fluxGitUrl(env.repoUrl).startsWith('https://') && !Site.of(env).gitRemotePublic ? qualifiedName(env, 'git-https') : undefined;
}

/**
 * Name of the kubeconfig Secret in Flux's namespace through which Flux reaches a cluster other
 * than its own, or undefined; the cluster's administrators create it, only the name is written.
 */
export function fluxKubeconfigSecret(env: Environment): string | undefined {
  return env.cluster!.apiServer === IN_CLUSTER ? undefined : qualifiedName(env, 'kubeconfig');
}

function helmRepository(env: Environment, name: string, url: string, oci: boolean): object {
  const mirror = url === env.chartMirror;
  const secret = mirror ? fluxChartMirrorSecret(env) : undefined;
  const ca = mirror ? fluxChartMirrorCaSecret(env) : undefined;
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: meta(env, name),
    spec: { url, ...(secret ? { secretRef: { name: secret } } : {}), ...(ca ? { certSecretRef: { name: ca } } : {}), interval: '1h0m0s', ...(oci ? { type: 'oci' } : {}), ...suspended(env) },
  };
}

/**
 * Name of the Secret in Flux's namespace (`username` and `password`) with which Flux reads
 * the environment's chart mirror, or undefined when it needs none (`chartMirrorCredentials`);
 * its administrators create it, only the name is written.
 */
export function fluxChartMirrorSecret(env: Environment): string | undefined {
  return env.chartMirrorCredentials ? qualifiedName(env, 'chart-mirror') : undefined;
}

/**
 * Name of the Secret in Flux's namespace (`ca.crt`) holding the certificate of the private
 * authority that signed the chart mirror's, or undefined when the mirror's is one Flux trusts
 * (`chartMirrorCa`); its administrators create it, only the name is written.
 */
export function fluxChartMirrorCaSecret(env: Environment): string | undefined {
  return env.chartMirrorCa ? qualifiedName(env, 'chart-mirror-ca') : undefined;
}

function kustomization(env: Environment, name: string | undefined, path: string, dependsOn: string[], destination: Destination): object {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: meta(env, qualifiedName(env, name)),
    spec: {
      ...(dependsOn.length > 0 ? { dependsOn: dependsOn.map((d) => ({ name: qualifiedName(env, d) })) } : {}),
      interval: '10m0s',
      retryInterval: '1m0s',
      path,
      prune: true,
      // The root only creates the other Kustomizations; each of those waits for its own objects.
      wait: name !== undefined,
      timeout: '5m0s',
      sourceRef: { kind: 'GitRepository', name: qualifiedName(env) },
      ...(destination === 'cluster' ? kubeConfig(env) : {}),
      ...suspended(env),
    },
  };
}

function helmRelease(instance: Instance, repository: string): object {
  const env = Environment.of(instance);
  const cluster = env.cluster!;
  const { chart } = chartSourceOf(instance);
  const retries = { remediation: { retries: 3 } };
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: meta(env, qualifiedName(env, instance.name)),
    spec: {
      releaseName: instance.name,
      targetNamespace: cluster.namespace,
      storageNamespace: cluster.namespace,
      chart: { spec: { chart: chart.name, version: chart.version, sourceRef: { kind: 'HelmRepository', name: repository } } },
      interval: '10m0s',
      install: { createNamespace: true, ...retries },
      upgrade: retries,
      valuesFrom: [{ kind: 'ConfigMap', name: valuesConfigMap(instance), valuesKey: 'values.yaml' }],
      ...kubeConfig(env),
      ...suspended(env),
    },
  };
}

export function valuesConfigMap(instance: Instance): string {
  return qualifiedName(Environment.of(instance), `${instance.name}-values`);
}

/** A cluster other than the one Flux runs in is reached through a kubeconfig Secret. */
function kubeConfig(env: Environment): object {
  const secret = fluxKubeconfigSecret(env);
  return secret ? { kubeConfig: { secretRef: { name: secret } } } : {};
}

function suspended(env: Environment): object {
  return env.sync.automated ? {} : { suspend: true };
}

function meta(env: Environment, name: string): object {
  return { name, namespace: FLUX_NAMESPACE, labels: { 'app.kubernetes.io/part-of': Site.of(env).name, 'app.kubernetes.io/managed-by': 'siteforge' } };
}

/** `https://charts.bitnami.com/bitnami` → `charts-bitnami-com-bitnami`, a DNS label. */
export function repositoryName(url: string): string {
  const label = url.replace(/^[a-z]+:\/\//, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return label.slice(0, 40).replace(/-+$/, '');
}
