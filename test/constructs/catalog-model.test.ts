import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import { Environment, SecretBackend, Site, type RenderedFile } from '../../constructs';
import { parseYaml } from '../../constructs/yaml';
import { configChecksum } from '../../constructs/kubernetes/native-workload';
import { buildSite, problemsOf } from '../../engine';
import { ACME_PROD_SEALING_CERTIFICATE } from '../../sites/acme-sealing-certificate';
import { builtinCatalog, renderWithSecrets, siteWithEnvironment } from '../helpers';

const catalog = builtinCatalog();

/** Every validation problem of the tree `env` belongs to. */
function problems(env: Environment): string[] {
  return env.node.scope!.node.findAll().flatMap((c) => c.node.validate());
}

/** The rendered file at `path`, parsed as YAML. */
function rendered(env: Environment, path: string): Record<string, any> {
  const file = renderWithSecrets(env).find((f: RenderedFile) => f.path === path);
  if (!file) throw new Error(`${path} was not rendered`);
  return parseYaml(file.content, path) as Record<string, any>;
}

function paths(env: Environment, prefix: string): string[] {
  return renderWithSecrets(env).map((f) => f.path).filter((p) => p.startsWith(prefix));
}

describe('dependencies', () => {
  it('fails when a dependency is missing, naming both services and the fix', () => {
    // GIVEN kafka without zookeeper
    const { env } = siteWithEnvironment();
    env.addInstance('kafka', { service: catalog.service('kafka') });
    // THEN validation names kafka, zookeeper and both ways out
    expect(problems(env)).toStrictEqual([
      'acme/prod/kafka: kafka depends on zookeeper, but kafka uses no zookeeper instance; add one to acme/prod and call kafka.uses(it), or set withDependencies: true',
    ]);
  });

  it('pulls in a missing dependency with withDependencies, named after its service', () => {
    // GIVEN kafka with withDependencies and no zookeeper
    const { env } = siteWithEnvironment();
    const kafka = env.addInstance('kafka', { service: catalog.service('kafka'), withDependencies: true });
    // THEN a zookeeper instance with its defaults exists and kafka uses it
    expect(env.instances.map((i) => [i.name, i.service.name, i.profile.name])).toStrictEqual([['kafka', 'kafka', 'single'], ['zookeeper', 'zookeeper', 'single']]);
    expect(kafka.dependencies.map((d) => d.name)).toStrictEqual(['zookeeper']);
    expect(problems(env)).toStrictEqual([]);
    expect(rendered(env, 'values/kafka.yaml').externalZookeeper).toStrictEqual({ servers: ['zookeeper.acme-prod.svc:2181'] });
  });

  it('binds an existing instance of the dependency rather than adding one', () => {
    // GIVEN an ensemble named zk, then kafka with withDependencies
    const { env } = siteWithEnvironment();
    const zk = env.addInstance('zk', { service: catalog.service('zookeeper'), profile: 'ensemble' });
    const kafka = env.addInstance('kafka', { service: catalog.service('kafka'), withDependencies: true });
    // THEN kafka uses zk and nothing else is added
    expect(kafka.dependencies).toStrictEqual([zk]);
    expect(env.instances.map((i) => i.name)).toStrictEqual(['zk', 'kafka']);
  });

  it('pulls in dependencies of dependencies, and shares them between instances', () => {
    // GIVEN two Choerodon backends and the GitLab one, all with withDependencies
    const { env } = siteWithEnvironment();
    env.addInstance('devops-deploy-service', { service: catalog.service('devops-deploy-service'), withDependencies: true });
    env.addInstance('choerodon-gitlab-service', { service: catalog.service('choerodon-gitlab-service'), withDependencies: true });
    // THEN one mysql, one redis and one gitlab serve them all
    expect(env.instances.map((i) => i.name).sort()).toStrictEqual(['choerodon-gitlab-service', 'devops-deploy-service', 'gitlab', 'mysql', 'redis']);
    expect(problems(env)).toStrictEqual([]);
  });
});

describe('settings', () => {
  it('names site, environment, instance and the JSON path of a bad setting', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('kafka', { service: catalog.service('kafka'), settings: { numPartitions: 0 }, withDependencies: true }))
      .toThrow('acme/prod/kafka: settings/numPartitions must be >= 1');
  });

  it('names the JSON path of a bad setting inside a list', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), settings: { routes: [{ name: 'a', url: 'ftp://x', paths: ['/a'] }] } }))
      .toThrow('acme/prod/kong: settings/routes/0/url must match pattern "^https?://[^\\s]+$"');
  });

  it('refuses two Kong routes of one name, naming it, and takes routes of different names', () => {
    const { env } = siteWithEnvironment();
    const route = (name: string, path: string) => ({ name, url: `http://${name}:8080`, paths: [path] });
    expect(() => env.addInstance('kong', { service: catalog.service('kong'), settings: { routes: [route('admin', '/a'), route('web', '/w'), route('admin', '/b')] } }))
      .toThrow('acme/prod/kong: settings/routes must not have two items with name "admin"');
    const kong = env.addInstance('gateway', { service: catalog.service('kong'), settings: { routes: [route('admin', '/a'), route('web', '/w')] } });
    expect((kong.settings.routes as { name: string }[]).map((r) => r.name)).toStrictEqual(['admin', 'web']);
  });

  it('names a missing required setting of a family member', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('app', { service: catalog.service('bk-saas-app') }))
      .toThrow('acme/prod/app: settings is missing required field "appCode"');
  });
});

describe('profiles', () => {
  it('renders an Elasticsearch cluster of 3 with quorum discovery, hard anti-affinity and a disruption budget', () => {
    // GIVEN elasticsearch in profile cluster with 3 nodes
    const { env } = siteWithEnvironment();
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 3 });
    // THEN the chart gets 3 replicas, a quorum of 2 master-eligible nodes and hard anti-affinity, and no PDB of its own
    const values = rendered(env, 'values/elasticsearch.yaml');
    expect(values).toMatchObject({ replicas: 3, minimumMasterNodes: 2, antiAffinity: 'hard', maxUnavailable: null });
    expect(values).not.toHaveProperty('clusterHealthCheckParams');
    // AND siteforge writes the PodDisruptionBudget as policy/v1 (the chart's policy/v1beta1 is gone since Kubernetes 1.25), for the chart's pods
    const budget = rendered(env, 'manifests/elasticsearch/poddisruptionbudget-elasticsearch.yaml');
    expect({ apiVersion: budget.apiVersion, name: budget.metadata.name, spec: budget.spec }).toStrictEqual({
      apiVersion: 'policy/v1', name: 'elasticsearch', spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'elasticsearch' } } },
    });
    expect(problemsOf(budget)).toStrictEqual([]);
    expect(rendered(env, 'apps/application-elasticsearch.yaml').spec.sources.map((s: { path?: string }) => s.path)).toContain('manifests/elasticsearch');
  });

  it('renders a quorum of 3 for an Elasticsearch cluster of 5', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 5 });
    expect(rendered(env, 'values/elasticsearch.yaml')).toMatchObject({ replicas: 5, minimumMasterNodes: 3 });
  });

  it('renders a single Elasticsearch node without quorum, anti-affinity or disruption budget', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch'), profile: 'single' });
    expect(rendered(env, 'values/elasticsearch.yaml')).toMatchObject({
      replicas: 1, minimumMasterNodes: 1, antiAffinity: 'soft', maxUnavailable: null, clusterHealthCheckParams: 'wait_for_status=yellow&timeout=1s',
    });
    expect(renderWithSecrets(env).filter((f) => f.path.startsWith('manifests/elasticsearch/'))).toStrictEqual([]);
  });

  it('renders a ZooKeeper ensemble listing every server, and a standalone server alone', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('zk', { service: catalog.service('zookeeper'), profile: 'ensemble' });
    env.addInstance('zk1', { service: catalog.service('zookeeper'), profile: 'single' });
    const envOf = (name: string) => Object.fromEntries((rendered(env, `manifests/${name}/statefulset-${name}.yaml`).spec.template.spec.containers[0].env as { name: string; value: string }[])
      .map((e) => [e.name, e.value]));
    expect(rendered(env, 'manifests/zk/statefulset-zk.yaml').spec.replicas).toBe(3);
    expect(envOf('zk')).toMatchObject({
      ZOO_SERVERS: 'server.1=zk-0.zk.acme-prod.svc:2888:3888;2181 server.2=zk-1.zk.acme-prod.svc:2888:3888;2181 server.3=zk-2.zk.acme-prod.svc:2888:3888;2181 ',
      ZOO_STANDALONE_ENABLED: 'false',
    });
    expect(envOf('zk1')).toMatchObject({ ZOO_SERVERS: 'server.1=localhost:2888:3888;2181', ZOO_STANDALONE_ENABLED: 'true' });
  });

  it('renders highly available Alertmanagers that gossip with every peer, and a single one with clustering off', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('am', { service: catalog.service('alertmanager'), profile: 'ha', nodes: 2 });
    env.addInstance('am1', { service: catalog.service('alertmanager') });
    const args = (name: string) => rendered(env, `manifests/${name}/statefulset-${name}.yaml`).spec.template.spec.containers[0].args;
    expect(args('am')).toStrictEqual([
      'exec /bin/alertmanager --config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager --cluster.listen-address=0.0.0.0:9094'
        + ' --cluster.peer=am-0.am.acme-prod.svc:9094 --cluster.peer=am-1.am.acme-prod.svc:9094',
    ]);
    expect(args('am1')).toStrictEqual(['exec /bin/alertmanager --config.file=/etc/alertmanager/alertmanager.yml --storage.path=/alertmanager --cluster.listen-address=']);
  });

  it('refuses an even ZooKeeper ensemble', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('zk', { service: catalog.service('zookeeper'), profile: 'ensemble', nodes: 4 });
    expect(problems(env)).toStrictEqual(['acme/prod/zk: nodes must be at least 3, not 4 or 6 or 8 for profile ensemble, got 4']);
  });

  it('renders a Kafka cluster with three-way replication and a single broker with none', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('zookeeper', { service: catalog.service('zookeeper') });
    env.addInstance('kafka', { service: catalog.service('kafka'), profile: 'cluster', withDependencies: true });
    env.addInstance('kafka1', { service: catalog.service('kafka'), withDependencies: true });
    expect(rendered(env, 'values/kafka.yaml')).toMatchObject({ replicaCount: 3, defaultReplicationFactor: 3, transactionStateLogMinIsr: 2, pdb: { create: false } });
    expect(rendered(env, 'manifests/kafka/poddisruptionbudget-kafka.yaml').spec).toStrictEqual({
      maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/instance': 'kafka', 'app.kubernetes.io/name': 'kafka' } },
    });
    const single = rendered(env, 'values/kafka1.yaml');
    expect(single).toMatchObject({ replicaCount: 1, defaultReplicationFactor: 1, transactionStateLogMinIsr: 1, pdb: { create: false } });
    expect(single).not.toHaveProperty('affinity');
    expect(renderWithSecrets(env).filter((f) => f.path.startsWith('manifests/kafka1/'))).toStrictEqual([]);
  });

  it('turns off the PodDisruptionBudget Logstash\'s chart makes by default, and writes one for scaled pipelines', () => {
    const { env } = siteWithEnvironment();
    const elasticsearch = env.addInstance('elasticsearch', { service: catalog.service('elasticsearch') });
    env.addInstance('logstash', { service: catalog.service('logstash'), profile: 'scaled' }).uses(elasticsearch);
    env.addInstance('logstash1', { service: catalog.service('logstash') }).uses(elasticsearch);
    expect(rendered(env, 'values/logstash.yaml').maxUnavailable).toBeNull();
    expect(rendered(env, 'values/logstash1.yaml').maxUnavailable).toBeNull();
    expect(rendered(env, 'manifests/logstash/poddisruptionbudget-logstash.yaml').spec).toStrictEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'logstash' } } });
    expect(renderWithSecrets(env).filter((f) => f.path.startsWith('manifests/logstash1/'))).toStrictEqual([]);
  });

  it('says in the environment README which charts write objects newer Kubernetes versions no longer serve, and the newest each applies on', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('gitlab', { service: catalog.service('gitlab') });
    env.addInstance('grafana', { service: catalog.service('grafana'), withDependencies: true });
    const readme = renderWithSecrets(env).find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain([
      '## Kubernetes versions',
      '',
      'These charts write objects in APIs that newer Kubernetes versions no longer serve; on such a cluster their sync fails:',
      '',
      '- gitlab (chart gitlab 4.4.0) writes Ingress as `extensions/v1beta1` (not served since 1.22), HorizontalPodAutoscaler as `autoscaling/v2beta1` (not served since 1.25) and PodDisruptionBudget as `policy/v1beta1` (not served since 1.25): it applies on Kubernetes 1.21 and older only.',
      '',
    ].join('\n'));
    // AND an environment whose charts all apply on Kubernetes 1.28 gets no such section
    const { env: current } = siteWithEnvironment();
    current.addInstance('grafana', { service: catalog.service('grafana'), withDependencies: true });
    expect(renderWithSecrets(current).find((f) => f.path === 'README.md')!.content).not.toContain('## Kubernetes versions');
  });

  it('keeps a quorum of a RabbitMQ cluster running through voluntary disruptions', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('rabbitmq', { service: catalog.service('rabbitmq'), profile: 'cluster', nodes: 5 });
    expect(rendered(env, 'values/rabbitmq.yaml').pdb).toStrictEqual({ create: false });
    const budget = rendered(env, 'manifests/rabbitmq/poddisruptionbudget-rabbitmq.yaml');
    expect(budget.spec).toStrictEqual({ minAvailable: 3, selector: { matchLabels: { 'app.kubernetes.io/instance': 'rabbitmq', 'app.kubernetes.io/name': 'rabbitmq' } } });
    expect(problemsOf(budget)).toStrictEqual([]);
  });

  it('binds users of Redis to the master Service its chart makes, and runs a replicated Redis on as many pods as nodes', () => {
    // GIVEN a single Redis and a replicated one, each used by an application
    const { env } = siteWithEnvironment();
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    const replicated = env.addInstance('cache', { service: catalog.service('redis'), profile: 'replication', nodes: 3, settings: { storageSize: '20Gi' } });
    env.addInstance('admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
    env.addInstance('admin2', { service: catalog.service('portal-admin') }).uses(mysql).uses(replicated);
    const namespace = env.cluster!.namespace;
    const redisHost = (app: string) => rendered(env, `manifests/${app}/deployment-${app}.yaml`).spec.template.spec.containers[0].env
      .find((e: { name: string }) => e.name === 'REDIS_HOST').value;
    // THEN each application reaches the Service bitnami's chart 10.7.16 makes for the master
    // (<fullname>-master: there is no Service named after the release without Sentinel)
    expect(redisHost('admin')).toBe(`redis-master.${namespace}.svc`);
    expect(redisHost('admin2')).toBe(`cache-master.${namespace}.svc`);
    // AND no Sentinel: with it the chart makes no master Service, only one over every pod,
    // replicas included, where writes fail
    expect(rendered(env, 'values/redis.yaml')).toMatchObject({ cluster: { enabled: false }, sentinel: { enabled: false } });
    // AND the chart runs one master and slaveCount replicas: 3 nodes are the master and 2 replicas
    expect(rendered(env, 'values/cache.yaml')).toMatchObject({ cluster: { enabled: true, slaveCount: 2 }, sentinel: { enabled: false } });
    // AND every node's volume has the size the settings give, the replicas' too
    expect(rendered(env, 'values/cache.yaml')).toMatchObject({ master: { persistence: { size: '20Gi' } }, slave: { persistence: { size: '20Gi' } } });
    expect(rendered(env, 'values/redis.yaml')).not.toHaveProperty('slave');
  });

  it('binds users of an unexposed GitLab to its webservice, the Service the chart makes for workhorse', () => {
    // GIVEN GitLab, not exposed, used by an application
    const { env } = siteWithEnvironment();
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    const gitlab = env.addInstance('gitlab', { service: catalog.service('gitlab') });
    env.addInstance('admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis).uses(gitlab);
    const appEnv = rendered(env, 'manifests/admin/deployment-admin.yaml').spec.template.spec.containers[0].env;
    // THEN its URL is the chart's <release>-webservice on workhorse's port (chart 4.4.0 makes no
    // Service named after the release)
    expect(appEnv.find((e: { name: string }) => e.name === 'GITLAB_URL').value).toBe(`http://gitlab-webservice.${env.cluster!.namespace}.svc:8181`);
  });

  it('renders distributed MinIO on every node and standalone MinIO without replicas', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('minio', { service: catalog.service('minio'), profile: 'distributed', nodes: 6 });
    env.addInstance('minio1', { service: catalog.service('minio') });
    expect(rendered(env, 'values/minio.yaml')).toMatchObject({ mode: 'distributed', replicas: 6 });
    expect(rendered(env, 'values/minio1.yaml')).toMatchObject({ mode: 'standalone' });
    expect(rendered(env, 'values/minio1.yaml')).not.toHaveProperty('replicas');
  });
});

describe('chart images and settings an air-gapped site needs', () => {
  /** An environment that pulls every image from the customer's registry. */
  function mirroredEnvironment(): Environment {
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', registryMirror: 'registry.acme.internal:5000' });
    const env = site.addEnvironment('prod');
    env.addCluster({ storageClass: 'ceph-rbd' });
    return env;
  }
  const MIRROR = /^registry\.acme\.internal:5000\//;

  it('pulls Prometheus\'s config-reload sidecar, its data-ownership init container and node-exporter from the mirror', () => {
    const env = mirroredEnvironment();
    env.addInstance('prometheus', { service: catalog.service('prometheus'), settings: { nodeExporter: true } });
    const values = rendered(env, 'values/prometheus.yaml');
    expect(values.configmapReload.prometheus.image).toStrictEqual({ repository: expect.stringMatching(MIRROR), tag: 'v0.4.0' });
    expect(values.initChownData.image).toStrictEqual({ repository: expect.stringMatching(MIRROR), tag: expect.not.stringMatching(/^latest$/) });
    expect(values.nodeExporter).toMatchObject({ enabled: true, image: { repository: expect.stringMatching(MIRROR) } });
  });

  it('pulls Harbor\'s database init container from the mirror, runs no scanner that downloads its database, and gives every volume the storage class', () => {
    const env = mirroredEnvironment();
    env.addInstance('harbor', { service: catalog.service('harbor') });
    const values = rendered(env, 'values/harbor.yaml');
    expect(values.database.internal.initContainerImage).toStrictEqual({ repository: expect.stringMatching(MIRROR), tag: expect.not.stringMatching(/^latest$/) });
    expect(values.trivy).toStrictEqual({ enabled: false });
    for (const volume of ['registry', 'jobservice', 'database', 'redis']) {
      expect(values.persistence.persistentVolumeClaim[volume].storageClass, volume).toBe('ceph-rbd');
    }
  });

  it('says in the environment README which images a chart pulls past the registry mirror, when there is one', () => {
    // GIVEN GitLab, whose chart 4.4.0 pulls images its entry cannot rewrite, in an environment with a registry mirror
    const env = mirroredEnvironment();
    env.addInstance('gitlab', { service: catalog.service('gitlab') });
    const readme = renderWithSecrets(env).find((f) => f.path === 'README.md')!.content;
    // THEN the README names them
    expect(readme).toContain([
      '## Images outside the registry mirror',
      '',
      'These charts also pull images that siteforge does not rewrite to registry.acme.internal:5000; their pods start only where those registries are reachable, or the container runtime mirrors them under their own names:',
      '',
      `- gitlab (chart gitlab 4.4.0): ${catalog.service('gitlab').helm!.imagesNotMirrored.join(', ')}`,
      '',
    ].join('\n'));
    expect(catalog.service('gitlab').helm!.imagesNotMirrored).toContain('registry.gitlab.com/gitlab-org/build/cng/gitlab-shell');
    // AND an environment without a mirror gets no such section
    const { env: direct } = siteWithEnvironment();
    direct.addInstance('gitlab', { service: catalog.service('gitlab') });
    expect(renderWithSecrets(direct).find((f) => f.path === 'README.md')!.content).not.toContain('## Images outside the registry mirror');
  });

  it('turns GitLab\'s use of a container registry off, not only the registry, as Harbor is the site\'s', () => {
    const env = mirroredEnvironment();
    env.addInstance('gitlab', { service: catalog.service('gitlab') });
    const values = rendered(env, 'values/gitlab.yaml');
    expect(values.registry).toStrictEqual({ enabled: false });
    expect(values.global.registry).toStrictEqual({ enabled: false });
    for (const component of ['webservice', 'sidekiq', 'task-runner']) expect(values.gitlab[component].registry, component).toStrictEqual({ enabled: false });
  });

  it('tells Elasticsearch\'s chart the major version, which it reads from the image name only when that is Elastic\'s own', () => {
    const env = mirroredEnvironment();
    env.addInstance('elasticsearch', { service: catalog.service('elasticsearch') });
    expect(rendered(env, 'values/elasticsearch.yaml')).toMatchObject({ image: expect.stringMatching(MIRROR), esMajorVersion: 7 });
  });

  it('puts RabbitMQ\'s ServiceMonitor in the environment\'s namespace, where the AppProject lets it be applied', () => {
    const env = mirroredEnvironment();
    env.addInstance('rabbitmq', { service: catalog.service('rabbitmq') });
    expect(rendered(env, 'values/rabbitmq.yaml').metrics.serviceMonitor).toMatchObject({ enabled: true, namespace: env.cluster!.namespace });
  });
});

describe('service groups', () => {
  it('installs observability in one line, bound as the group says', () => {
    // GIVEN the observability group
    const { env } = siteWithEnvironment();
    const installed = env.addServiceGroup(catalog.group('observability'));
    // THEN alertmanager, prometheus and grafana exist, prometheus alerts through alertmanager and grafana reads prometheus
    expect(Object.keys(installed)).toStrictEqual(['alertmanager', 'prometheus', 'grafana']);
    expect(env.instances.map((i) => [i.name, i.dependencies.map((d) => d.name)])).toStrictEqual([
      ['alertmanager', []], ['prometheus', ['alertmanager']], ['grafana', ['prometheus']],
    ]);
    expect(problems(env)).toStrictEqual([]);
    expect(rendered(env, 'values/prometheus.yaml').server.alertmanagers).toStrictEqual([{ dns_sd_configs: [{ names: ['alertmanager.acme-prod.svc'], type: 'A', port: 9093 }] }]);
    expect(rendered(env, 'values/grafana.yaml').datasources['datasources.yaml'].datasources[0].url).toBe('http://prometheus.acme-prod.svc:9090');
  });

  it('installs logging and devops with per-member props and a prefix', () => {
    const { env } = siteWithEnvironment();
    env.addServiceGroup(catalog.group('logging'), { prefix: 'log-', instances: { elasticsearch: { profile: 'cluster', nodes: 3 } } });
    env.addServiceGroup(catalog.group('devops'));
    expect(env.instances.map((i) => `${i.name}:${i.profile.name}:${i.nodes}`)).toStrictEqual([
      'log-elasticsearch:cluster:3', 'log-logstash:single:1', 'log-kibana:single:1', 'gitlab:single:1', 'harbor:single:1', 'nexus:single:1', 'sonarqube:single:1',
    ]);
    expect(rendered(env, 'values/log-kibana.yaml').elasticsearchHosts).toBe('http://log-elasticsearch.acme-prod.svc:9200');
  });

  it('refuses props for a service that is not a member of the group', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addServiceGroup(catalog.group('devops'), { instances: { jenkins: {} } }))
      .toThrow('acme/prod: service group devops has no member "jenkins"; its members are gitlab, harbor, nexus, sonarqube');
  });

  it('names the known groups when a group is unknown', () => {
    expect(() => catalog.group('security')).toThrow('unknown service group "security"; the catalog has devops, logging, observability');
  });
});

describe('monitoring', () => {
  it('gives a native service that declares metrics a ServiceMonitor and its dashboard ConfigMap', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('studio', { service: catalog.service('studio'), withDependencies: true });
    expect(rendered(env, 'manifests/studio/servicemonitor-studio.yaml')).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'studio', namespace: 'acme-prod' },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/instance': 'studio', 'app.kubernetes.io/name': 'studio' } },
        endpoints: [{ port: 'http', path: '/actuator/prometheus', interval: '30s' }],
      },
    });
    const dashboard = rendered(env, 'manifests/studio/configmap-studio-dashboard.yaml');
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['studio.json'])).toMatchObject({ uid: 'sf-ee0cb32fa08f7e3eab85', title: 'KOCA Studio (studio)' });
    expect(rendered(env, 'manifests/studio/service-studio.yaml').metadata.annotations).toStrictEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/actuator/prometheus',
    });
  });

  it('enables the chart\'s own ServiceMonitor of a chart-based service and ships its dashboard beside the values', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('mq', { service: catalog.service('rabbitmq') });
    expect(rendered(env, 'values/mq.yaml').metrics).toStrictEqual({ enabled: true, serviceMonitor: { enabled: true, namespace: 'acme-prod', interval: '30s' } });
    expect(paths(env, 'manifests/mq/')).toStrictEqual(['manifests/mq/configmap-mq-dashboard.yaml', 'manifests/mq/kustomization.yaml']);
  });

  it('gives each instance its own dashboard uid', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('studio', { service: catalog.service('studio'), withDependencies: true });
    env.addInstance('studio2', { service: catalog.service('studio'), withDependencies: true });
    const uid = (name: string) => JSON.parse(rendered(env, `manifests/${name}/configmap-${name}-dashboard.yaml`).data[`${name}.json`]).uid;
    expect(uid('studio')).not.toBe(uid('studio2'));
    expect(uid('studio2')).toMatch(/^sf-[0-9a-f]{20}$/);
  });

  it('renders no monitoring when the instance turns it off, or the service declares no metrics', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('studio', { service: catalog.service('studio'), withDependencies: true, monitoring: false });
    env.addInstance('mq', { service: catalog.service('rabbitmq'), monitoring: false });
    env.addInstance('nexus', { service: catalog.service('nexus') });
    expect(paths(env, 'manifests/studio/').filter((p) => /servicemonitor|dashboard/.test(p))).toStrictEqual([]);
    expect(rendered(env, 'values/mq.yaml').metrics.serviceMonitor.enabled).toBe(false);
    expect(paths(env, 'manifests/mq/')).toStrictEqual([]);
    expect(paths(env, 'manifests/nexus/').filter((p) => /servicemonitor|dashboard/.test(p))).toStrictEqual([]);
  });
});

describe('example sites', () => {
  it('binds the hybrid KOCA prod applications on Kubernetes to MySQL and Redis on VMs', async () => {
    const { koca } = await import('../../sites/koca');
    const site = buildSite(koca, catalog);
    const prod = site.environments.find((e) => e.name === 'prod')!;
    const placed = Object.fromEntries(prod.instances.map((i) => [i.name, i.placement.kind]));
    expect(placed).toMatchObject({ mysql: 'vm', redis: 'vm', elasticsearch: 'vm', 'portal-admin': 'kubernetes', studio: 'kubernetes', amo: 'kubernetes', kong: 'kubernetes' });
    const env = Object.fromEntries((rendered(prod, 'manifests/amo/deployment-amo.yaml').spec.template.spec.containers[0].env as { name: string; value?: string }[])
      .filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    // Pods reach the VMs through selector-less Services whose EndpointSlices list the hosts.
    expect(env).toMatchObject({ MYSQL_HOST: 'mysql.koca-prod.svc', MYSQL_PORT: '3306', REDIS_HOST: 'redis.koca-prod.svc', REDIS_PORT: '6379' });
    const slice = rendered(prod, 'manifests/mysql/endpointslice-mysql-vm.yaml');
    expect(slice.endpoints.map((e: { addresses: string[] }) => e.addresses[0])).toStrictEqual(['10.20.0.11']);
  });

  it('runs the Choerodon runtime zone\'s services in their documented versions', async () => {
    const { choerodon, CHOERODON_RUNTIME_ZONE } = await import('../../sites/choerodon');
    const site = buildSite(choerodon, catalog);
    const runtime = site.environments.find((e) => e.name === 'runtime')!;
    const versions = Object.fromEntries(runtime.instances.filter((i) => (CHOERODON_RUNTIME_ZONE as readonly string[]).includes(i.name)).map((i) => [i.name, i.service.version]));
    expect(versions).toStrictEqual({
      'k8s-informer': 'v0.1.1', 'devops-kubernetes-service': '1.1.0', 'choerodon-file-service': '1.1.0', 'devops-deploy-service': '1.1.6',
      'data-intergration-service': '1.0.0', 'data-provide-service': '1.0.1', 'data-operation-service': '1.0.0', 'mobile-cloud-service': '1.0.0',
      'deploy-front': '1.1.5', 'monitor-front': '1.0.0', 'mobile-front': '1.0.0',
    });
    expect(site.environments.map((e) => [e.name, e.cluster!.apiServer])).toStrictEqual([
      ['dev', 'https://k8s-dev.choerodon.example.com:6443'],
      ['runtime', 'https://k8s-runtime.choerodon.example.com:6443'],
      ['single-cluster', 'https://k8s.choerodon.example.com:6443'],
    ]);
  });

  it('binds the BlueKing SaaS app to MySQL, Redis and RabbitMQ in stag and prod', async () => {
    const { blueking } = await import('../../sites/blueking');
    const site = buildSite(blueking, catalog);
    expect(site.environments.map((e) => [e.name, e.instances.find((i) => i.name === 'bk-saas-app')!.dependencies.map((d) => d.name)])).toStrictEqual([
      ['stag', ['mysql', 'redis', 'rabbitmq']],
      ['prod', ['mysql', 'redis', 'rabbitmq']],
    ]);
  });
});

describe('native StatefulSets', () => {
  it('claim the storage size their service declares', () => {
    // GIVEN Nexus, a StatefulSet with 50Gi of data
    const { env } = siteWithEnvironment();
    env.addInstance('nexus', { service: catalog.service('nexus') });
    // WHEN rendered, THEN its claim template asks for that size (cdk8s-plus drops a plain string quantity in a patch)
    expect(rendered(env, 'manifests/nexus/statefulset-nexus.yaml').spec.volumeClaimTemplates).toStrictEqual([
      { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } } },
    ]);
  });
});

describe('config of native workloads', () => {
  /** acme/prod with portal-admin titled `title` (its config file application.yml shows the title). */
  function portal(title: string): Environment {
    const { env } = siteWithEnvironment();
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
    const redis = env.addInstance('redis', { service: catalog.service('redis') });
    env.addInstance('portal-admin', { service: catalog.service('portal-admin'), settings: { title } }).uses(mysql).uses(redis);
    return env;
  }
  const checksumOf = (env: Environment, file: string) => rendered(env, file).spec.template.metadata.annotations?.['checksum/config'];

  it('annotates the pod template with the sha256 of the ConfigMap data the pods mount', () => {
    // GIVEN portal-admin, whose pods mount portal-admin-config
    const env = portal('KOCA Admin');
    const config = rendered(env, 'manifests/portal-admin/configmap-portal-admin-config.yaml');
    // THEN its Deployment's pod template carries the checksum of that data
    expect(checksumOf(env, 'manifests/portal-admin/deployment-portal-admin.yaml')).toBe(configChecksum(config.data));
    expect(configChecksum(config.data)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes the pod template when the config changes, so the pods roll, and only then', () => {
    const deployment = 'manifests/portal-admin/deployment-portal-admin.yaml';
    // GIVEN the same portal twice, and once with another title in its config
    const before = checksumOf(portal('KOCA Admin'), deployment);
    // THEN the checksum is the same for the same config and differs for another
    expect(checksumOf(portal('KOCA Admin'), deployment)).toBe(before);
    expect(checksumOf(portal('KOCA Admin 2'), deployment)).not.toBe(before);
  });

  it('annotates a StatefulSet pod template too, and none of a workload without config files', () => {
    const { env } = siteWithEnvironment();
    env.addInstance('alerts', { service: catalog.service('alertmanager') });
    env.addInstance('eureka', { service: catalog.service('eureka') });
    expect(checksumOf(env, 'manifests/alerts/statefulset-alerts.yaml')).toBe(configChecksum(rendered(env, 'manifests/alerts/configmap-alerts-config.yaml').data));
    expect(checksumOf(env, 'manifests/eureka/statefulset-eureka.yaml')).toBeUndefined();
  });
});

describe('the Secrets charts read', () => {
  it('gives RabbitMQ\'s credentials Secret the Erlang cookie its chart reads through existingErlangSecret', () => {
    // GIVEN a RabbitMQ cluster (External Secrets, the default backend)
    const { env } = siteWithEnvironment();
    env.addInstance('mq', { service: catalog.service('rabbitmq'), profile: 'cluster' });
    // THEN the chart reads the password and the Erlang cookie from mq-credentials
    expect(rendered(env, 'values/mq.yaml').auth).toMatchObject({ existingPasswordSecret: 'mq-credentials', existingErlangSecret: 'mq-credentials' });
    // AND that Secret holds both keys the chart reads (rabbitmq-password, rabbitmq-erlang-cookie), generated once
    const secret = rendered(env, 'manifests/secrets/externalsecret-mq-credentials.yaml');
    expect(secret.spec.dataFrom.map((d: any) => d.rewrite[0].regexp.target)).toStrictEqual(['rabbitmq-erlang-cookie', 'rabbitmq-password']);
    expect(paths(env, 'manifests/secrets/password-')).toStrictEqual([
      'manifests/secrets/password-mq-credentials-rabbitmq-erlang-cookie.yaml', 'manifests/secrets/password-mq-credentials-rabbitmq-password.yaml',
    ]);
  });

  it('creates the Secret Grafana\'s chart reads its admin password from: generated, sealed, for the user admin', () => {
    // GIVEN the observability group in an environment with Sealed Secrets
    const { env } = siteWithEnvironment({ secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }) });
    env.addServiceGroup(catalog.group('observability'));
    // THEN the chart reads the password from grafana-admin and is told the user name, so it reads no admin-user key
    const values = rendered(env, 'values/grafana.yaml');
    expect(values.admin).toStrictEqual({ existingSecret: 'grafana-admin', passwordKey: 'admin-password' });
    expect(values.env).toStrictEqual({ GF_SECURITY_ADMIN_USER: 'admin' });
    // AND siteforge creates grafana-admin, its one key sealed (the gate in renderWithSecrets finds no plaintext)
    const sealed = rendered(env, 'manifests/secrets/sealedsecret-grafana-admin.yaml');
    expect(sealed.metadata).toMatchObject({ name: 'grafana-admin', namespace: 'acme-prod' });
    expect(Object.keys(sealed.spec.encryptedData)).toStrictEqual(['admin-password']);
  });
});

describe('charts within the AppProject', () => {
  it('keeps Grafana and Prometheus to namespaced RBAC, as the AppProject allows no cluster-scoped kind but Namespace', () => {
    // GIVEN the observability group, with node-exporter
    const { env } = siteWithEnvironment();
    env.addServiceGroup(catalog.group('observability'), { instances: { prometheus: { settings: { nodeExporter: true } } } });
    // THEN the project still permits only Namespaces cluster-wide
    expect(rendered(env, 'apps/project.yaml').spec.clusterResourceWhitelist).toStrictEqual([{ group: '', kind: 'Namespace' }]);
    // AND Grafana's chart makes a Role and RoleBinding instead of a ClusterRole and ClusterRoleBinding, and no
    // PodSecurityPolicy; its sidecar reads the dashboards of its own namespace (no searchNamespace)
    const grafana = rendered(env, 'values/grafana.yaml');
    expect(grafana.rbac).toStrictEqual({ create: true, namespaced: true, pspEnabled: false });
    expect(grafana.sidecar.dashboards).not.toHaveProperty('searchNamespace');
    // AND Prometheus's chart binds the built-in view ClusterRole in the namespace (a RoleBinding, so no ClusterRole
    // and no ClusterRoleBinding), in a chart version where that RoleBinding renders (11.16.6 and later), with no
    // kube-state-metrics (a ClusterRole of its own) and no PodSecurityPolicy
    const prometheus = rendered(env, 'values/prometheus.yaml');
    expect(prometheus.rbac).toStrictEqual({ create: true });
    expect(prometheus.server).toMatchObject({ useExistingClusterRoleName: 'view', namespaces: ['acme-prod'] });
    expect(catalog.service('prometheus').helm!.chart.version).toMatch(/^11\.16\.([6-9]|\d\d)$/);
    expect(prometheus).toMatchObject({ kubeStateMetrics: { enabled: false }, podSecurityPolicy: { enabled: false }, nodeExporter: { enabled: true } });
    // AND every Kubernetes discovery stays in the namespace, where the RoleBinding lets Prometheus read
    const jobs = prometheus.serverFiles['prometheus.yml'].scrape_configs as { job_name: string; kubernetes_sd_configs?: unknown[] }[];
    expect(jobs.map((j) => j.job_name)).toStrictEqual(['prometheus', 'kubernetes-service-endpoints', 'kubernetes-pods']);
    expect(jobs.flatMap((j) => j.kubernetes_sd_configs ?? [])).toStrictEqual([
      { role: 'endpoints', namespaces: { names: ['acme-prod'] } },
      { role: 'pod', namespaces: { names: ['acme-prod'] } },
    ]);
  });

  it('refuses kube-state-metrics for Prometheus, which needs a ClusterRole', () => {
    const { env } = siteWithEnvironment();
    expect(() => env.addInstance('prometheus', { service: catalog.service('prometheus'), settings: { kubeStateMetrics: true } }))
      .toThrow('acme/prod/prometheus: settings has unknown field "kubeStateMetrics"');
  });
});
