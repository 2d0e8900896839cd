import { Environment } from './environment';
import { Site } from './site';

/**
 * Everything about an environment that its output depends on, besides siteforge's own code:
 * the site, environment, cluster and host settings, and each instance with its service's
 * catalog fingerprint. Hashed into `.siteforge/state.json` as `inputHash`, so CI can tell an
 * unchanged environment without diffing its files.
 */
export function environmentInputs(env: Environment): unknown {
  const site = Site.of(env);
  const cluster = env.cluster;
  return {
    site: { name: site.name, domain: site.domain, owners: site.owners, gitRemote: site.gitRemote ?? null },
    environment: {
      name: env.name, zone: env.zone.name, owners: env.owners, members: env.members,
      registryMirror: env.registryMirror ?? null, chartMirror: env.chartMirror ?? null, repoUrl: env.repoUrl,
    },
    cluster: cluster
      ? { apiServer: cluster.apiServer, applier: cluster.applier.name, ingressClass: cluster.ingressClass, storageClass: cluster.storageClass ?? null, namespace: cluster.namespace }
      : null,
    hostGroups: env.hostGroups.map((g) => ({ name: g.name, hosts: g.hosts.map(({ group: _group, ...host }) => host) })),
    instances: env.instances.map((i) => ({
      name: i.name,
      service: i.service.name,
      fingerprint: i.service.fingerprint,
      profile: i.profile.name,
      nodes: i.nodes,
      settings: i.settings,
      placement: { kind: i.placement.kind, group: i.placement.group?.name ?? null, role: i.placement.role ?? null },
      resources: i.resources,
      exposure: { host: i.host ?? null, path: i.exposure.path ?? null },
      uses: i.dependencies.map((d) => d.name),
    })),
  };
}
