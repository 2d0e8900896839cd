import { Placement, Site, StorageMount, Zone } from '../constructs';
import type { SiteDefinition } from './site-definition';

/**
 * Rainbond's deployment shapes, on VMs only: a single-node demo whose one host carries every
 * role, and a cluster whose hosts carry the load balancer, manage, compute and storage roles,
 * with the GlusterFS volume of the storage nodes mounted on /grdata on manage and compute
 * nodes. The platform's middleware (MySQL for the console, Redis, Elasticsearch for logs) runs
 * on the manage nodes.
 */
export const rainbond: SiteDefinition = {
  name: 'rainbond',
  build(scope, catalog) {
    const site = new Site(scope, 'rainbond', { domain: 'rainbond.example.com', owners: ['rainbond-ops'] });

    const demo = site.addEnvironment('demo', { zone: Zone.RUNTIME });
    const node = demo.addHostGroup('nodes', {
      hosts: [{ name: 'rainbond-allinone', address: '192.168.56.10', roles: ['lb', 'manage', 'compute', 'storage', 'db', 'middleware'], user: 'root' }],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    });
    demo.addInstance('console-db', { service: catalog.service('mysql'), settings: { database: 'console' }, placement: Placement.vm({ group: node }) });
    demo.addInstance('console-cache', { service: catalog.service('redis'), placement: Placement.vm({ group: node }) });
    demo.addInstance('logs', { service: catalog.service('elasticsearch'), profile: 'single', settings: { heapSize: '512m' }, placement: Placement.vm({ group: node }) });

    const prod = site.addEnvironment('prod', { zone: Zone.RUNTIME, owners: ['rainbond-prod-ops'] });
    const cluster = prod.addHostGroup('nodes', {
      hosts: [
        { name: 'rb-lb-1', address: '10.10.0.11', roles: ['lb'], user: 'ops' },
        { name: 'rb-lb-2', address: '10.10.0.12', roles: ['lb'], user: 'ops' },
        { name: 'rb-manage-1', address: '10.10.1.11', roles: ['manage', 'db', 'middleware'], user: 'ops' },
        { name: 'rb-manage-2', address: '10.10.1.12', roles: ['manage', 'middleware'], user: 'ops' },
        { name: 'rb-manage-3', address: '10.10.1.13', roles: ['manage', 'middleware'], user: 'ops' },
        { name: 'rb-compute-1', address: '10.10.2.11', roles: ['compute'], user: 'ops' },
        { name: 'rb-compute-2', address: '10.10.2.12', roles: ['compute'], user: 'ops' },
        { name: 'rb-compute-3', address: '10.10.2.13', roles: ['compute'], user: 'ops', port: 2222 },
        { name: 'rb-storage-1', address: '10.10.3.11', roles: ['storage'], user: 'ops' },
        { name: 'rb-storage-2', address: '10.10.3.12', roles: ['storage'], user: 'ops' },
      ],
      mounts: [StorageMount.glusterfs({ volume: 'gv0', path: '/grdata', roles: ['manage', 'compute'] })],
    });
    prod.addInstance('console-db', {
      service: catalog.service('mysql'),
      settings: { database: 'console', maxConnections: 2000 },
      placement: Placement.vm({ group: cluster, role: 'db' }),
    });
    prod.addInstance('console-cache', { service: catalog.service('redis'), profile: 'replication', placement: Placement.vm({ group: cluster, role: 'middleware' }) });
    prod.addInstance('logs', {
      service: catalog.service('elasticsearch'),
      profile: 'cluster',
      nodes: 3,
      settings: { heapSize: '2g' },
      placement: Placement.vm({ group: cluster, role: 'middleware' }),
    });
    return site;
  },
};
