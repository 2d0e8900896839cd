import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleet } from '../../sites';
import { synth } from '../../engine';
import { buildSite } from '../../engine/fleet';
import { HOST_ROLES, type Environment } from '../../constructs';
import { builtinCatalog, tempDir } from '../helpers';
import { ansible, ansibleTests, lintTests } from './ansible-helpers';

/** Groups and hosts the inventory of `env` must hold, as `ansible-inventory --list` reports them. */
function expectedInventory(env: Environment): { groups: Record<string, string[]>; hosts: Record<string, Record<string, unknown>> } {
  const hosts = env.hostGroups.flatMap((g) => g.hosts);
  const groups: Record<string, string[]> = {};
  for (const role of HOST_ROLES) {
    const withRole = hosts.filter((h) => h.roles.includes(role)).map((h) => h.name).sort();
    if (withRole.length > 0) groups[role] = withRole;
  }
  for (const instance of env.instances.filter((i) => i.placement.kind === 'vm')) {
    groups[instance.name] = instance.hosts.map((h) => h.name).sort();
  }
  return {
    groups,
    hosts: Object.fromEntries(hosts.map((h) => [h.name, {
      ansible_host: h.address,
      ...(h.user ? { ansible_user: h.user } : {}),
      ...(h.port ? { ansible_port: h.port } : {}),
    }])),
  };
}

/**
 * Every example environment with host groups, checked with the real tools: its inventory
 * parses and matches the site definition, its playbook passes --syntax-check, and ansible-lint
 * finds nothing. ansible-lint takes seconds per folder, so it runs on one representative
 * environment per distinct set of roles and storage mounts (same generator, same role files).
 */
describe('the ansible folders of the example fleet', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'siteforge-fleet-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
  const catalog = builtinCatalog();
  await synth({ fleet, catalog, outDir });
  const environments = fleet.flatMap((definition) => buildSite(definition, catalog).environments
    .filter((env) => env.hostGroups.length > 0)
    .map((env) => ({ repo: `${definition.name}/${env.name}`, env })));

  it('include acme prod and both rainbond environments', () => {
    expect(environments.map((e) => e.repo)).toEqual(expect.arrayContaining(['acme/prod', 'rainbond/demo', 'rainbond/prod']));
  });

  for (const { repo, env } of environments) {
    it.skipIf(!ansibleTests)(`${repo}: ansible-inventory lists the groups and hosts of the site definition`, async () => {
      const run = await ansible('ansible-inventory', ['-i', 'inventory.yml', '--list'], join(outDir, repo, 'ansible'));
      expect(run.stderr).not.toMatch(/ERROR|Unable to parse/);
      expect(run.status).toBe(0);
      const listed = JSON.parse(run.stdout) as Record<string, { hosts?: string[]; children?: string[]; hostvars?: Record<string, Record<string, unknown>> }>;
      const expected = expectedInventory(env);
      const groups = Object.fromEntries(Object.entries(listed)
        .filter(([name, group]) => name !== '_meta' && name !== 'all' && group.hosts)
        .map(([name, group]) => [name, [...group.hosts!].sort()]));
      expect(groups).toStrictEqual(expected.groups);
      expect([...listed.all.children!].sort()).toStrictEqual([...Object.keys(expected.groups), 'ungrouped'].sort());
      for (const [host, connection] of Object.entries(expected.hosts)) {
        expect(listed._meta.hostvars![host]).toMatchObject({ ...connection, siteforge_root: '/', siteforge_environment: env.name });
      }
    });

    it.skipIf(!ansibleTests)(`${repo}: every role template parses as a Jinja template`, async () => {
      const dir = join(outDir, repo, 'ansible');
      const templates = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.j2')).sort();
      expect(templates.length).toBeGreaterThan(0);
      const script = 'import sys, jinja2\nenv = jinja2.Environment()\nfor f in sys.argv[1:]:\n    env.parse(open(f).read(), f)\nprint(len(sys.argv) - 1)';
      const run = await ansible('python3', ['-c', script, ...templates], dir);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(`${templates.length}\n`);
    });

    it.skipIf(!ansibleTests)(`${repo}: ansible-playbook --syntax-check passes`, async () => {
      const run = await ansible('ansible-playbook', ['-i', 'ansible/inventory.yml', 'ansible/playbook.yml', '--syntax-check'], join(outDir, repo));
      expect(run.stderr).not.toMatch(/ERROR/);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('playbook: ansible/playbook.yml');
    });
  }

  const representatives = new Map<string, string>();
  for (const { repo, env } of environments) {
    const roles = readdirSync(join(outDir, repo, 'ansible', 'roles')).sort().join(',');
    const key = `${roles};mounts=${env.hostGroups.some((g) => g.mounts.length > 0)}`;
    if (!representatives.has(key)) representatives.set(key, repo);
  }
  for (const [key, repo] of representatives) {
    it.skipIf(!lintTests)(`${repo}: ansible-lint reports no violation (representative of roles ${key})`, async () => {
      const copy = tempDir();
      cpSync(join(outDir, repo, 'ansible'), copy, { recursive: true });
      expect(existsSync(join(copy, 'playbook.yml'))).toBe(true);
      const run = await ansible('ansible-lint', ['--offline', '--nocolor', '--profile', 'production', '--strict'], copy);
      expect(run.stdout + run.stderr).toContain('Passed with production profile: 0 failure(s), 0 warning(s)');
      expect(run.status).toBe(0);
    });
  }
});
