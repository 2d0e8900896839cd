import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { catalogMarkdown } from '../../catalog/readme';
import { catalogCopy, runCli, tempDir } from '../helpers';

const ROOT = join(import.meta.dirname, '..', '..');

/** A copy of the catalog with `file` (relative to the catalog) changed by `edit`. */
function editedCatalog(file: string, edit: (text: string) => string): string {
  const dir = catalogCopy();
  const path = join(dir, file);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return dir;
}

describe('catalog families', () => {
  it('turns every member into a catalog service with its own version, image and ports', () => {
    const catalog = loadCatalog();
    const login = catalog.service('bk-login');
    expect({ version: login.version, ports: login.ports, images: login.images, dependencies: login.dependencies, family: login.family?.endsWith('blueking/family.yml') })
      .toStrictEqual({
        version: '6.0.0',
        ports: [{ name: 'http', port: 8003, protocol: 'TCP' }],
        images: [{ name: 'app', repository: 'registry.blueking.example/paas-ce/login', tag: '6.0.0' }],
        dependencies: ['mysql'],
        family: true,
      });
    expect(catalog.service('choerodon-gitlab-service').dependencies).toStrictEqual(['mysql', 'redis', 'gitlab']);
  });

  it('checks each member against the service schema, naming the member and its line', () => {
    const dir = editedCatalog('choerodon/family.yml', (t) => t.replace('tag: V0.1.1', 'tag: latest'));
    expect(() => loadCatalog(dir)).toThrow(/choerodon\/family\.yml:\d+: member k8s-informer: \/images\/0\/tag must be an exact version, not a moving tag/);
  });

  it('refuses a member whose pattern does not exist', () => {
    const dir = editedCatalog('blueking/family.yml', (t) => t.replace('pattern: agent\n    version', 'pattern: daemon\n    version'));
    expect(() => loadCatalog(dir)).toThrow(/blueking\/family\.yml:\d+: member bk-paasagent: pattern "daemon" is not one of platform, agent, saas/);
  });

  it('refuses a pattern that sets a member field', () => {
    const dir = editedCatalog('blueking/family.yml', (t) => t.replace('      category: platform\n', '      category: platform\n      version: "1.0.0"\n'));
    expect(() => loadCatalog(dir)).toThrow(/blueking\/family\.yml:\d+: pattern platform: version belongs to each member, not to the pattern/);
  });

  it('refuses a service defined twice', () => {
    const dir = editedCatalog('blueking/family.yml', (t) => t.replace('- name: bk-login', '- name: mysql'));
    expect(() => loadCatalog(dir)).toThrow(/mysql\/service\.yml: service "mysql" is defined twice \(also in .*blueking\/family\.yml\)/);
  });
});

describe('catalog groups', () => {
  it('loads every group with its members in order', () => {
    const catalog = loadCatalog();
    expect(catalog.groupNames()).toStrictEqual(['devops', 'logging', 'observability']);
    expect(catalog.group('observability').members.map((m) => [m.service.name, m.uses])).toStrictEqual([
      ['alertmanager', []], ['prometheus', ['alertmanager']], ['grafana', ['prometheus']],
    ]);
  });

  it('refuses a member that is not a catalog service', () => {
    const dir = editedCatalog('groups.yml', (t) => t.replace('    - sonarqube', '    - jenkins'));
    expect(() => loadCatalog(dir)).toThrow(/groups\.yml:\d+: group devops: "jenkins" is not a catalog service/);
  });

  it('refuses a member that uses one listed after it', () => {
    const dir = editedCatalog('groups.yml', (t) => t.replace('    - alertmanager\n    - name: prometheus\n      uses: [alertmanager]', '    - name: prometheus\n      uses: [alertmanager]\n    - alertmanager'));
    expect(() => loadCatalog(dir)).toThrow(/groups\.yml:\d+: group observability: prometheus uses "alertmanager", which is not listed before it in the group/);
  });

  it('refuses a member whose dependency the group does not bind', () => {
    const dir = editedCatalog('groups.yml', (t) => t.replace('    - name: grafana\n      uses: [prometheus]', '    - grafana'));
    expect(() => loadCatalog(dir)).toThrow(/groups\.yml:\d+: group observability: grafana depends on prometheus; list prometheus before it and add it to its uses/);
  });

  it('checks groups.yml against its schema', () => {
    const dir = editedCatalog('groups.yml', (t) => t.replace('  description: code, images', '  summary: code, images'));
    expect(() => loadCatalog(dir)).toThrow(/groups\.yml:\d+: \/devops has unknown field "summary"/);
  });
});

describe('catalog monitoring files', () => {
  it('refuses a dashboard that is not JSON', () => {
    const dir = editedCatalog('studio/monitor/dashboard.json', () => '{ not json');
    expect(() => loadCatalog(dir)).toThrow(/studio\/monitor\/dashboard\.json: not valid JSON/);
  });

  it('refuses a dashboard of a service that declares no metrics', () => {
    const dir = catalogCopy();
    mkdirSync(join(dir, 'nexus', 'monitor'));
    writeFileSync(join(dir, 'nexus', 'monitor', 'dashboard.json'), '{}');
    expect(() => loadCatalog(dir)).toThrow(/nexus\/monitor\/dashboard\.json: a dashboard needs metrics; declare metrics \(port, path, interval\) in .*nexus\/service\.yml/);
  });

  it('refuses a metrics port that is not one of the ports', () => {
    const dir = editedCatalog('alertmanager/service.yml', (t) => t.replace('metrics:\n  port: http', 'metrics:\n  port: web'));
    expect(() => loadCatalog(dir)).toThrow(/alertmanager\/service\.yml:\d+: metrics port "web" is not one of the ports/);
  });
});

describe('README catalog section', () => {
  it('is the catalog as generated (run npm run readme:catalog when this fails)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(catalogMarkdown(loadCatalog()));
  });

  it('sits beside a list of every example site of the fleet', async () => {
    const { fleet } = await import('../../sites');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Example sites'), readme.indexOf('\n## ', readme.indexOf('## Example sites') + 1));
    const listed = [...section.matchAll(/^- `([a-z0-9-]+)`:/gm)].map((m) => m[1]);
    expect([...listed].sort()).toStrictEqual(fleet.map((d) => d.name).sort());
  });

  it('is reported stale by catalog readme --check, and rewritten without it', async () => {
    // GIVEN a README whose catalog section lacks a service
    const dir = tempDir();
    const readme = join(dir, 'README.md');
    writeFileSync(readme, readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/^\| zookeeper .*\n/m, ''));
    // WHEN checked, THEN it fails and names the fix; WHEN rewritten, THEN the check passes
    expect(await runCli(['catalog', 'readme', '--readme', readme, '--check'])).toMatchObject({
      code: 1, err: `error: ${readme}: the catalog section differs from the catalog; run npm run readme:catalog\n`,
    });
    expect(await runCli(['catalog', 'readme', '--readme', readme])).toMatchObject({ code: 0, out: `${readme}: catalog section updated\n` });
    expect(await runCli(['catalog', 'readme', '--readme', readme, '--check'])).toMatchObject({ code: 0 });
  });

  it('refuses a README it cannot read (run from another folder, or a folder named) as invalid input, without a stack', async () => {
    // GIVEN a README path that does not exist, and one that is a folder
    const dir = tempDir();
    const missing = join(dir, 'README.md');
    // WHEN catalog readme is run on each, THEN it exits 1 naming the file and --readme
    for (const check of [['--check'], []]) {
      expect(await runCli(['catalog', 'readme', '--readme', missing, ...check])).toMatchObject({
        code: 1, out: '', err: `error: ${missing}: cannot read the README: it does not exist; give the README to update with --readme <file>\n`,
      });
    }
    expect(await runCli(['catalog', 'readme', '--readme', dir])).toMatchObject({
      code: 1, out: '', err: `error: ${dir}: cannot read the README: it is a folder, not a file; give the README to update with --readme <file>\n`,
    });
  });
});

describe('catalog commands', () => {
  it('lists every service with version, kind, placements, profiles and ports', async () => {
    const { code, out } = await runCli(['catalog', 'list']);
    expect(code).toBe(0);
    const rows = out.trim().split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows.length - 1).toBe(loadCatalog().names().length);
    expect(rows.find((r) => r[0] === 'kafka')).toStrictEqual(['kafka', '2.6.0', 'helm', 'kubernetes', 'single,cluster', '9092,9093']);
    expect(rows.find((r) => r[0] === 'harbor')).toStrictEqual(['harbor', '1.10.0', 'helm', 'kubernetes', 'single', '80']);
    expect(rows.find((r) => r[0] === 'devops-deploy-service')).toStrictEqual(['devops-deploy-service', '1.1.6', 'native', 'kubernetes', 'single,ha', '8080']);
  });

  it('shows a family member with its settings, defaults, dependencies and image', async () => {
    const { code, out } = await runCli(['catalog', 'show', 'choerodon-gitlab-service']);
    expect(code).toBe(0);
    expect(out).toContain('choerodon-gitlab-service 1.1.0 (platform)');
    expect(out).toContain('dependencies:  mysql, redis, gitlab');
    expect(out).toContain('  app: registry.choerodon.example/choerodon/choerodon-gitlab-service:1.1.0');
    expect(out).toMatch(/ {2}heap +string +"512m" +JVM heap \(-Xms and -Xmx\)/);
    expect(out).toContain('metrics: port http, path /actuator/prometheus, every 30s; Grafana dashboard included');
    expect(out).toContain('family: choerodon/family.yml (a member sharing its pattern)');
  });
});
