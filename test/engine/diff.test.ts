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
