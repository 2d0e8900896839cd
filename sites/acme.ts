import { Applier, ArgoCdTopology, Exposure, IngressTls, IssuerRef, Placement, SecretBackend, SecretStoreRef, Site, SyncPolicy, Zone } from '../constructs';
import { ACME_PROD_SEALING_CERTIFICATE } from './acme-sealing-certificate';
import type { Catalog } from '../catalog';
import type { Environment, HostGroup } from '../constructs';
import type { SiteDefinition } from './site-definition';

/**
 * A customer site split the Choerodon way: a dev environment in the dev zone, and test and
 * prod in the runtime zone, each on its own cluster. Prod is air-gapped: it pulls images and
 * charts from the customer's mirror, syncs only on request, and runs its middleware on VMs:
 * MySQL on a database host, Elasticsearch as a 3-node cluster on three middleware hosts, the
 * applications on Kubernetes reaching them through selector-less Services. Dev runs Flux in its
 * own cluster; test and prod are applied by one Argo CD in the dev zone, which reaches their
 * clusters by API server URL. Every exposed instance is served over HTTPS with a certificate
 * from cert-manager: Let's Encrypt where the clusters are connected, the customer's own CA in
 * air-gapped prod.
 */
export const acme: SiteDefinition = {
  name: 'acme',
  build(scope, catalog) {
    const site = new Site(scope, 'acme', {
      domain: 'acme.example.com',
      owners: ['acme-delivery-leads'],
      argoCd: ArgoCdTopology.devZone(),
      // Connected environments read credentials from acme's Vault through External Secrets.
      secrets: SecretBackend.externalSecrets({ store: SecretStoreRef.cluster('acme-vault') }),
    });

    const dev = site.addEnvironment('dev', { zone: Zone.DEV, members: ['acme-developers'] });
    // Connected clusters: cert-manager gets certificates from Let's Encrypt.
    const letsEncrypt = IngressTls.certManager({ issuer: IssuerRef.cluster('letsencrypt-prod') });
    dev.addCluster({ applier: Applier.flux(), storageClass: 'standard', tls: letsEncrypt });
    platform(dev, catalog, { elasticsearchProfile: 'single', adminNodes: 1 });

    const test = site.addEnvironment('test', { zone: Zone.RUNTIME, members: ['acme-qa'] });
    test.addCluster({ apiServer: 'https://k8s-test.acme.example.com:6443', storageClass: 'standard', tls: letsEncrypt });
    platform(test, catalog, { elasticsearchProfile: 'single', adminNodes: 1 });

    const prod = site.addEnvironment('prod', {
      zone: Zone.RUNTIME,
      owners: ['acme-ops'],
      members: ['acme-support'],
      registryMirror: 'registry.acme.internal:5000',
      chartMirror: 'https://charts.acme.internal/siteforge',
      // Air-gapped: no store to read from, so credentials are sealed for the prod cluster.
      secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }),
      sync: SyncPolicy.manual(),
    });
    prod.addCluster({
      apiServer: 'https://k8s-prod.acme.internal:6443',
      ingressClass: 'nginx-internal',
      storageClass: 'ceph-rbd',
      // Air-gapped: no ACME server to reach, so cert-manager signs with the customer's CA.
      tls: IngressTls.certManager({ issuer: IssuerRef.cluster('acme-internal-ca') }),
    });
    const vms = prod.addHostGroup('vms', {
      hosts: [
        { name: 'acme-db-1', address: '10.20.0.11', roles: ['db'], user: 'ops' },
        { name: 'acme-es-1', address: '10.20.0.21', roles: ['middleware'], user: 'ops' },
        { name: 'acme-es-2', address: '10.20.0.22', roles: ['middleware'], user: 'ops' },
        { name: 'acme-es-3', address: '10.20.0.23', roles: ['middleware'], user: 'ops' },
      ],
    });
    platform(prod, catalog, { elasticsearchProfile: 'cluster', elasticsearchNodes: 3, adminNodes: 2, vms });
    return site;
  },
};

interface PlatformOptions {
  readonly elasticsearchProfile: 'single' | 'cluster';
  readonly elasticsearchNodes?: number;
  readonly adminNodes: number;
  /**
   * Host group for MySQL (on its db hosts) and Elasticsearch (on its middleware hosts).
   * @default - everything on the cluster
   */
  readonly vms?: HostGroup;
}

/** The same platform in every environment; only sizes differ. */
function platform(env: Environment, catalog: Catalog, options: PlatformOptions): void {
  const domain = `${env.name === 'prod' ? '' : `${env.name}.`}acme.example.com`;
  const { vms } = options;
  const mysql = env.addInstance('mysql', {
    service: catalog.service('mysql'),
    settings: { database: 'koca', storageSize: env.name === 'prod' ? '100Gi' : '20Gi' },
    placement: vms ? Placement.vm({ group: vms, role: 'db' }) : undefined,
  });
  const redis = env.addInstance('redis', { service: catalog.service('redis') });
  const elasticsearch = env.addInstance('elasticsearch', {
    service: catalog.service('elasticsearch'),
    profile: options.elasticsearchProfile,
    nodes: options.elasticsearchNodes,
    settings: options.elasticsearchProfile === 'cluster' ? { heapSize: '4g', storageSize: '200Gi' } : { heapSize: '1g' },
    placement: vms ? Placement.vm({ group: vms, role: 'middleware' }) : undefined,
  });
  const admin = env.addInstance('portal-admin', {
    service: catalog.service('portal-admin'),
    profile: options.adminNodes > 1 ? 'ha' : 'single',
    nodes: options.adminNodes,
    exposure: Exposure.ingress({ host: `admin.${domain}` }),
    settings: { title: `ACME Admin (${env.name})`, logLevel: env.name === 'prod' ? 'WARN' : 'INFO' },
  }).uses(mysql).uses(redis);
  if (vms) admin.uses(elasticsearch);
  env.addInstance('kong', {
    service: catalog.service('kong'),
    profile: options.adminNodes > 1 ? 'ha' : 'single',
    nodes: options.adminNodes,
    exposure: Exposure.ingress({ host: `api.${domain}` }),
    settings: { routes: [{ name: 'admin', url: `http://portal-admin.acme-${env.name}.svc:8080`, paths: ['/admin'] }] },
  });
}
