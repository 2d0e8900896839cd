import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import { Exposure, Placement, Site } from '../../constructs';
import { buildSite } from '../../engine';
import { builtinCatalog, siteWithEnvironment } from '../helpers';

const catalog = builtinCatalog();

describe('Site', () => {
  it('refuses a name that is not an RFC 1123 label, naming the rule', () => {
    expect(() => new Site(new App(), 'Acme', { domain: 'acme.example.com' })).toThrow(
      /^Acme: site name must be an RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, got "Acme"$/,
    );
  });

  it('refuses a domain that is not a DNS name', () => {
    expect(() => new Site(new App(), 'acme', { domain: 'acme..com' })).toThrow(/^acme: domain must be a DNS name/);
  });

  it('refuses a registry mirror that is not host[:port][/path]', () => {
    expect(() => new Site(new App(), 'acme', { domain: 'acme.com', registryMirror: 'https://reg' })).toThrow(
      'acme: registryMirror must be host[:port][/path], got "https://reg"',
    );
  });

  it.each([
    'https://git.acme.internal/{site}-{env}.git', 'http://git.acme.internal/{site}-{env}.git', 'ssh://git@git.acme.internal:2222/{site}-{env}.git',
    'git://git.acme.internal/{site}-{env}.git', 'file:///srv/git/{site}-{env}.git', 'git@git.acme.internal:delivery/{site}-{env}.git',
  ])('accepts the gitRemote %j, of a form its error lists', (gitRemote) => {
    expect(new Site(new App(), 'acme', { domain: 'acme.com', gitRemote }).gitRemote).toBe(gitRemote);
    expect(() => new Site(new App(), 'acme', { domain: 'acme.com', gitRemote: 'ftp://x/{site}' })).toThrow(
      'acme: gitRemote must be an https://, http://, ssh://, git://, file:// or user@host:path URL (with {site} and {env} placeholders; no password in it), got "ftp://x/{site}"',
    );
  });
});

describe('Instance', () => {
  it('resolves the default profile, its node count and the settings defaults', () => {
    const { env } = siteWithEnvironment();
    const es = env.addInstance('elasticsearch', { service: catalog.service('elasticsearch') });
    expect({ profile: es.profile.name, nodes: es.nodes, settings: es.settings }).toStrictEqual({
      profile: 'single', nodes: 1, settings: { heapSize: '1g', storageSize: '30Gi' },
    });
  });

  it('fails when a cluster profile gets too few nodes, naming the path and the allowed counts', () => {
    const { env } = siteWithEnvironment();
    const es = env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 2 });
    expect(es.node.validate()).toStrictEqual(['acme/prod/elasticsearch: nodes must be at least 3 for profile cluster, got 2']);
  });

  it('fails on an unknown profile, listing the profiles', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'huge' }))
      .toThrow('acme/prod/es: elasticsearch has no profile "huge"; profiles are single, cluster');
  });

  it('fails on a setting of the wrong type, naming its JSON path', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('mysql', { service: catalog.service('mysql'), settings: { maxConnections: 'many' } }))
      .toThrow('acme/prod/mysql: settings/maxConnections must be an integer, got "many"');
  });

  it('fails on an unknown setting', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('mysql', { service: catalog.service('mysql'), settings: { databse: 'x' } }))
      .toThrow('acme/prod/mysql: settings has unknown field "databse"');
  });

  it('fails on a placement the service does not support', () => {
    const { env } = siteWithEnvironment();
    const group = env.addHostGroup('vms', { hosts: [{ name: 'vm1', address: '10.0.0.1', roles: ['app'] }] });
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), placement: Placement.vm({ group }) }))
      .toThrow('acme/prod/kong: kong cannot be placed on vm; it supports kubernetes');
  });

  it('fails on a resource quantity Kubernetes cannot read', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), resources: { memory: { limit: '1 GB' } } }))
      .toThrow('acme/prod/kong: resources.memory.limit must be a Kubernetes quantity such as 500m or 2Gi, got "1 GB"');
  });

  it('fails on a request above its limit, in any unit, and takes one at its limit', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), resources: { cpu: { request: '4', limit: '1500m' } } }))
      .toThrow('acme/prod/kong: resources.cpu.request (4) is above its limit (1500m); raise the limit or lower the request');
    expect(() => env.addInstance('kong2', { service: catalog.service('kong'), resources: { memory: { request: '1100Mi', limit: '1Gi' } } }))
      .toThrow('acme/prod/kong2: resources.memory.request (1100Mi) is above its limit (1Gi); raise the limit or lower the request');
    expect(env.addInstance('kong3', { service: catalog.service('kong'), resources: { memory: { request: '1024Mi', limit: '1Gi' } } }).resources.memory).toStrictEqual({ request: '1024Mi', limit: '1Gi' });
  });

  it.each(['bad', '/a b', '/{x}', ''])('fails on the Ingress path %j, which is not a URL path', (path) => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), exposure: Exposure.ingress({ path }) }))
      .toThrow(`acme/prod/kong: exposure path must start with "/" and hold only the characters of a URL path (letters, digits, and -._~!$&'()*+,;=:@%/), got ${JSON.stringify(path)}`);
  });

  it('refuses an exposure or resources a service\'s Helm values would leave out, and takes those they use', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('cache', { service: catalog.service('redis'), exposure: Exposure.ingress() }))
      .toThrow("acme/prod/cache: redis's Helm values set up no Ingress (they never read instance.host): leave exposure out");
    expect(() => env.addInstance('cache2', { service: catalog.service('redis'), resources: { cpu: { request: '1' } } }))
      .toThrow("acme/prod/cache2: redis's Helm values do not size its workload (they never read instance.resources): leave resources out, or size it through its settings");
    expect(env.addInstance('grafana', { service: catalog.service('grafana'), exposure: Exposure.ingress() }).host).toBe('grafana.acme.example.com');
    expect(env.addInstance('db', { service: catalog.service('mysql'), resources: { cpu: { request: '1' } } }).resources.cpu).toStrictEqual({ request: '1' });
  });

  it('exposes an instance on <name>.<site domain> by default', () => {
    const { env } = siteWithEnvironment();
    const kong = env.addInstance('kong', { service: catalog.service('kong'), exposure: Exposure.ingress() });
    expect(kong.host).toBe('kong.acme.example.com');
  });

  it('refuses a second instance with the same name', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('mysql', { service: catalog.service('mysql') });
    expect(() => env.addInstance('mysql', { service: catalog.service('mysql') }))
      .toThrow('acme/prod/mysql: acme/prod already has an instance or host group named "mysql"');
  });

  it('takes a StatefulSet name of 52 characters and a Deployment name of 63, and no StatefulSet name longer', () => {
    const { env } = siteWithEnvironment();
    expect(env.addInstance(`zk-${'a'.repeat(49)}`, { service: catalog.service('zookeeper') }).name).toHaveLength(52);
    expect(env.addInstance(`web-${'a'.repeat(59)}`, { service: catalog.service('koca-website') }).name).toHaveLength(63);
    expect(() => env.addInstance(`zk-${'b'.repeat(50)}`, { service: catalog.service('zookeeper') })).toThrow(/must be at most 52 characters, as it names a StatefulSet/);
  });

  it('refuses instance names that escape a folder', () => {
    const { env } = siteWithEnvironment();
    for (const name of ['../x', 'a/b', '', ' mysql', 'MySQL']) {
      expect(() => env.addInstance(name, { service: catalog.service('mysql') })).toThrow(/instance name must/);
    }
  });
});

describe('validation of a whole site', () => {
  function siteDefinition(build: (env: ReturnType<typeof siteWithEnvironment>['env']) => void) {
    return {
      name: 'acme',
      build: (scope: import('constructs').Construct) => {
        const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
        const env = site.addEnvironment('prod');
        env.addCluster();
        build(env);
        return site;
      },
    };
  }

  it('fails when a dependency is not bound, naming both services', () => {
    const definition = siteDefinition((env) => {
      env.addInstance('mysql', { service: catalog.service('mysql') });
      env.addInstance('portal-admin', { service: catalog.service('portal-admin') });
    });
    expect(() => buildSite(definition, catalog)).toThrow(
      /acme\/prod\/portal-admin: portal-admin depends on mysql, but portal-admin uses no mysql instance; add one to acme\/prod and call portal-admin.uses\(it\)/,
    );
  });

  it('reports every problem at once', () => {
    const definition = siteDefinition((env) => {
      env.addInstance('portal-admin', { service: catalog.service('portal-admin') });
    });
    expect(() => buildSite(definition, catalog)).toThrow(/depends on mysql[\s\S]*depends on redis/);
  });

  it('fails on a dependency cycle, listing it in order', () => {
    const definition = siteDefinition((env) => {
      const a = env.addInstance('a', { service: catalog.service('redis') });
      const b = env.addInstance('b', { service: catalog.service('redis') });
      const c = env.addInstance('c', { service: catalog.service('redis') });
      a.uses(b); b.uses(c); c.uses(a);
    });
    expect(() => buildSite(definition, catalog)).toThrow('acme/prod: dependency cycle: a -> b -> c -> a; remove one of these uses()');
  });

  it('fails when an instance is placed on Kubernetes in an environment without a cluster', () => {
    const definition = {
      name: 'acme',
      build: (scope: import('constructs').Construct) => {
        const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
        site.addEnvironment('prod').addInstance('redis', { service: catalog.service('redis') });
        return site;
      },
    };
    expect(() => buildSite(definition, catalog)).toThrow('acme/prod/redis: placed on Kubernetes, but acme/prod has no cluster; call addCluster() on it or place the instance on VMs');
  });

  it('orders instances so that each comes after what it uses', () => {
    const { env } = siteWithEnvironment();
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    env.addInstance('admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
    expect(env.instancesInDependencyOrder().map((i) => i.name)).toStrictEqual(['mysql', 'redis', 'admin']);
  });
});
