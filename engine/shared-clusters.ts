import type { Catalog } from '../catalog';
import type { Environment, Site } from '../constructs';
import { clusterObjects, type ClusterObject } from '../constructs/cluster-objects';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, userErrorsOf } from './errors';
import { buildSite, type Selection } from './fleet';

/** The objects one environment puts on clusters the model names (see clusterObjects): plain data, posted from worker threads. */
export interface EnvironmentClusterObjects {
  readonly site: string;
  readonly env: string;
  readonly objects: readonly ClusterObject[];
}

/** The objects `env` of `site` puts on clusters the model names. */
export function clusterObjectsOf(site: Site, env: Environment): EnvironmentClusterObjects {
  return { site: site.name, env: env.name, objects: clusterObjects(env) };
}

/**
 * An error for every two environments that would make one object on one cluster: the same
 * namespace on one API server (`a/b-c` and `a-b/c` both default to `a-b-c`; each would prune
 * the other's objects), or, between sites, the same Argo CD object in the `argocd` namespace of
 * one cluster (within a site the site itself refuses those, whatever the cluster). Clusters are
 * known by their API server URLs; environments whose cluster the model does not name (the
 * in-cluster default) meet no one. `selected` are the objects of the environments `selection`
 * names; with a selection, when any of them is on a named cluster, the rest of the fleet is built
 * to find the environments they could meet (user errors of those sites, and clashes among
 * environments left out, are left to their own synth). Synth (and so validate) checks this
 * before anything is written.
 */
export function sharedClusterErrors(fleet: readonly SiteDefinition[], catalog: Catalog, selection: Selection, selected: readonly EnvironmentClusterObjects[]): UserError[] {
  const whole = selection.site === undefined && selection.env === undefined;
  const named = selected.some((e) => e.objects.length > 0);
  const others = whole || !named ? [] : unselectedClusterObjects(fleet, catalog, selected);
  const chosen = new Set<EnvironmentClusterObjects>(selected);
  const claimed = new Map<string, { env: EnvironmentClusterObjects; object: ClusterObject }>();
  // Clashes of two environments, by pair, cluster and owner: one error each, listing the objects.
  const clashes = new Map<string, { first: EnvironmentClusterObjects; second: EnvironmentClusterObjects; cluster: string; owner: ClusterObject['owner']; objects: ClusterObject[]; purposes: [string, string] }>();
  for (const env of [...selected, ...others]) {
    for (const object of env.objects) {
      const key = `${object.cluster} ${object.kind} ${object.namespace}/${object.name}`;
      const other = claimed.get(key);
      if (!other) {
        claimed.set(key, { env, object });
        continue;
      }
      if (other.env.site === env.site && (other.env.env === env.env || object.owner !== 'namespace')) continue;
      // A clash of two environments the selection left out is for their own synth to report.
      if (!chosen.has(other.env) && !chosen.has(env)) continue;
      const pair = `${other.env.site}/${other.env.env}\0${env.site}/${env.env}\0${object.cluster}\0${object.owner}`;
      const clash = clashes.get(pair);
      if (clash) clash.objects.push(object);
      else clashes.set(pair, { first: other.env, second: env, cluster: object.cluster, owner: object.owner, objects: [object], purposes: [other.object.purpose, object.purpose] });
    }
  }
  return [...clashes.values()].map(({ first, second, cluster, owner, objects, purposes }) => {
    const both = `${first.site}/${first.env} and ${second.site}/${second.env}`;
    if (owner === 'namespace') {
      return new UserError(`${both} would both use namespace ${objects[0].name} on the cluster ${cluster}, and each would prune the other's objects there; give one of them another namespace (addCluster({ namespace })), or rename a site or an environment (the namespace is <site>-<env> by default)`);
    }
    const shown = objects.slice(0, 3).map((o, i) => `${o.kind} ${o.namespace}/${o.name}${i === 0 ? ` (for ${purposes[0]} and for ${purposes[1]})` : ''}`);
    const more = objects.length > 3 ? ` and ${objects.length - 3} more` : '';
    return new UserError(`${both} would both make ${shown.join(', ')}${more} in the Argo CD of the cluster ${cluster}, which would hand ${objects.length === 1 ? 'it' : 'them'} back and forth between the two; rename a site or an environment (Argo CD objects are named <site>-<env>[-<name>])`);
  });
}

/** The cluster objects of every environment of `fleet` that `selected` does not hold. */
function unselectedClusterObjects(fleet: readonly SiteDefinition[], catalog: Catalog, selected: readonly EnvironmentClusterObjects[]): EnvironmentClusterObjects[] {
  const done = new Set(selected.map((e) => `${e.site}/${e.env}`));
  const objects: EnvironmentClusterObjects[] = [];
  for (const definition of fleet) {
    let site: Site;
    try {
      site = buildSite(definition, catalog);
    } catch (e) {
      if (userErrorsOf(e).length === 0) throw e;
      continue;
    }
    for (const env of site.environments) {
      if (!done.has(`${site.name}/${env.name}`)) objects.push(clusterObjectsOf(site, env));
    }
  }
  return objects;
}
