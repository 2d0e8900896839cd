import { Applier, Exposure, Site, Zone } from '../constructs';
import type { Environment } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from './site-definition';

/*
 * Choerodon's split (seeds/000, 开发区与运行区): the dev zone runs the services of planning,
 * coding, building and testing; the runtime zone runs those of deploying, running and
 * operating. Versions are the catalog's, which follow the documents' tables.
 */

/** The dev zone's services (开发区各服务), in the documents' order. */
export const CHOERODON_DEV_ZONE = [
  'k8s-informer', 'choerodon-gitlab-service', 'devops-kubernetes-service', 'choerodon-file-service',
  'choerodon-devops-service', 'devops-deploy-service', 'data-sonar-service', 'data-intergration-service',
  'data-provide-service', 'data-operation-service', 'choerodon-kanban-service', 'mobile-cloud-service',
  'devops-front', 'deploy-front', 'analysis-insight-front', 'monitor-front', 'choerodon-kanban-front', 'mobile-front',
] as const;

/** The runtime zone's services (运行区各服务), in the documents' order. */
export const CHOERODON_RUNTIME_ZONE = [
  'k8s-informer', 'devops-kubernetes-service', 'choerodon-file-service', 'devops-deploy-service',
  'data-intergration-service', 'data-provide-service', 'data-operation-service', 'mobile-cloud-service',
  'deploy-front', 'monitor-front', 'mobile-front',
] as const;

/**
 * Choerodon delivered both ways the documents describe: multi-cluster (多集群部署), the dev
 * zone and the runtime zone as separate environments on separate clusters, talking over HTTP;
 * and single-cluster (单集群部署), one environment whose cluster runs the services of both
 * zones (the runtime zone's list is part of the dev zone's, so each service runs once).
 */
export const choerodon: SiteDefinition = {
  name: 'choerodon',
  build(scope, catalog) {
    const site = new Site(scope, 'choerodon', { domain: 'choerodon.example.com', owners: ['choerodon-delivery'] });

    const dev = site.addEnvironment('dev', { zone: Zone.DEV, members: ['choerodon-developers'] });
    dev.addCluster({ apiServer: 'https://k8s-dev.choerodon.example.com:6443', applier: Applier.argoCd(), storageClass: 'nfs-client' });
    zone(dev, catalog, CHOERODON_DEV_ZONE, { devops: true, domain: 'dev.choerodon.example.com' });

    const runtime = site.addEnvironment('runtime', { zone: Zone.RUNTIME, owners: ['choerodon-ops'], members: ['choerodon-support'] });
    runtime.addCluster({ apiServer: 'https://k8s-runtime.choerodon.example.com:6443', applier: Applier.argoCd(), storageClass: 'ceph-rbd' });
    zone(runtime, catalog, CHOERODON_RUNTIME_ZONE, { devops: false, domain: 'choerodon.example.com' });

    const single = site.addEnvironment('single-cluster', { zone: Zone.DEV, members: ['choerodon-developers'] });
    single.addCluster({ apiServer: 'https://k8s.choerodon.example.com:6443', applier: Applier.argoCd(), storageClass: 'nfs-client' });
    const both = [...new Set([...CHOERODON_DEV_ZONE, ...CHOERODON_RUNTIME_ZONE])];
    zone(single, catalog, both, { devops: true, domain: 'all.choerodon.example.com' });
    return site;
  },
};

interface ZoneOptions {
  /** Whether the zone runs the DevOps tools (GitLab, Harbor, Nexus, SonarQube). */
  readonly devops: boolean;
  /** Domain the front ends are exposed under. */
  readonly domain: string;
}

/** One zone's services on the environment's cluster, with the middleware they use. */
function zone(env: Environment, catalog: Catalog, services: readonly string[], options: ZoneOptions): void {
  env.addInstance('mysql', { service: catalog.service('mysql'), settings: { database: 'choerodon', storageSize: '50Gi' } });
  env.addInstance('redis', { service: catalog.service('redis') });
  if (options.devops) {
    env.addServiceGroup(catalog.group('devops'), {
      instances: {
        gitlab: { exposure: Exposure.ingress({ host: `gitlab.${options.domain}` }), settings: { timeZone: 'Asia/Shanghai' } },
        harbor: { exposure: Exposure.ingress({ host: `registry.${options.domain}` }) },
        nexus: { exposure: Exposure.ingress({ host: `nexus.${options.domain}` }) },
        sonarqube: { exposure: Exposure.ingress({ host: `sonar.${options.domain}` }) },
      },
    });
  }
  for (const name of services) {
    const service = catalog.service(name);
    const front = name.endsWith('-front');
    env.addInstance(name, {
      service,
      // Backends find the zone's MySQL and Redis (and GitLab, SonarQube) themselves.
      withDependencies: true,
      exposure: front ? Exposure.ingress({ host: `${name.replace(/-front$/, '')}.${options.domain}` }) : undefined,
      settings: front ? { apiHost: `http://devops-deploy-service.${env.cluster!.namespace}.svc:8080` } : undefined,
    });
  }
}
