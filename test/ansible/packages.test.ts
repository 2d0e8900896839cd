import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { Placement, Site } from '../../constructs';
import { renderEnvironmentSecurely } from '../../engine/secrets';
import { catalogCopy } from '../helpers';
import { ansible, ansibleTests, suiteFolders, writeFiles } from './ansible-helpers';

/** The installed Debian version of `name` (`1:3.8-4`), split into epoch and upstream version; undefined without dpkg. */
function installedVersion(name: string): { epoch?: number; upstream: string } | undefined {
  const query = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
  const match = query.status === 0 ? /^(?:(\d+):)?([^-]+)(?:-.*)?$/.exec(query.stdout.trim()) : null;
  if (!match) return undefined;
  return { ...(match[1] === undefined ? {} : { epoch: Number(match[1]) }), upstream: match[2] };
}

/**
 * Real runs of a generated playbook that installs packages, with `--check` on this machine: a
 * test service declares a package this Debian or Ubuntu machine has installed, with an epoch
 * (diffutils, `1:3.8-4`), at that package's version, so apt's answer can be seen without
 * installing anything or reaching a repository.
 */
describe('the packages of a service on VMs', () => {
  const diffutils = installedVersion('diffutils');
  const runnable = ansibleTests && diffutils?.epoch !== undefined;
  const { repo, root } = suiteFolders();

  if (runnable) {
    // GIVEN a service at diffutils' version that declares the package diffutils with its epoch
    const catalogDir = catalogCopy();
    mkdirSync(join(catalogDir, 'tool', 'vm'), { recursive: true });
    writeFileSync(join(catalogDir, 'tool', 'service.yml'), [
      'name: tool',
      `version: "${diffutils!.upstream}"`,
      'description: test service installing a package this machine has',
      'category: application',
      'ports: [{ name: http, port: 8080 }]',
      'profiles: { single: { description: one node, nodes: { min: 1, max: 1 } } }',
      'placements: [vm]',
      'images: []',
      'vm:',
      '  hostRoles: [app]',
      `  packages: [{ name: diffutils, epoch: ${diffutils!.epoch} }]`,
      '  install: vm/install.yml',
      '',
    ].join('\n'));
    writeFileSync(join(catalogDir, 'tool', 'values.schema.json'), JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: {} }));
    writeFileSync(join(catalogDir, 'tool', 'vm', 'install.yml'), [
      '- name: Install the tool package',
      '  ansible.builtin.apt:',
      '    name: "{{ siteforge_packages }}"',
      '    state: present',
      '  when: siteforge_install_packages | bool',
      '',
    ].join('\n'));
    // AND an environment with it on this machine
    const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
    const env = site.addEnvironment('local');
    const group = env.addHostGroup('machine', { hosts: [{ name: 'localhost', address: '127.0.0.1', roles: ['app'], local: true }] });
    env.addInstance('tool', { service: loadCatalog(catalogDir).service('tool'), placement: Placement.vm({ group }) });
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    try {
      writeFiles(repo, renderEnvironmentSecurely(env, { outDir, variables: { ...process.env } }));
    } finally {
      rmSync(outDir, { recursive: true, force: true });
      rmSync(catalogDir, { recursive: true, force: true });
    }
  }

  const check = (extra: Record<string, unknown> = {}) => ansible('ansible-playbook', [
    '-i', 'ansible/inventory.yml', 'ansible/playbook.yml', '--check',
    '-e', JSON.stringify({ siteforge_root: root, siteforge_install_packages: true, siteforge_manage_services: false, ansible_become: false, ...extra }),
  ], repo);

  it.skipIf(!runnable)('installs them as apt name=epoch:version*, which apt finds installed (Debian versions carry their epoch)', async () => {
    // WHEN the playbook runs in check mode, packages on
    const run = await check();

    // THEN the OS check passes on this Debian-family machine and apt finds the package at that version: nothing to install
    expect(run.stderr + run.stdout).not.toMatch(/fatal|ERROR!|No package matching/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`TASK [tool : Install the tool package]`);
    expect(run.stdout).toMatch(/TASK \[tool : Install the tool package\] \*+\nok: \[localhost\]/);
    expect(run.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });

  it.skipIf(!runnable)('stops at once on a host whose OS family is not Debian, naming the host and its OS', async () => {
    // WHEN the facts say the host runs Rocky Linux (extra vars override the gathered facts)
    const run = await check({ ansible_facts: { os_family: 'RedHat', distribution: 'Rocky' } });

    // THEN the first play fails with the reason and no instance play runs
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('localhost runs Rocky (RedHat): the VM steps need Debian or Ubuntu');
    expect([...run.stdout.matchAll(/^PLAY \[(.*)\]/gm)].map((m) => m[1])).toStrictEqual(['Check that the hosts run Debian or Ubuntu']);
    expect(run.stdout).not.toContain('Install the tool package');
  });
});
