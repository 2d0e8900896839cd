import { Exposure, IngressTls, IssuerRef, Placement, SecretBackend, Site, Zone } from '../constructs';
import { KOCA_PROD_SEALING_CERTIFICATE } from './koca-sealing-certificate';
import type { Environment, Instance } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from './site-definition';

/**
 * The KOCA delivery (seeds/002): the portal services (admin, Studio, AMO, the public website)
 * behind the Kong gateway, the DevOps tools, and the middleware they need. `test` runs
 * everything on Kubernetes. `prod` is hybrid: MySQL, Redis and Elasticsearch run on VMs, the
 * applications on Kubernetes use them, and images come from the customer's registry. Both serve
 * HTTPS: `test` with certificates from cert-manager, `prod` with the customer's wildcard
 * certificate for *.koca.example.com, which their administrators keep as a TLS Secret.
 */
export const koca: SiteDefinition = {
  name: 'koca',
  build(scope, catalog) {
    const site = new Site(scope, 'koca', { domain: 'koca.example.com', owners: ['koca-delivery'] });

    const test = site.addEnvironment('test', { zone: Zone.RUNTIME, members: ['koca-qa'] });
    test.addCluster({
      apiServer: 'https://k8s-test.koca.example.com:6443',
      storageClass: 'standard',
      tls: IngressTls.certManager({ issuer: IssuerRef.cluster('letsencrypt-prod') }),
    });
    const mysql = test.addInstance('mysql', { service: catalog.service('mysql'), settings: { database: 'koca' } });
    const redis = test.addInstance('redis', { service: catalog.service('redis') });
    test.addServiceGroup(catalog.group('logging'), {
      instances: { elasticsearch: { profile: 'single', settings: { heapSize: '1g', storageSize: '20Gi' } } },
    });
    middleware(test, catalog, { clustered: false });
    portal(test, catalog, { mysql, redis, nodes: 1, domain: 'test.koca.example.com' });
    test.addServiceGroup(catalog.group('observability'));
    test.addServiceGroup(catalog.group('devops'), { instances: devopsExposure('test.koca.example.com') });

    const prod = site.addEnvironment('prod', {
      zone: Zone.RUNTIME,
      owners: ['koca-ops'],
      members: ['koca-support'],
      registryMirror: 'registry.koca.internal:5000',
      chartMirror: 'https://charts.koca.internal/siteforge',
      // The customer's chart mirror is a private Harbor project: Argo CD reads it with a token,
      // and trusts the customer's own certificate authority, which signed its certificate.
      chartMirrorCredentials: true,
      chartMirrorCa: true,
      // MySQL and Redis keep their credentials in Ansible Vault; the apps on the cluster read
      // the same values from Secrets sealed from the vault (External Secrets cannot share them).
      secrets: SecretBackend.sealedSecrets({ certificate: KOCA_PROD_SEALING_CERTIFICATE }),
    });
    prod.addCluster({
      apiServer: 'https://k8s-prod.koca.internal:6443',
      ingressClass: 'nginx-internal',
      storageClass: 'ceph-rbd',
      tls: IngressTls.secret('koca-wildcard-tls'),
    });
    const data = prod.addHostGroup('data', {
      hosts: [
        { name: 'db1', address: '10.20.0.11', roles: ['db'], user: 'deploy' },
        { name: 'mw1', address: '10.20.0.21', roles: ['middleware'], user: 'deploy' },
        { name: 'mw2', address: '10.20.0.22', roles: ['middleware'], user: 'deploy' },
        { name: 'mw3', address: '10.20.0.23', roles: ['middleware'], user: 'deploy' },
      ],
    });
    const prodMysql = prod.addInstance('mysql', {
      service: catalog.service('mysql'),
      placement: Placement.vm({ group: data, role: 'db' }),
      settings: { database: 'koca', storageSize: '200Gi', maxConnections: 2000 },
    });
    const prodRedis = prod.addInstance('redis', {
      service: catalog.service('redis'),
      profile: 'replication',
      nodes: 3,
      placement: Placement.vm({ group: data, role: 'middleware' }),
      settings: { maxmemory: '2gb' },
    });
    const elasticsearch = prod.addInstance('elasticsearch', {
      service: catalog.service('elasticsearch'),
      profile: 'cluster',
      nodes: 3,
      placement: Placement.vm({ group: data, role: 'middleware' }),
      settings: { heapSize: '8g', storageSize: '500Gi' },
    });
    prod.addInstance('logstash', { service: catalog.service('logstash'), profile: 'scaled', nodes: 2 }).uses(elasticsearch);
    prod.addInstance('kibana', {
      service: catalog.service('kibana'),
      exposure: Exposure.ingress({ host: 'kibana.koca.example.com' }),
    }).uses(elasticsearch);
    middleware(prod, catalog, { clustered: true });
    portal(prod, catalog, { mysql: prodMysql, redis: prodRedis, nodes: 2, domain: 'koca.example.com' });
    prod.addServiceGroup(catalog.group('observability'), {
      instances: {
        prometheus: { settings: { retention: '30d', storageSize: '200Gi' } },
        alertmanager: { profile: 'ha', nodes: 3, settings: { webhookUrl: 'http://amo.koca-prod.svc:8080/api/alerts' } },
        grafana: { exposure: Exposure.ingress({ host: 'grafana.koca.example.com' }) },
      },
    });
    prod.addServiceGroup(catalog.group('devops'), { instances: devopsExposure('koca.example.com') });
    return site;
  },
};

/** The middleware KOCA's applications and customers' own services use. */
function middleware(env: Environment, catalog: Catalog, options: { clustered: boolean }): void {
  const { clustered } = options;
  env.addInstance('eureka', { service: catalog.service('eureka'), profile: clustered ? 'peers' : 'single' });
  env.addInstance('rabbitmq', { service: catalog.service('rabbitmq'), profile: clustered ? 'cluster' : 'single' });
  env.addInstance('zookeeper', { service: catalog.service('zookeeper'), profile: clustered ? 'ensemble' : 'single' });
  // Kafka finds the ZooKeeper above (withDependencies binds an existing instance first).
  env.addInstance('kafka', { service: catalog.service('kafka'), profile: clustered ? 'cluster' : 'single', withDependencies: true });
  env.addInstance('minio', { service: catalog.service('minio'), profile: clustered ? 'distributed' : 'standalone' });
}

interface PortalOptions {
  readonly mysql: Instance;
  readonly redis: Instance;
  readonly nodes: number;
  readonly domain: string;
}

/** The portal services behind the Kong gateway, and the public website. */
function portal(env: Environment, catalog: Catalog, options: PortalOptions): void {
  const { mysql, redis, nodes, domain } = options;
  const profile = nodes > 1 ? 'ha' : 'single';
  const namespace = env.cluster!.namespace;
  for (const name of ['portal-admin', 'studio', 'amo']) {
    env.addInstance(name, { service: catalog.service(name), profile, nodes }).uses(mysql).uses(redis);
  }
  env.addInstance('kong', {
    service: catalog.service('kong'),
    profile,
    nodes,
    exposure: Exposure.ingress({ host: `api.${domain}` }),
    settings: {
      routes: [
        { name: 'admin', url: `http://portal-admin.${namespace}.svc:8080`, paths: ['/admin'] },
        { name: 'studio', url: `http://studio.${namespace}.svc:8080`, paths: ['/studio'] },
        { name: 'amo', url: `http://amo.${namespace}.svc:8080`, paths: ['/amo'] },
      ],
    },
  });
  env.addInstance('koca-website', {
    service: catalog.service('koca-website'),
    profile,
    nodes,
    exposure: Exposure.ingress({ host: `www.${domain}` }),
    settings: { portalUrl: `https://api.${domain}/admin` },
  });
}

function devopsExposure(domain: string) {
  return {
    gitlab: { exposure: Exposure.ingress({ host: `gitlab.${domain}` }) },
    harbor: { exposure: Exposure.ingress({ host: `harbor.${domain}` }) },
    nexus: { exposure: Exposure.ingress({ host: `nexus.${domain}` }) },
    sonarqube: { exposure: Exposure.ingress({ host: `sonar.${domain}` }) },
  };
}
