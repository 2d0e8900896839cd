import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import { loadCatalog } from '../../catalog';
import { Placement, SecretBackend, Site, StorageMount, UserError, UserErrors, type Environment, type HostProps, type RenderedFile } from '../../constructs';
import { ACME_PROD_SEALING_CERTIFICATE } from '../../sites/acme-sealing-certificate';
import { buildSite } from '../../engine/fleet';
import { endpointOf, templateContext } from '../../constructs/template-context';
import { jinjaLiteral, jinjaSafe } from '../../constructs/ansible/jinja';
import { vaultVariable } from '../../constructs/ansible/variables';
import { parseYaml } from '../../constructs/yaml';
import { builtinCatalog, catalogCopy, renderWithSecrets, siteWithEnvironment } from '../helpers';
import { addFixtureService } from '../ansible/ansible-helpers';

const catalog = builtinCatalog();

/** Every validation message of the environment's tree. */
function problems(env: Environment): string[] {
  return env.node.findAll().flatMap((c) => c.node.validate());
}

function file(files: RenderedFile[], path: string): string {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} among ${files.map((f) => f.path).join(', ')}`);
  return found.content;
}

const db1: HostProps = { name: 'db-1', address: '10.0.0.11', roles: ['db'] };
const mw = (n: number): HostProps => ({ name: `mw-${n}`, address: `10.0.1.${n}`, roles: ['middleware'] });


describe('VM placement', () => {
  it('fails when two instances bind the same port on the same host, naming both, the host and the port', () => {
    // GIVEN two MySQL instances on the one db host
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [db1] });
    env.addInstance('orders-db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('users-db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    // THEN validation names both instances, the host and the port
    expect(problems(env)).toStrictEqual([
      'acme/prod/vms: port 3306 on host db-1 is bound by both orders-db and users-db; place one of them on other hosts (Placement.vm role) or lower its nodes',
    ]);
  });

  it.each([[22, true], [2222, false]])('with the second host on SSH port %d, fails: %s, when two hosts are one machine (address and SSH port) and instances on them bind one port', (port, fails) => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [db1, { ...db1, name: 'db-2', port, roles: ['middleware'] }] });
    env.addInstance('orders-db', { service: catalog.service('mysql'), placement: Placement.vm({ group, role: 'db' }) });
    env.addInstance('users-db', { service: catalog.service('mysql'), placement: Placement.vm({ group, role: 'middleware' }) });
    expect(problems(env)).toStrictEqual(fails ? [
      'acme/prod/vms: port 3306 on 10.0.0.11 is bound by both orders-db (host db-1) and users-db (host db-2), one machine under two names; give the hosts their own addresses, or place one instance on other hosts',
    ] : []);
  });

  it('fails once, from the second host\'s group, when two host groups list one machine and instances on them bind one port', () => {
    // GIVEN db-1 in one group and, under another name, in another, with MySQL on each
    const { env } = siteWithEnvironment();
    const orders = env.addHostGroup('orders-vms', { hosts: [db1] });
    const users = env.addHostGroup('users-vms', { hosts: [{ ...db1, name: 'db-2' }] });
    env.addInstance('orders-db', { service: catalog.service('mysql'), placement: Placement.vm({ group: orders }) });
    env.addInstance('users-db', { service: catalog.service('mysql'), placement: Placement.vm({ group: users }) });
    // THEN validation names both instances, both hosts, the address and the port, once
    expect(problems(env)).toStrictEqual([
      'acme/prod/users-vms: port 3306 on 10.0.0.11 is bound by both orders-db (host db-1) and users-db (host db-2), one machine under two names; give the hosts their own addresses, or place one instance on other hosts',
    ]);
  });

  it('accepts two services with different ports on one host', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, roles: ['db', 'middleware'] }] });
    env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('redis', { service: catalog.service('redis'), placement: Placement.vm({ group }) });
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), placement: Placement.vm({ group }) });
    expect(problems(env)).toStrictEqual([]);
  });

  it('refuses an unknown host role, listing the roles', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addHostGroup('vms', { hosts: [{ name: 'gpu-1', address: '10.0.0.1', roles: ['gpu'] }] }))
      .toThrow('acme/prod/vms/gpu-1: unknown host role "gpu"; roles are lb, manage, compute, storage, db, middleware, app');
  });

  it('fails when no host of the group may run the service, naming the roles it needs', () => {
    // GIVEN a group of compute hosts only
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [{ name: 'c-1', address: '10.0.0.1', roles: ['compute'] }] });
    env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    // THEN MySQL finds no host
    expect(problems(env)).toStrictEqual([
      'acme/prod/mysql: no host in acme/prod/vms can run mysql: it needs a host with role db or middleware; give hosts that role or place the instance elsewhere',
    ]);
  });

  it('refuses a placement role the service does not run on', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [{ name: 'c-1', address: '10.0.0.1', roles: ['compute'] }] });
    expect(() => env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group, role: 'compute' }) }))
      .toThrow('acme/prod/mysql: mysql cannot run on hosts with role compute; it runs on hosts with role db or middleware');
  });

  it('fails when a 3-node cluster finds 2 qualifying hosts, saying how many it needs and which hosts qualify', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [mw(1), mw(2), db1] });
    env.addInstance('logs', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 3, placement: Placement.vm({ group }) });
    expect(problems(env)).toStrictEqual([
      'acme/prod/logs: needs 3 distinct hosts with role middleware in acme/prod/vms, found 2 (mw-1, mw-2); add hosts or lower nodes',
    ]);
  });

  it('runs a 3-node cluster on 3 distinct hosts', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [mw(1), mw(2), mw(3), mw(4)] });
    const logs = env.addInstance('logs', { service: catalog.service('elasticsearch'), profile: 'cluster', placement: Placement.vm({ group }) });
    expect(problems(env)).toStrictEqual([]);
    expect(logs.hosts.map((h) => h.name)).toStrictEqual(['mw-1', 'mw-2', 'mw-3']);
  });

  it('refuses a credential setting in plaintext on VMs, naming the vault variable to define instead', () => {
    // GIVEN a catalog whose MySQL has a rootPassword setting
    const dir = catalogCopy();
    const schemaFile = join(dir, 'mysql', 'values.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    schema.properties.rootPassword = { type: 'string' };
    writeFileSync(schemaFile, JSON.stringify(schema));
    const copy = loadCatalog(dir);
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [db1] });
    // THEN setting it on VMs is an error
    expect(() => env.addInstance('mysql', { service: copy.service('mysql'), settings: { rootPassword: 'hunter2' }, placement: Placement.vm({ group }) }))
      .toThrow('acme/prod/mysql: setting /rootPassword holds a credential and would be written in plaintext on VMs; remove it from settings and define the Ansible Vault variable mysql_rootPassword in ansible/group_vars/mysql/vault.yml instead');
  });

  it('refuses an instance named like a host role, as both become inventory groups', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [db1] });
    env.addInstance('db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    expect(problems(env)).toStrictEqual([
      'acme/prod/vms: instance db is placed on VMs but its name is also a host role or host name, and both become Ansible inventory names; rename the instance',
    ]);
  });
});

describe('storage mounts', () => {
  it('mounts a GlusterFS volume from the storage hosts on the manage and compute hosts', () => {
    const { env } = siteWithEnvironment({ cluster: false });
    const group = env.addHostGroup('nodes', {
      hosts: [
        { name: 'lb-1', address: '10.0.0.1', roles: ['lb'] },
        { name: 'm-1', address: '10.0.1.1', roles: ['manage'] },
        { name: 'c-1', address: '10.0.2.1', roles: ['compute'] },
        { name: 's-1', address: '10.0.3.1', roles: ['storage'] },
        { name: 's-2', address: '10.0.3.2', roles: ['storage'] },
      ],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    });
    expect(group.mounts.map((m) => ({ ...m, hosts: m.hosts.map((h) => h.name) }))).toStrictEqual([{
      path: '/grdata',
      fstype: 'glusterfs',
      src: '10.0.3.1:/gv0',
      opts: '_netdev,backup-volfile-servers=10.0.3.2,use-readdirp=no,log-level=WARNING,log-file=/var/log/gluster.log',
      roles: ['manage', 'compute'],
      hosts: ['c-1', 'm-1'],
      packages: ['glusterfs-client'],
    }]);
    const files = renderWithSecrets(env);
    const plays = parseYaml(file(files, 'ansible/playbook.yml'), 'playbook') as Record<string, unknown>[];
    expect(plays[0]).toMatchObject({ name: 'Check that the hosts run Debian or Ubuntu', hosts: 'c-1:m-1' });
    expect(plays[1]).toMatchObject({
      hosts: 'c-1:m-1',
      tasks: [
        { name: 'Install the GlusterFS client', 'ansible.builtin.apt': { name: ['glusterfs-client'], state: 'present' } },
        { name: 'Create the mount point /grdata', 'ansible.builtin.file': { path: '{{ siteforge_prefix }}/grdata', state: 'directory' } },
        { 'ansible.posix.mount': { path: '{{ siteforge_prefix }}/grdata', src: '10.0.3.1:/gv0', fstype: 'glusterfs', state: '{{ siteforge_mount_state }}', fstab: '{{ siteforge_prefix }}/etc/fstab' } },
      ],
    });
    // the lock lists the client package, unpinned: the hosts take their apt sources' version
    expect(JSON.parse(file(files, 'artifacts.lock.json')).packages).toStrictEqual([
      { name: 'glusterfs-client', version: null, aptVersion: null, checksum: null, usedBy: ['nodes:/grdata'] },
    ]);
  });

  it('fails when a GlusterFS volume has no storage host to mount from', () => {
    const { env } = siteWithEnvironment({ cluster: false });
    expect(() => env.addHostGroup('nodes', {
      hosts: [{ name: 'm-1', address: '10.0.1.1', roles: ['manage'] }],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    })).toThrow('acme/prod/nodes: glusterfs mount /grdata needs a server: no host of the group has role storage; add a storage host or name servers');
  });

  it('refuses a GlusterFS server with an IPv6 address, which mount.glusterfs cannot take', () => {
    const { env } = siteWithEnvironment({ cluster: false });
    expect(() => env.addHostGroup('nodes', {
      hosts: [{ name: 's-1', address: 'fd00::31', roles: ['storage'] }, { name: 'm-1', address: 'fd00::11', roles: ['manage'] }],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    })).toThrow('acme/prod/nodes: glusterfs mount /grdata: server s-1 has the IPv6 address fd00::31, which mount.glusterfs cannot take (it separates servers with ":"); give the host a DNS name or an IPv4 address as its address');
    // The hosts mounting it may have IPv6 addresses: Ansible reaches them, they reach the server by name.
    expect(() => env.addHostGroup('named', {
      hosts: [{ name: 's-1', address: 'gluster-1.acme.internal', roles: ['storage'] }, { name: 'm-1', address: 'fd00::11', roles: ['manage'] }],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    })).not.toThrow();
  });
});

describe('hybrid reach', () => {
  it('gives a Kubernetes application using MySQL on VMs a selector-less Service, an EndpointSlice of the VM hosts and the Service DNS name as host', () => {
    // GIVEN MySQL on two db hosts' first one, and portal-admin on Kubernetes using it (its
    // credentials sealed for the cluster: External Secrets could not share them)
    const { env } = siteWithEnvironment({ secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }) });
    const group = env.addHostGroup('vms', { hosts: [db1, { name: 'db-2', address: '10.0.0.12', roles: ['db'] }] });
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    const admin = env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
    expect(problems(env)).toStrictEqual([]);

    // WHEN the environment renders
    const files = renderWithSecrets(env);

    // THEN the cluster gets a Service without selector and an EndpointSlice with the host address
    expect(parseYaml(file(files, 'manifests/mysql/service-mysql.yaml'), 'service')).toMatchObject({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'acme-prod' },
      spec: { type: 'ClusterIP', ports: [{ name: 'mysql', port: 3306, protocol: 'TCP', targetPort: 3306 }] },
    });
    expect((parseYaml(file(files, 'manifests/mysql/service-mysql.yaml'), 'service') as { spec: object }).spec).not.toHaveProperty('selector');
    expect(parseYaml(file(files, 'manifests/mysql/endpointslice-mysql-vm.yaml'), 'slice')).toStrictEqual({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'mysql-vm',
        namespace: 'acme-prod',
        labels: {
          'app.kubernetes.io/instance': 'mysql',
          'app.kubernetes.io/managed-by': 'siteforge',
          'app.kubernetes.io/name': 'mysql',
          'app.kubernetes.io/part-of': 'acme',
          'app.kubernetes.io/version': '5.7.43',
          'endpointslice.kubernetes.io/managed-by': 'siteforge',
          'kubernetes.io/service-name': 'mysql',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: 'mysql', port: 3306, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.0.0.11'], conditions: { ready: true }, hostname: 'db-1' }],
    });
    // AND the binding's host is the Service's cluster DNS name, from Kubernetes only
    expect(endpointOf(mysql, admin)).toStrictEqual({ host: 'mysql.acme-prod.svc', port: 3306 });
    expect(endpointOf(mysql)).toStrictEqual({ host: '10.0.0.11', port: 3306 });
    const deployment = parseYaml(file(files, 'manifests/portal-admin/deployment-portal-admin.yaml'), 'deployment') as {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'MYSQL_HOST', value: 'mysql.acme-prod.svc' }]));
    // AND the VM side still gets its play
    expect(file(files, 'ansible/playbook.yml')).toContain('hosts: mysql\n');
  });

  it('fails when an instance on VMs uses one on Kubernetes, whose cluster DNS name and Secret a VM cannot reach', () => {
    // GIVEN the portal's database on VMs, using Redis on the cluster
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [db1] });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) }).uses(redis);
    // THEN validation names the instance on VMs and what to change
    expect(problems(env)).toStrictEqual([
      'acme/prod/mysql: placed on VMs, but uses redis on Kubernetes, which VMs cannot reach (its address is a cluster DNS name and its credentials are in a Secret of the cluster); place both on VMs (Placement.vm) or both on the cluster',
    ]);
  });

  it('writes an IPv6 host address in brackets where a URL or host:port is made of it, and as it is elsewhere', () => {
    // GIVEN MySQL on a host with an IPv6 address, used by an application on another VM
    const dir = catalogCopy();
    addFixtureService(dir, 'jdbc-app');
    const copy = loadCatalog(dir);
    const { env } = siteWithEnvironment({ cluster: false });
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, address: 'fd00::11' }, { name: 'app-1', address: 'fd00::21', roles: ['app'] }] });
    const db = env.addInstance('orders-db', { service: copy.service('mysql'), settings: { database: 'orders' }, placement: Placement.vm({ group }) });
    const app = env.addInstance('orders', { service: copy.service('jdbc-app'), placement: Placement.vm({ group }) }).uses(db);
    expect(problems(env)).toStrictEqual([]);
    // WHEN it renders
    const files = renderWithSecrets(env);
    // THEN the binding's host and the instance's URL hold the address in brackets
    expect(endpointOf(db, app)).toStrictEqual({ host: '[fd00::11]', port: 3306 });
    expect((templateContext(db).instance as { url: string }).url).toBe('http://[fd00::11]:3306');
    expect(file(files, 'ansible/roles/jdbc_app/templates/orders/opt/jdbc-app/conf/jdbc.properties.j2')).toContain('url=jdbc:mysql://[fd00::11]:3306/orders\n');
    // AND Ansible connects to the address as it is
    expect(parseYaml(file(files, 'ansible/inventory.yml'), 'inventory')).toMatchObject({ all: { hosts: { 'db-1': { ansible_host: 'fd00::11' } } } });
  });

  it('lists only the primary of a Redis replication in its EndpointSlice, as the replicas take no writes, and every node of an Elasticsearch cluster', () => {
    // GIVEN Redis (replication) and Elasticsearch (cluster) on three middleware hosts, used from Kubernetes
    const { env } = siteWithEnvironment({ secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }) });
    const group = env.addHostGroup('vms', { hosts: [mw(1), mw(2), mw(3)] });
    const redis = env.addInstance('redis', { service: catalog.service('redis'), profile: 'replication', nodes: 3, placement: Placement.vm({ group }) });
    const search = env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 3, placement: Placement.vm({ group }) });
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
    env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
    env.addInstance('kibana', { service: catalog.service('kibana') }).uses(search);
    expect(problems(env)).toStrictEqual([]);

    // WHEN the environment renders
    const files = renderWithSecrets(env);

    // THEN Redis's EndpointSlice holds its first host, which the other two replicate from
    const endpoints = (name: string) => (parseYaml(file(files, `manifests/${name}/endpointslice-${name}-vm.yaml`), 'slice') as {
      endpoints: { addresses: string[]; hostname: string }[];
    }).endpoints.map((e) => [e.hostname, e.addresses]);
    expect(endpoints('redis')).toStrictEqual([['mw-1', ['10.0.1.1']]]);
    expect(file(files, 'ansible/roles/redis/templates/redis/etc/redis/redis.conf.j2')).toContain("{% if inventory_hostname != 'mw-1' %}\nreplicaof 10.0.1.1 6379\n");
    // AND Elasticsearch's lists every node, as any node serves clients
    expect(endpoints('elasticsearch')).toStrictEqual([['mw-1', ['10.0.1.1']], ['mw-2', ['10.0.1.2']], ['mw-3', ['10.0.1.3']]]);
  });

  it('refuses an EndpointSlice for a VM host known only by DNS name', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [{ name: 'db-1', address: 'db-1.acme.internal', roles: ['db'] }] });
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('redis', { service: catalog.service('redis') });
    env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(env.node.findChild('redis') as never);
    expect(() => renderWithSecrets(env)).toThrow(
      'acme/prod/mysql: portal-admin on Kubernetes uses this VM instance, so its hosts need IP addresses of one family for an EndpointSlice, but host db-1 has address "db-1.acme.internal"; give the host an IP address',
    );
  });
});

describe('the handlebars / Jinja boundary', () => {
  it('writes a { that would open a Jinja tag as a Jinja literal, and leaves other text alone', () => {
    expect(jinjaLiteral("{{ 7 * 6 }} {% raw %} {# c #} {x} {{{")).toBe("{{ '{' }}{ 7 * 6 }} {{ '{' }}% raw %} {{ '{' }}# c #} {x} {{ '{' }}{{ '{' }}{");
    expect(jinjaSafe({ a: ['{{x}}', 1, true], '{%k': null })).toStrictEqual({ a: ["{{ '{' }}{x}}", 1, true], "{{ '{' }}%k": null });
  });

  it('keeps the catalog\'s Jinja expressions and escapes the values handlebars inserts', () => {
    // GIVEN Redis on a VM with a maxmemory a person could have written anything into
    const { env } = siteWithEnvironment({ cluster: false });
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, roles: ['middleware'] }] });
    env.addInstance('cache', { service: catalog.service('redis'), placement: Placement.vm({ group }) });
    // WHEN it renders
    const conf = file(renderWithSecrets(env), 'ansible/roles/redis/templates/cache/etc/redis/redis.conf.j2');
    // THEN the Jinja expressions of the template are there for Ansible, with the vault variable name
    expect(conf).toContain(`{% set redis_password_escaped = ${vaultVariable('cache', 'redis-password')} | replace(`);
    expect(conf).toContain('requirepass "{{ redis_password_escaped }}"\n');
    expect(conf).toContain('dir {{ siteforge_prefix }}/var/lib/redis\n');
    expect(conf).toContain('maxmemory 256mb\n');
    expect(vaultVariable('cache', 'redis-password')).toBe('cache_redis_password');
  });

  it('fails on a Jinja expression written without the backslash, which handlebars would take as its own', () => {
    const dir = catalogCopy();
    writeFileSync(join(dir, 'redis', 'vm', 'redis.conf.hbs'), 'port 6379\ndir {{ siteforge_prefix }}/var/lib/redis\n');
    const copy = loadCatalog(dir);
    const { env } = siteWithEnvironment({ cluster: false });
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, roles: ['middleware'] }] });
    env.addInstance('cache', { service: copy.service('redis'), placement: Placement.vm({ group }) });
    expect(() => renderWithSecrets(env)).toThrow(/redis\/vm\/redis\.conf\.hbs:2: "siteforge_prefix" not defined/);
  });
});

describe('the ansible folder', () => {
  it('is rendered only for environments with host groups', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('mysql', { service: catalog.service('mysql') });
    expect(renderWithSecrets(env).filter((f) => f.path.startsWith('ansible/'))).toStrictEqual([]);
  });

  it('holds an inventory with one group per host role and per VM instance, plays in dependency order, and the agent', () => {
    const { env } = siteWithEnvironment({ cluster: false });
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, user: 'ops', port: 2222 }, mw(1)] });
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('logs', { service: catalog.service('elasticsearch'), placement: Placement.vm({ group }) }).uses(mysql);
    env.addInstance('cache', { service: catalog.service('redis'), placement: Placement.vm({ group }) });
    const files = renderWithSecrets(env);
    expect(parseYaml(file(files, 'ansible/inventory.yml'), 'inventory')).toStrictEqual({
      all: {
        hosts: { 'db-1': { ansible_host: '10.0.0.11', ansible_user: 'ops', ansible_port: 2222 }, 'mw-1': { ansible_host: '10.0.1.1' } },
        children: {
          db: { hosts: { 'db-1': {} } },
          middleware: { hosts: { 'mw-1': {} } },
          cache: { hosts: { 'db-1': {} } },
          logs: { hosts: { 'mw-1': {} } },
          mysql: { hosts: { 'db-1': {} } },
        },
      },
    });
    const plays = parseYaml(file(files, 'ansible/playbook.yml'), 'playbook') as { name: string; hosts: string; roles?: unknown[] }[];
    // the first play checks the OS family of every host a play applies to
    expect([plays[0].name, plays[0].hosts]).toStrictEqual(['Check that the hosts run Debian or Ubuntu', 'cache:logs:mysql']);
    // each instance's play gives its role the apt form of the service's packages, epoch included (redis-server 5:5.0.9-1)
    expect(plays.slice(1).map((p) => [p.hosts, p.roles])).toStrictEqual([
      ['cache', [{ role: 'redis', vars: { siteforge_instance: 'cache', siteforge_version: '5.0.9', siteforge_packages: ['redis-server=5:5.0.9-*', 'redis-tools=5:5.0.9-*'] } }]],
      ['mysql', [{ role: 'mysql', vars: { siteforge_instance: 'mysql', siteforge_version: '5.7.43', siteforge_packages: ['mysql-community-server=5.7.43-*', 'mysql-client=5.7.43-*', 'mysql-community-client=5.7.43-*'] } }]],
      ['logs', [{ role: 'elasticsearch', vars: { siteforge_instance: 'logs', siteforge_version: '7.8.1', siteforge_packages: ['elasticsearch=7.8.1'] } }]],
    ]);
    expect(file(files, 'ansible/roles/redis/tasks/install.yml')).toContain('  ansible.builtin.apt:\n    name: "{{ siteforge_packages }}"\n');
    expect(parseYaml(file(files, 'ansible/group_vars/mysql/main.yml'), 'vars')).toStrictEqual({
      mysql_service: 'mysql', mysql_version: '5.7.43', mysql_profile: 'single', mysql_nodes: 1, mysql_hosts: ['db-1'],
      mysql_ports: { mysql: 3306 },
      mysql_settings: { characterSet: 'utf8mb4', database: 'app', maxConnections: 500, storageSize: '8Gi', username: 'app' },
    });
    expect(file(files, 'ansible/agent/siteforge-pull.service')).toContain(
      'ExecStart=/usr/bin/ansible-pull --url https://git.acme.example.com/siteforge/acme-prod.git --directory /var/lib/siteforge/acme-prod --inventory ansible/inventory.yml --connection local --vault-password-file /etc/siteforge/acme-prod.vault-password ansible/playbook.yml\n',
    );
    expect(file(files, 'ansible/agent/siteforge-pull.timer')).toContain('OnUnitActiveSec=15min\n');
    // no credential is written anywhere: only the vault variable's name
    expect(files.filter((f) => f.path.startsWith('ansible/')).map((f) => f.content).join('\n')).not.toMatch(/password\s*[:=]\s*[^{\s"]/i);
  });
});

describe('VM mistakes in a site definition', () => {
  it('are all reported by buildSite at once, each naming its path', () => {
    // GIVEN a site with a port conflict and an instance that finds no host
    const definition = {
      name: 'lab',
      build(scope: import('constructs').Construct) {
        const site = new Site(scope, 'lab', { domain: 'lab.example.com' });
        const env = site.addEnvironment('prod');
        const group = env.addHostGroup('vms', { hosts: [db1, { name: 'lb-1', address: '10.0.0.2', roles: ['lb'] }] });
        env.addInstance('orders-db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
        env.addInstance('users-db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
        env.addInstance('logs', { service: catalog.service('elasticsearch'), placement: Placement.vm({ group }) });
        return site;
      },
    };
    // THEN building it fails with both errors
    expect(() => buildSite(definition, catalog)).toThrow(new UserErrors([
      new UserError('lab/prod/vms: port 3306 on host db-1 is bound by both orders-db and users-db; place one of them on other hosts (Placement.vm role) or lower its nodes'),
      new UserError('lab/prod/logs: no host in lab/prod/vms can run elasticsearch: it needs a host with role middleware; give hosts that role or place the instance elsewhere'),
    ]).message);
  });
});

describe('the artifacts lock of an environment with instances on VMs', () => {
  it('lists images and charts for the instances on Kubernetes and the packages, with no checksum, for those on VMs', () => {
    // GIVEN an air-gapped environment with MySQL on the cluster and MySQL and Redis on VMs
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', registryMirror: 'registry.acme.internal' });
    const env = site.addEnvironment('prod');
    env.addCluster();
    const group = env.addHostGroup('vms', { hosts: [{ ...db1, roles: ['db', 'middleware'] }] });
    env.addInstance('app-db', { service: catalog.service('mysql') });
    env.addInstance('orders-db', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('cache', { service: catalog.service('redis'), placement: Placement.vm({ group }) });

    // WHEN it renders
    const lock = JSON.parse(file(renderWithSecrets(env), 'artifacts.lock.json'));

    // THEN the image and chart are the cluster instance's alone, pulled from the mirror
    expect(lock.images).toStrictEqual([{
      source: 'docker.io/bitnami/mysql:5.7.43-debian-11-r73',
      pull: 'registry.acme.internal/bitnami/mysql:5.7.43-debian-11-r73',
      tag: '5.7.43-debian-11-r73',
      digest: null,
      usedBy: ['app-db'],
    }]);
    expect(lock.charts.map((c: { name: string; usedBy: string[] }) => [c.name, c.usedBy])).toStrictEqual([['mysql', ['app-db']]]);
    // AND the VM instances' packages are listed at the version apt installs, checksum unknown offline
    expect(lock.packages).toStrictEqual([
      { name: 'mysql-client', version: '5.7.43', aptVersion: '5.7.43-*', checksum: null, usedBy: ['orders-db'] },
      { name: 'mysql-community-client', version: '5.7.43', aptVersion: '5.7.43-*', checksum: null, usedBy: ['orders-db'] },
      { name: 'mysql-community-server', version: '5.7.43', aptVersion: '5.7.43-*', checksum: null, usedBy: ['orders-db'] },
      { name: 'redis-server', version: '5.0.9', aptVersion: '5:5.0.9-*', checksum: null, usedBy: ['cache'] },
      { name: 'redis-tools', version: '5.0.9', aptVersion: '5:5.0.9-*', checksum: null, usedBy: ['cache'] },
    ]);
  });
});
