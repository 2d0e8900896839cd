import type { Environment } from './environment';
import { Site } from './site';
import { Zone } from './zone';
import { applierObjects, type ApplierObject } from './applier-objects';

/**
 * An object an environment puts on a cluster the model names, where environments of other
 * sites may put theirs: its namespace (a Namespace), and the objects its Argo CD keeps in
 * `argocd` when the model says which cluster that Argo CD runs in.
 */
export interface ClusterObject extends ApplierObject {
  /** The cluster, by its API server URL (see clusterIdentity). */
  readonly cluster: string;
  /** What makes the object there: `Argo CD`, or `namespace` for the environment's namespace. */
  readonly owner: 'Argo CD' | 'namespace';
}

/**
 * The cluster an API server URL names, written one way (`https://k8s.acme.internal:6443`: scheme
 * and host lower case, no default port, no trailing slash), or undefined for the in-cluster
 * address (`https://kubernetes.default.svc` and its longer and shorter forms), which every
 * cluster gives itself and so names none in particular.
 */
export function clusterIdentity(apiServer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(apiServer);
  } catch {
    return undefined;
  }
  if (/^kubernetes(\.default(\.svc(\.cluster\.local)?)?)?$/.test(url.hostname)) return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The cluster whose `argocd` namespace holds the Argo CD objects of `env`, when the model names
 * it: with an Argo CD per cluster, the environment's own cluster; with one Argo CD in the dev
 * zone, the one cluster of the site's dev zone (all its dev-zone environments on one API
 * server). Undefined when the environment is not applied by Argo CD, or the cluster is not
 * named (the in-cluster default, several dev-zone clusters, none).
 */
export function argoCdCluster(env: Environment): string | undefined {
  if (env.cluster?.applier.name !== 'argocd') return undefined;
  const site = Site.of(env);
  if (site.argoCd.name === 'per-cluster') return clusterIdentity(env.cluster.apiServer);
  const devZone = new Set(site.environments.filter((e) => e.zone === Zone.DEV && e.cluster).map((e) => clusterIdentity(e.cluster!.apiServer)));
  return devZone.size === 1 ? [...devZone][0] : undefined;
}

/**
 * Every object of `env` that lands on a cluster the model names (see clusterIdentity): its
 * Namespace on its own cluster, and its Argo CD objects on their Argo CD's cluster (see
 * argoCdCluster). Flux objects are never listed: Flux runs in the cluster of an in-cluster
 * environment, which has no name, or in a cluster the model does not name at all (one whose
 * kubeconfig reaches a remote cluster). Plain data, for checks across sites.
 */
export function clusterObjects(env: Environment): ClusterObject[] {
  const cluster = env.cluster;
  if (!cluster) return [];
  const objects: ClusterObject[] = [];
  const own = clusterIdentity(cluster.apiServer);
  if (own !== undefined) objects.push({ kind: 'Namespace', namespace: '', name: cluster.namespace, purpose: `the namespace of ${env.node.path}`, cluster: own, owner: 'namespace' });
  const argoCd = argoCdCluster(env);
  if (argoCd !== undefined) objects.push(...applierObjects(env).map((o) => ({ ...o, cluster: argoCd, owner: 'Argo CD' as const })));
  return objects;
}
