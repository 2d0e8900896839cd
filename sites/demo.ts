import { Exposure, Site, Zone } from '../constructs';
import type { SiteDefinition } from './site-definition';

/**
 * The quick-trial shape (KOCA's docker-compose trial, Rainbond's single-node demo): everything
 * in one all-in-one environment on a single cluster, every service at its smallest profile.
 */
export const demo: SiteDefinition = {
  name: 'demo',
  build(scope, catalog) {
    const site = new Site(scope, 'demo', { domain: 'demo.siteforge.local', owners: ['delivery-team'] });
    const env = site.addEnvironment('all-in-one', { zone: Zone.RUNTIME, members: ['demo-users'] });
    env.addCluster({ ingressClass: 'nginx' });

    const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), settings: { database: 'koca' } });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'single', settings: { heapSize: '512m', storageSize: '10Gi' } });
    env.addInstance('portal-admin', { service: catalog.service('portal-admin'), exposure: Exposure.ingress({ host: 'admin.demo.siteforge.local' }) })
      .uses(mysql)
      .uses(redis);
    env.addInstance('kong', {
      service: catalog.service('kong'),
      exposure: Exposure.ingress({ host: 'api.demo.siteforge.local' }),
      settings: { routes: [{ name: 'admin', url: 'http://portal-admin.demo-all-in-one.svc:8080', paths: ['/admin'] }] },
    });
    return site;
  },
};
