import { Exposure, IngressTls, IssuerRef, Site, Zone } from '../constructs';
import type { Environment } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from './site-definition';

/**
 * BlueKing PaaS (seeds/004): the platform services (unified login, developer center, API
 * gateway, app engine and its agent) and a SaaS app deployed to the two app environments the
 * developer center offers, `stag` (预发布) and `prod` (正式), each bound to its own MySQL,
 * Redis and RabbitMQ (the app's enhanced services). The platform runs in `stag` and `prod` alike,
 * served over HTTPS (its paasUrl says so) with certificates that cert-manager gets from the
 * platform's CA, an Issuer in each environment's namespace.
 */
export const blueking: SiteDefinition = {
  name: 'blueking',
  build(scope, catalog) {
    const site = new Site(scope, 'blueking', { domain: 'bk.example.com', owners: ['bk-platform'] });

    const stag = site.addEnvironment('stag', { zone: Zone.RUNTIME, members: ['bk-developers'] });
    const tls = IngressTls.certManager({ issuer: IssuerRef.namespaced('bk-ca') });
    stag.addCluster({ apiServer: 'https://k8s-stag.bk.example.com:6443', storageClass: 'standard', tls });
    platform(stag, catalog, { nodes: 1, domain: 'stag.bk.example.com' });

    const prod = site.addEnvironment('prod', { zone: Zone.RUNTIME, owners: ['bk-ops'], members: ['bk-developers'] });
    prod.addCluster({ apiServer: 'https://k8s-prod.bk.example.com:6443', storageClass: 'ceph-rbd', tls });
    platform(prod, catalog, { nodes: 2, domain: 'bk.example.com' });
    return site;
  },
};

/** The PaaS platform and the SaaS app with its enhanced services. */
function platform(env: Environment, catalog: Catalog, options: { nodes: number; domain: string }): void {
  const { nodes, domain } = options;
  const profile = nodes > 1 ? 'ha' : 'single';
  const paasUrl = `https://paas.${domain}`;
  const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), settings: { database: 'open_paas', characterSet: 'utf8' } });
  const redis = env.addInstance('redis', { service: catalog.service('redis') });
  const rabbitmq = env.addInstance('rabbitmq', { service: catalog.service('rabbitmq'), profile: nodes > 1 ? 'cluster' : 'single', settings: { vhost: '/bk-saas-app' } });

  const login = env.addInstance('bk-login', { service: catalog.service('bk-login'), profile, nodes, settings: { paasUrl } }).uses(mysql);
  env.addInstance('bk-paas', {
    service: catalog.service('bk-paas'),
    profile,
    nodes,
    settings: { paasUrl },
    exposure: Exposure.ingress({ host: `paas.${domain}` }),
  }).uses(mysql).uses(login);
  env.addInstance('bk-esb', { service: catalog.service('bk-esb'), profile, nodes, settings: { paasUrl } }).uses(mysql).uses(login);
  const appengine = env.addInstance('bk-appengine', { service: catalog.service('bk-appengine'), profile, nodes, settings: { paasUrl } }).uses(mysql);
  env.addInstance('bk-paasagent', { service: catalog.service('bk-paasagent') }).uses(appengine);

  env.addInstance('bk-saas-app', {
    service: catalog.service('bk-saas-app'),
    profile,
    nodes,
    settings: { appCode: 'bk-saas-app', paasUrl, celeryVhost: '/bk-saas-app' },
    exposure: Exposure.ingress({ host: `apps.${domain}`, path: '/bk-saas-app' }),
  }).uses(mysql).uses(redis).uses(rabbitmq);
}
