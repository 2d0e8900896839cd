import { Applier, ArgoCdTopology, Exposure, Site, SyncPolicy, Zone } from '../constructs';
import type { Catalog } from '../catalog';
import type { Environment } from '../constructs';
import type { SiteDefinition } from './site-definition';

/**
 * A customer site split the Choerodon way: a dev environment in the dev zone, and test and
 * prod in the runtime zone, each on its own cluster. Prod is air-gapped: it pulls images and
 * charts from the customer's mirror, runs Elasticsearch as a 3-node cluster and syncs only on
 * request. Dev runs Flux in its own cluster; test and prod are applied by one Argo CD in the dev
 * zone, which reaches their clusters by API server URL.
 */
export const acme: SiteDefinition = {
  name: 'acme',
  build(scope, catalog) {
    const site = new Site(scope, 'acme', { domain: 'acme.example.com', owners: ['acme-delivery-leads'], argoCd: ArgoCdTopology.devZone() });

    const dev = site.addEnvironment('dev', { zone: Zone.DEV, members: ['acme-developers'] });
    dev.addCluster({ applier: Applier.flux(), storageClass: 'standard' });
    platform(dev, catalog, { elasticsearchProfile: 'single', adminNodes: 1 });

    const test = site.addEnvironment('test', { zone: Zone.RUNTIME, members: ['acme-qa'] });
    test.addCluster({ apiServer: 'https://k8s-test.acme.example.com:6443', storageClass: 'standard' });
    platform(test, catalog, { elasticsearchProfile: 'single', adminNodes: 1 });

    const prod = site.addEnvironment('prod', {
      zone: Zone.RUNTIME,
      owners: ['acme-ops'],
      members: ['acme-support'],
      registryMirror: 'registry.acme.internal:5000',
      chartMirror: 'https://charts.acme.internal/siteforge',
      sync: SyncPolicy.manual(),
    });
    prod.addCluster({ apiServer: 'https://k8s-prod.acme.internal:6443', ingressClass: 'nginx-internal', storageClass: 'ceph-rbd' });
    platform(prod, catalog, { elasticsearchProfile: 'cluster', elasticsearchNodes: 3, adminNodes: 2 });
    return site;
  },
};

interface PlatformOptions {
  readonly elasticsearchProfile: 'single' | 'cluster';
  readonly elasticsearchNodes?: number;
  readonly adminNodes: number;
}

/** The same platform in every environment; only sizes differ. */
function platform(env: Environment, catalog: Catalog, options: PlatformOptions): void {
  const domain = `${env.name === 'prod' ? '' : `${env.name}.`}acme.example.com`;
  const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), settings: { database: 'koca', storageSize: env.name === 'prod' ? '100Gi' : '20Gi' } });
  const redis = env.addInstance('redis', { service: catalog.service('redis') });
  env.addInstance('elasticsearch', {
    service: catalog.service('elasticsearch'),
    profile: options.elasticsearchProfile,
    nodes: options.elasticsearchNodes,
    settings: options.elasticsearchProfile === 'cluster' ? { heapSize: '4g', storageSize: '200Gi' } : { heapSize: '1g' },
  });
  env.addInstance('portal-admin', {
    service: catalog.service('portal-admin'),
    profile: options.adminNodes > 1 ? 'ha' : 'single',
    nodes: options.adminNodes,
    exposure: Exposure.ingress({ host: `admin.${domain}` }),
    settings: { title: `ACME Admin (${env.name})`, logLevel: env.name === 'prod' ? 'WARN' : 'INFO' },
  }).uses(mysql).uses(redis);
  env.addInstance('kong', {
    service: catalog.service('kong'),
    profile: options.adminNodes > 1 ? 'ha' : 'single',
    nodes: options.adminNodes,
    exposure: Exposure.ingress({ host: `api.${domain}` }),
    settings: { routes: [{ name: 'admin', url: `http://portal-admin.acme-${env.name}.svc:8080`, paths: ['/admin'] }] },
  });
}
