import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { diffFleet } from '../../engine/diff';
import { formatDiff } from '../../engine/diff-format';
import { publish } from '../../engine/publish';
import { diffLines, diffTrees, MASK } from '../../engine/semantic-diff';
import { fleet } from '../../sites';
import { toYaml } from '../../constructs/yaml';
import type { Construct } from 'constructs';
import { Site } from '../../constructs';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, catalogCopy, tempDir } from '../helpers';
import { commitByHand, git } from '../git-helpers';

const files = (entries: Record<string, unknown>) =>
  new Map(Object.entries(entries).map(([path, value]) => [path, typeof value === 'string' ? value : toYaml(value)]));

const deployment = (image: string, replicas = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { replicas, template: { spec: { containers: [{ name: 'web', image, env: [{ name: 'DB_PASSWORD', value: 'hunter2' }] }] } } },
});

describe('diffTrees', () => {
  it('reports a changed object field by JSON path with its old and new value, and nothing unchanged', () => {
    const diff = diffTrees(
      files({ 'manifests/web/deployment-web.yaml': deployment('web:1'), 'manifests/web/service-web.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } } }),
      files({ 'manifests/web/deployment-web.yaml': deployment('web:2'), 'manifests/web/service-web.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } } }),
    );
    expect(diff).toStrictEqual({
      objects: [{
        change: 'changed', kind: 'Deployment', namespace: 'shop', name: 'web', file: 'manifests/web/deployment-web.yaml',
        fields: [{ change: 'changed', path: 'spec.template.spec.containers[name=web].image', old: 'web:1', new: 'web:2' }],
      }],
      files: [],
    });
  });

  it('reports added and removed objects by kind, namespace and name, even when files move', () => {
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop' }, data: { a: '1' } });
    const diff = diffTrees(files({ 'a.yaml': cm('old'), 'b.yaml': cm('kept') }), files({ 'a.yaml': cm('new'), 'moved/b.yaml': cm('kept') }));
    expect(diff.objects.map((o) => `${o.change} ${o.kind} ${o.namespace}/${o.name}`)).toStrictEqual(['added ConfigMap shop/new', 'removed ConfigMap shop/old']);
  });

  it('compares Helm values by key and other files by line', () => {
    const diff = diffTrees(
      files({ 'values/mysql.yaml': { auth: { database: 'app' }, primary: { persistence: { size: '8Gi' } } }, 'README.md': '# acme\n\nmysql 8.0\nredis 7\n' }),
      files({ 'values/mysql.yaml': { auth: { database: 'app' }, primary: { persistence: { size: '20Gi' } } }, 'README.md': '# acme\n\nmysql 8.4\nredis 7\n' }),
    );
    expect(diff.files).toStrictEqual([
      { change: 'changed', path: 'README.md', fields: [], lines: [{ change: 'removed', line: 3, text: 'mysql 8.0' }, { change: 'added', line: 3, text: 'mysql 8.4' }] },
      { change: 'changed', path: 'values/mysql.yaml', fields: [{ change: 'changed', path: 'primary.persistence.size', old: '8Gi', new: '20Gi' }], lines: [] },
    ]);
  });

  it('never shows secret values: Secret data, stringData, encryptedData, password-like keys and lines', () => {
    const secret = (value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: { password: value }, stringData: { token: value } });
    const sealed = (value: string) => ({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'shop' }, spec: { encryptedData: { password: value } } });
    const diff = diffTrees(
      files({ 's.yaml': secret('b2xk'), 'ss.yaml': sealed('AgOld'), 'd.yaml': deployment('web:1'), 'values/app.yaml': { auth: { rootPassword: 'old-pw' }, apiToken: 'tok-1' }, 'ansible/hosts.ini': 'db ansible_password=old-pw\n' }),
      files({ 's.yaml': secret('bmV3'), 'ss.yaml': sealed('AgNew'), 'd.yaml': { ...deployment('web:1'), spec: { ...deployment('web:1').spec, template: { spec: { containers: [{ name: 'web', image: 'web:1', env: [{ name: 'DB_PASSWORD', value: 'new-secret' }] }] } } } }, 'values/app.yaml': { auth: { rootPassword: 'new-pw' }, apiToken: 'tok-2' }, 'ansible/hosts.ini': 'db ansible_password=new-pw\n' }),
    );
    const text = JSON.stringify(diff);
    for (const value of ['b2xk', 'bmV3', 'AgOld', 'AgNew', 'hunter2', 'new-secret', 'old-pw', 'new-pw', 'tok-1', 'tok-2']) expect(text).not.toContain(value);
    expect(diff.objects.find((o) => o.kind === 'Secret')!.fields).toStrictEqual([
      { change: 'changed', path: 'data.password', old: MASK, new: MASK },
      { change: 'changed', path: 'stringData.token', old: MASK, new: MASK },
    ]);
    expect(diff.files.find((f) => f.path === 'ansible/hosts.ini')!.lines).toStrictEqual([
      { change: 'removed', line: 1, text: `db ansible_password=${MASK}` },
      { change: 'added', line: 1, text: `db ansible_password=${MASK}` },
    ]);
  });

  it('masks secrets inside an added subtree', () => {
    const diff = diffTrees(files({ 'values/app.yaml': { a: 1 } }), files({ 'values/app.yaml': { a: 1, auth: { user: 'u', password: 'p4ss' } } }));
    expect(diff.files[0].fields).toStrictEqual([{ change: 'added', path: 'auth', new: { user: 'u', password: MASK } }]);
  });

  it('reports an item removed from a list of scalars as removed, not every later item as changed', () => {
    // GIVEN a kustomization that loses its second resource and gains one at the end
    const kustomization = (resources: string[]) => files({ 'manifests/web/kustomization.yaml': { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources } });
    const diff = diffTrees(kustomization(['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml']), kustomization(['a.yaml', 'c.yaml', 'd.yaml', 'e.yaml']));
    // THEN the removed item is reported at its old position, the added one at its new position
    expect(diff.files).toStrictEqual([{
      change: 'changed', path: 'manifests/web/kustomization.yaml', lines: [], fields: [
        { change: 'removed', path: 'resources[1]', old: 'b.yaml' },
        { change: 'added', path: 'resources[3]', new: 'e.yaml' },
      ],
    }]);
  });

  it('matches list items without a name by their key field, and reports removed and added items as such', () => {
    // GIVEN the artifact lock, whose images have no name but a source
    const image = (source: string, tag: string, usedBy: string[]) => ({ source, tag, usedBy });
    const lock = (images: object[]) => files({ 'artifacts.lock.json': JSON.stringify({ images }) });
    // WHEN the first image goes, one is added, and another is used by one more instance
    const diff = diffTrees(
      lock([image('docker.elastic.co/elasticsearch:7.8.1', '7.8.1', ['logs']), image('docker.io/mysql:5.7.43', '5.7.43', ['db']), image('docker.io/redis:5.0.9', '5.0.9', ['cache'])]),
      lock([image('docker.io/mysql:5.7.43', '5.7.43', ['db']), image('docker.io/redis:5.0.9', '5.0.9', ['cache', 'sessions']), image('docker.io/zookeeper:3.6', '3.6', ['zk'])]),
    );
    // THEN each item is named by its source, and nothing kept is reported changed
    expect(diff.files[0].fields).toStrictEqual([
      { change: 'removed', path: 'images[source=docker.elastic.co/elasticsearch:7.8.1]', old: { source: 'docker.elastic.co/elasticsearch:7.8.1', tag: '7.8.1', usedBy: ['logs'] } },
      { change: 'added', path: 'images[source=docker.io/redis:5.0.9].usedBy[1]', new: 'sessions' },
      { change: 'added', path: 'images[source=docker.io/zookeeper:3.6]', new: { source: 'docker.io/zookeeper:3.6', tag: '3.6', usedBy: ['zk'] } },
    ]);
  });

  it('matches by name first, and by the next key field when names repeat', () => {
    // GIVEN volume mounts that mount one volume twice, so their names repeat
    const pod = (mounts: object[]) => files({ 'p.yaml': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'web', volumeMounts: mounts }] } } });
    const diff = diffTrees(
      pod([{ name: 'config', mountPath: '/etc/a', subPath: 'a' }, { name: 'config', mountPath: '/etc/b', subPath: 'b' }]),
      pod([{ name: 'config', mountPath: '/etc/b', subPath: 'b2' }]),
    );
    expect(diff.objects[0].fields).toStrictEqual([
      { change: 'removed', path: 'spec.containers[name=web].volumeMounts[mountPath=/etc/a]', old: { name: 'config', mountPath: '/etc/a', subPath: 'a' } },
      { change: 'changed', path: 'spec.containers[name=web].volumeMounts[mountPath=/etc/b].subPath', old: 'b', new: 'b2' },
    ]);
  });

  it('matches items with no key field by content, comparing an item changed in place field by field', () => {
    // GIVEN tolerations, which have no key field siteforge knows
    const pod = (tolerations: object[]) => files({ 'p.yaml': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { tolerations } } });
    const a = { operator: 'Exists', effect: 'NoSchedule' };
    const b = { operator: 'Equal', value: 'x', effect: 'NoExecute' };
    const c = { operator: 'Exists', effect: 'NoExecute' };
    // WHEN the first goes, THEN it alone is removed
    expect(diffTrees(pod([a, b, c]), pod([b, c])).objects[0].fields).toStrictEqual([{ change: 'removed', path: 'spec.tolerations[0]', old: a }]);
    // WHEN the second changes one field, THEN that field is the change
    expect(diffTrees(pod([a, b, c]), pod([a, { ...b, value: 'y' }, c])).objects[0].fields).toStrictEqual([{ change: 'changed', path: 'spec.tolerations[1].value', old: 'x', new: 'y' }]);
  });

  it('still masks the value of an item named like a credential, and only such items', () => {
    const pod = (env: object[], mounts: object[]) => files({ 'p.yaml': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'web', env, volumeMounts: mounts }] } } });
    const diff = diffTrees(pod([], [{ name: 'a', mountPath: '/etc/a' }, { name: 'a', mountPath: '/etc/b' }]), pod([{ name: 'API_TOKEN', value: 'tok-1' }], [{ name: 'a', mountPath: '/etc/a' }, { name: 'a', mountPath: '/etc/secrets' }]));
    expect(diff.objects[0].fields).toStrictEqual([
      { change: 'added', path: 'spec.containers[name=web].env[name=API_TOKEN]', new: MASK },
      { change: 'removed', path: 'spec.containers[name=web].volumeMounts[mountPath=/etc/b]', old: { name: 'a', mountPath: '/etc/b' } },
      { change: 'added', path: 'spec.containers[name=web].volumeMounts[mountPath=/etc/secrets]', new: { name: 'a', mountPath: '/etc/secrets' } },
    ]);
  });

  it('diffs lines with a longest common subsequence', () => {
    expect(diffLines('a\nb\nc\nd', 'a\nc\nd\ne')).toStrictEqual([
      { change: 'removed', line: 2, text: 'b' },
      { change: 'added', line: 4, text: 'e' },
    ]);
  });
});

describe('diffFleet', () => {
  it('reports an image change in prod as exactly one changed field', async () => {
    // GIVEN the example fleet published to its local repositories
    const outDir = tempDir();
    await publish({ fleet, catalog: builtinCatalog(), outDir, direct: true });
    // WHEN the portal-admin image tag changes in the catalog and acme/prod is diffed
    const dir = catalogCopy();
    const service = join(dir, 'portal-admin/service.yml');
    writeFileSync(service, readFileSync(service, 'utf8').replace('tag: 2.2.0-RELEASE', 'tag: 2.2.1-RELEASE'));
    const report = await diffFleet({ fleet, catalog: loadCatalog(dir), outDir, site: 'acme', env: 'prod' });
    // THEN exactly one object changed, in exactly one field
    const [prod] = report.environments;
    expect(prod).toMatchObject({ site: 'acme', env: 'prod', against: 'main', commit: git(join(outDir, '.remotes/acme-prod.git'), 'rev-parse', '--short=7', 'main') });
    expect(prod.objects).toStrictEqual([{
      change: 'changed', kind: 'Deployment', namespace: 'acme-prod', name: 'portal-admin', file: 'manifests/portal-admin/deployment-portal-admin.yaml',
      fields: [{
        change: 'changed',
        path: 'spec.template.spec.containers[name=portal-admin].image',
        old: 'registry.acme.internal:5000/koca/admin:2.2.0-RELEASE',
        new: 'registry.acme.internal:5000/koca/admin:2.2.1-RELEASE',
      }],
    }]);
    expect(prod.files.map((f) => f.path)).toStrictEqual(['artifacts.lock.json']);
    const markdown = formatDiff(report, 'markdown');
    expect(markdown).toContain('| acme/prod | main @ ');
    expect(markdown).toContain('| changed | Deployment | acme-prod | portal-admin | 1 |');
    expect(markdown).toContain('<details><summary>details</summary>');
  });

  it('reports an instance removed from an environment as its objects and list items removed, nothing shifted', async () => {
    // GIVEN shop/dev with Elasticsearch (first in the artifact lock) and MySQL, published
    const shop = (withSearch: boolean): SiteDefinition => ({
      name: 'shop',
      build(scope: Construct) {
        const site = new Site(scope, 'shop', { domain: 'shop.example.com' });
        const env = site.addEnvironment('dev');
        env.addCluster();
        if (withSearch) env.addInstance('search', { service: catalog.service('elasticsearch') });
        env.addInstance('db', { service: catalog.service('mysql') });
        return site;
      },
    });
    const catalog = builtinCatalog();
    const outDir = tempDir();
    await publish({ fleet: [shop(true)], catalog, outDir, direct: true });
    // WHEN Elasticsearch is removed and the environment diffed
    const [dev] = (await diffFleet({ fleet: [shop(false)], catalog, outDir })).environments;
    // THEN its objects are removed, and every list loses exactly its items, reported as removed
    expect(dev.objects.filter((o) => o.change !== 'removed')).toStrictEqual([{
      change: 'changed', kind: 'AppProject', namespace: 'argocd', name: 'shop-dev', file: 'apps/project.yaml',
      fields: [{ change: 'removed', path: 'spec.sourceRepos[2]', old: 'https://helm.elastic.co' }],
    }]);
    expect(dev.objects.map((o) => `${o.kind} ${o.name}`)).toContain('Application shop-dev-search');
    const fields = Object.fromEntries(dev.files.map((f) => [f.path, f.fields.map((x) => `${x.change} ${x.path}`)]));
    expect(fields['artifacts.lock.json']).toStrictEqual(['removed charts[name=elasticsearch]', 'removed images[source=docker.elastic.co/elasticsearch/elasticsearch:7.8.1]']);
    expect(fields['apps/kustomization.yaml']).toStrictEqual(['removed resources[2]']);
    expect(dev.files.flatMap((f) => f.fields).filter((f) => f.change === 'changed' && /\[\d+\]/.test(f.path))).toStrictEqual([]);
  });

  it('reports nothing for environments whose repository already holds the output', async () => {
    const outDir = tempDir();
    await publish({ fleet, catalog: builtinCatalog(), outDir, direct: true, site: 'demo' });
    const report = await diffFleet({ fleet, catalog: builtinCatalog(), outDir, site: 'demo' });
    expect(report.environments).toMatchObject([{ site: 'demo', env: 'all-in-one', objects: [], files: [] }]);
    expect(formatDiff(report, 'text')).toMatch(/^demo\/all-in-one \(.*main @ [0-9a-f]{7}\): no changes\n0 of 1 environments differ$/);
  });

  it('compares with another ref, ignoring files siteforge does not manage', async () => {
    const outDir = tempDir();
    await publish({ fleet, catalog: builtinCatalog(), outDir, direct: true, site: 'demo' });
    const remote = join(outDir, '.remotes/demo-all-in-one.git');
    const first = git(remote, 'rev-parse', 'main');
    commitByHand(remote, 'Edit README, add notes', (dir) => {
      writeFileSync(join(dir, 'README.md'), 'edited\n');
      writeFileSync(join(dir, 'NOTES.md'), 'unmanaged\n');
    });
    expect((await diffFleet({ fleet, catalog: builtinCatalog(), outDir, site: 'demo' })).environments[0].files.map((f) => f.path)).toStrictEqual(['README.md']);
    const against = await diffFleet({ fleet, catalog: builtinCatalog(), outDir, site: 'demo', against: first });
    expect(against.environments[0]).toMatchObject({ against: first, objects: [], files: [] });
  });

  it('treats a repository that does not exist yet as empty', async () => {
    const outDir = tempDir();
    const report = await diffFleet({ fleet, catalog: builtinCatalog(), outDir, site: 'demo' });
    expect(report.environments[0].against).toBe('(new repository)');
    expect(report.environments[0].objects.every((o) => o.change === 'added')).toBe(true);
  });
});

describe('formatDiff', () => {
  const report = {
    environments: [
      { site: 'acme', env: 'prod', remote: 'git@git.example.com:acme-prod.git', against: 'main', commit: 'abc1234', ...diffTrees(
        files({ 'manifests/web/deployment-web.yaml': deployment('web:1'), 'values/db.yaml': { size: '8Gi' } }),
        files({ 'manifests/web/deployment-web.yaml': deployment('web:2', 3), 'values/db.yaml': { size: '20Gi' }, 'manifests/web/service-web.yaml': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } } }),
      ) },
      { site: 'acme', env: 'dev', remote: 'git@git.example.com:acme-dev.git', against: 'main', commit: 'def5678', objects: [], files: [] },
    ],
  };

  it('prints text with one line per object, field and file, and a count', () => {
    expect(formatDiff(report, 'text')).toBe([
      'acme/prod (git@git.example.com:acme-prod.git main @ abc1234): objects: 1 added, 1 changed, 0 removed; files: 1 changed',
      '  ~ Deployment shop/web  (manifests/web/deployment-web.yaml)',
      '      spec.replicas: 1 → 3',
      '      spec.template.spec.containers[name=web].image: "web:1" → "web:2"',
      '  + Service shop/web  (manifests/web/service-web.yaml)',
      '  ~ values/db.yaml',
      '      size: "8Gi" → "20Gi"',
      'acme/dev (git@git.example.com:acme-dev.git main @ def5678): no changes',
      '1 of 2 environments differ',
    ].join('\n'));
  });

  it('prints markdown with a summary table and the details collapsed', () => {
    const markdown = formatDiff(report, 'markdown');
    expect(markdown.split('\n').slice(0, 7)).toStrictEqual([
      '## siteforge diff',
      '',
      '| environment | compared with | result |',
      '|---|---|---|',
      '| acme/prod | main @ abc1234 | objects: 1 added, 1 changed, 0 removed; files: 1 changed |',
      '| acme/dev | main @ def5678 | no changes |',
      '',
    ]);
    expect(markdown).toContain('| changed | Deployment | shop | web | 2 |\n| added | Service | shop | web | 0 |\n| changed | file | | values/db.yaml | 1 |');
    expect(markdown).toMatch(/<details><summary>details<\/summary>\n\n```diff\n~ Deployment shop\/web[\s\S]*```\n\n<\/details>/);
    expect(markdown).not.toContain('### acme/dev');
  });

  it('prints json that reads back as the report', () => {
    expect(JSON.parse(formatDiff(report, 'json'))).toStrictEqual(report);
  });
});
