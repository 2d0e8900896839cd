import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { Placement, Site } from '../../constructs';
import { renderEnvironmentSecurely } from '../../engine/secrets';
import { aptPackageSpec, aptVersionPattern } from '../../constructs/ansible/packages';
import { catalogCopy } from '../helpers';
import { ansible, ansibleTests, hasCommand, suiteFolders, writeFiles } from './ansible-helpers';

/** The installed Debian version of `name` (`1:3.8-4`), split into epoch and upstream version; undefined without dpkg. */
function installedVersion(name: string): { epoch?: number; upstream: string; revision: boolean } | undefined {
  const query = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
  const match = query.status === 0 ? /^(?:(\d+):)?([^-]+)(-.*)?$/.exec(query.stdout.trim()) : null;
  if (!match) return undefined;
  return { ...(match[1] === undefined ? {} : { epoch: Number(match[1]) }), upstream: match[2], revision: match[3] !== undefined };
}

/**
 * Writes into `repo` the environment lab/local of one service on this machine: a catalog service
 * `name` at `version` on VMs declaring `packages` (lines of service.yml under `vm:`, after
 * `hostRoles`), whose install task installs `siteforge_packages` with apt (in `aptEnvironment`,
 * when given).
 */
function writePackageEnvironment(repo: string, service: { name: string; version: string; description: string; packages: readonly string[]; aptEnvironment?: string }): void {
  const catalogDir = catalogCopy();
  mkdirSync(join(catalogDir, service.name, 'vm'), { recursive: true });
  writeFileSync(join(catalogDir, service.name, 'service.yml'), [
    `name: ${service.name}`,
    `version: "${service.version}"`,
    `description: ${service.description}`,
    'category: application',
    'ports: [{ name: http, port: 8080 }]',
    'profiles: { single: { description: one node, nodes: { min: 1, max: 1 } } }',
    'placements: [vm]',
    'images: []',
    'vm:',
    '  hostRoles: [app]',
    ...service.packages,
    '  install: vm/install.yml',
    '',
  ].join('\n'));
  writeFileSync(join(catalogDir, service.name, 'values.schema.json'), JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: {} }));
  writeFileSync(join(catalogDir, service.name, 'vm', 'install.yml'), [
    `- name: Install the ${service.name} packages`,
    '  ansible.builtin.apt:',
    '    name: "{{ siteforge_packages }}"',
    '    state: present',
    ...(service.aptEnvironment === undefined ? [] : [`  environment: { APT_CONFIG: "${service.aptEnvironment}" }`]),
    '  when: siteforge_install_packages | bool',
    '',
  ].join('\n'));
  const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
  const env = site.addEnvironment('local');
  const group = env.addHostGroup('machine', { hosts: [{ name: 'localhost', address: '127.0.0.1', roles: ['app'], local: true }] });
  env.addInstance(service.name, { service: loadCatalog(catalogDir).service(service.name), placement: Placement.vm({ group }) });
  const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
  try {
    writeFiles(repo, renderEnvironmentSecurely(env, { outDir, variables: { ...process.env } }));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(catalogDir, { recursive: true, force: true });
  }
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
    // AND an environment with it on this machine
    writePackageEnvironment(repo, {
      name: 'tool',
      version: diffutils!.upstream,
      description: 'test service installing a package this machine has',
      packages: [`  packages: [{ name: diffutils, epoch: ${diffutils!.epoch}${diffutils!.revision ? '' : ', revision: false'} }]`],
    });
  }

  const check = (extra: Record<string, unknown> = {}) => ansible('ansible-playbook', [
    '-i', 'ansible/inventory.yml', 'ansible/playbook.yml', '--check',
    '-e', JSON.stringify({ siteforge_root: root, siteforge_install_packages: true, siteforge_manage_services: false, ansible_become: false, ...extra }),
  ], repo);

  it.skipIf(!runnable)('installs them as apt name=epoch:version-*, which apt finds installed (Debian versions carry their epoch)', async () => {
    // WHEN the playbook runs in check mode, packages on
    const run = await check();

    // THEN the OS check passes on this Debian-family machine and apt finds the package at that version: nothing to install
    expect(run.stderr + run.stdout).not.toMatch(/fatal|ERROR!|No package matching/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`TASK [tool : Install the tool packages]`);
    expect(run.stdout).toMatch(/TASK \[tool : Install the tool packages\] \*+\nok: \[localhost\]/);
    expect(run.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });

  it.skipIf(!runnable)('stops at once on a host whose OS family is not Debian, naming the host and its OS', async () => {
    // WHEN the facts say the host runs Rocky Linux (extra vars override the gathered facts)
    const run = await check({ ansible_facts: { os_family: 'RedHat', distribution: 'Rocky' } });

    // THEN the first play fails with the reason and no instance play runs
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('localhost runs Rocky (RedHat): the VM steps need Debian or Ubuntu');
    expect([...run.stdout.matchAll(/^PLAY \[(.*)\]/gm)].map((m) => m[1])).toStrictEqual(['Check that the hosts run Debian or Ubuntu']);
    expect(run.stdout).not.toContain('Install the tool packages');
  });
});

/**
 * The pattern against Debian versions around 5.0.9, matched as Ansible's apt module matches it:
 * Python's fnmatch.fnmatch, run by the real python3 (the interpreter Ansible runs modules with).
 */
describe('the apt version pattern of a service package', () => {
  const hasPython = hasCommand('python3');
  const VERSIONS = ['5.0.9', '5.0.9-1', '5:5.0.9-1+deb10u1', '5.0.90', '5.0.91-1', '5.0.9~rc1', '5.0.9~rc1-1', '5.0.9+dfsg-1', '5.0.9-1ubuntu0.1', '5:5.0.90-1'];

  /** Of `VERSIONS`, those Python's fnmatch finds `pattern` matches. */
  function fnmatchPython(patterns: readonly string[]): Record<string, string[]> {
    const run = spawnSync('python3', ['-c', [
      'import fnmatch, json, sys',
      'patterns, versions = json.loads(sys.argv[1])',
      'print(json.dumps({p: [v for v in versions if fnmatch.fnmatch(v, p)] for p in patterns}))',
    ].join('\n'), JSON.stringify([patterns, VERSIONS])], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    return JSON.parse(run.stdout) as Record<string, string[]>;
  }

  it.skipIf(!hasPython && process.env.CI !== 'true')('matches the upstream version with any Debian revision, not 5.0.90, 5.0.91-1, pre-releases or repacks', () => {
    // GIVEN the patterns of a package at 5.0.9 with a revision, with epoch 5, and without a revision
    const patterns = [
      aptVersionPattern({ name: 'redis-server' }, '5.0.9'),
      aptVersionPattern({ name: 'redis-server', epoch: 5 }, '5.0.9'),
      aptVersionPattern({ name: 'elasticsearch', revision: false }, '5.0.9'),
      aptVersionPattern({ name: 'elasticsearch', epoch: 5, revision: false }, '5.0.9'),
    ];
    expect(patterns).toStrictEqual(['5.0.9-*', '5:5.0.9-*', '5.0.9', '5:5.0.9']);

    // WHEN Python's fnmatch matches them against the versions
    const matched = fnmatchPython(patterns);

    // THEN each matches exactly the version 5.0.9 in its form: a pre-release (~rc1) sorts before
    // 5.0.9 and is not it; a repack (+dfsg) is another upstream version; the epoch must agree
    expect(matched).toStrictEqual({
      '5.0.9-*': ['5.0.9-1', '5.0.9-1ubuntu0.1'],
      '5:5.0.9-*': ['5:5.0.9-1+deb10u1'],
      '5.0.9': ['5.0.9'],
      '5:5.0.9': [],
    });
  });

  it('is written name=pattern in the role variables', () => {
    expect(aptPackageSpec({ name: 'redis-server', epoch: 5 }, '5.0.9')).toBe('redis-server=5:5.0.9-*');
    expect(aptPackageSpec({ name: 'elasticsearch', revision: false }, '7.8.1')).toBe('elasticsearch=7.8.1');
  });
});

/**
 * A generated playbook run with `--check` against a local apt repository (file:, trusted) that
 * holds each test package at 5.0.9 and at its neighbours 5.0.90 and 5.0.91 (and a 5.0.9~rc1),
 * through a private apt configuration (APT_CONFIG): apt's own choice (its Version pin, then
 * `apt-get --simulate install`) shows which version a host would get, without installing
 * anything or touching the machine's apt state.
 */
describe('the packages of a service on VMs, from a repository that also holds 5.0.90 and 5.0.91', () => {
  const runnable = ansibleTests && ((hasCommand('dpkg-deb') && hasCommand('dpkg-scanpackages') && hasCommand('apt-get')) || process.env.CI === 'true');
  const { repo, root } = suiteFolders();
  const apt = mkdtempSync(join(tmpdir(), 'siteforge-apt-'));
  afterAll(() => rmSync(apt, { recursive: true, force: true }));
  const PACKAGES: Record<string, readonly string[]> = {
    'siteforge-pin-revision': ['5.0.9~rc1-1', '5.0.9-1', '5.0.90-1', '5.0.91-1'],
    'siteforge-pin-native': ['5.0.9', '5.0.90', '5.0.91'],
    'siteforge-pin-epoch': ['5.0.9-1', '5:5.0.9-1+deb10u1', '5:5.0.91-1'],
    // A server that needs its tools at its own version, as redis-server needs redis-tools.
    'siteforge-pin-server': ['5.0.9-1', '5.0.91-1'],
    'siteforge-pin-tools': ['5.0.9-1', '5.0.91-1'],
  };
  /** What a test package depends on, as the control file says it. */
  const DEPENDS: Record<string, (version: string) => string> = { 'siteforge-pin-server': (version) => `siteforge-pin-tools (= ${version})` };

  if (runnable) {
    // GIVEN a local apt repository with those versions and an apt configuration reading only it
    for (const dir of ['repo', 'lists/partial', 'cache/archives/partial', 'etc/sources.list.d', 'etc/preferences.d']) mkdirSync(join(apt, dir), { recursive: true });
    for (const [name, versions] of Object.entries(PACKAGES)) {
      for (const version of versions) {
        const build = mkdtempSync(join(apt, 'build-'));
        mkdirSync(join(build, 'DEBIAN'));
        const depends = DEPENDS[name] ? `Depends: ${DEPENDS[name](version)}\n` : '';
        writeFileSync(join(build, 'DEBIAN', 'control'), `Package: ${name}\nVersion: ${version}\nArchitecture: all\n${depends}Maintainer: siteforge tests <tests@example.com>\nDescription: test package\n`);
        const deb = spawnSync('dpkg-deb', ['-Zgzip', '--build', build, join(apt, 'repo', `${name}_${version.replace(':', '%3a')}_all.deb`)], { encoding: 'utf8' });
        if (deb.status !== 0) throw new Error(deb.stderr);
        rmSync(build, { recursive: true, force: true });
      }
    }
    const scan = spawnSync('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: join(apt, 'repo'), encoding: 'utf8' });
    if (scan.status !== 0) throw new Error(scan.stderr);
    writeFileSync(join(apt, 'repo', 'Packages'), scan.stdout);
    writeFileSync(join(apt, 'status'), '');
    writeFileSync(join(apt, 'etc', 'sources.list'), `deb [trusted=yes] file:${join(apt, 'repo')} ./\n`);
    writeFileSync(join(apt, 'apt.conf'), [
      `Dir::State::lists "${join(apt, 'lists')}";`,
      `Dir::State::status "${join(apt, 'status')}";`,
      `Dir::Cache "${join(apt, 'cache')}";`,
      `Dir::Etc::sourcelist "${join(apt, 'etc', 'sources.list')}";`,
      `Dir::Etc::sourceparts "${join(apt, 'etc', 'sources.list.d')}";`,
      `Dir::Etc::preferences "${join(apt, 'etc', 'preferences')}";`,
      `Dir::Etc::preferencesparts "${join(apt, 'etc', 'preferences.d')}";`,
      'APT::Sandbox::User "root";',
      'Acquire::Languages "none";',
      '',
    ].join('\n'));
    const update = spawnSync('apt-get', ['update'], { env: { ...process.env, APT_CONFIG: join(apt, 'apt.conf') }, encoding: 'utf8' });
    if (update.status !== 0) throw new Error(update.stderr);

    // AND a service at 5.0.9 declaring the three packages (one without revision, one with epoch 5)
    writePackageEnvironment(repo, {
      name: 'pinned',
      version: '5.0.9',
      description: 'test service whose packages the repository holds at neighbouring versions',
      packages: [
        '  packages:',
        '    - { name: siteforge-pin-revision }',
        '    - { name: siteforge-pin-native, revision: false }',
        '    - { name: siteforge-pin-epoch, epoch: 5 }',
        // The tools are pinned with the server: apt would take the newest tools, which the
        // server at 5.0.9 refuses, and install nothing.
        '    - { name: siteforge-pin-server }',
        '    - { name: siteforge-pin-tools }',
      ],
      aptEnvironment: join(apt, 'apt.conf'),
    });
  }

  it.skipIf(!runnable)('has apt choose 5.0.9 with its revision (and epoch), not the newer 5.0.90 or 5.0.91', async () => {
    // WHEN the playbook runs in check mode, packages on, verbose (the apt module's output shown)
    const run = await ansible('ansible-playbook', [
      '-i', 'ansible/inventory.yml', 'ansible/playbook.yml', '--check', '-v',
      '-e', JSON.stringify({ siteforge_root: root, siteforge_install_packages: true, siteforge_manage_services: false, ansible_become: false }),
    ], repo);

    // THEN apt would install exactly the 5.0.9 of each package
    expect(run.stderr + run.stdout).not.toMatch(/fatal|ERROR!|no available installation candidate/);
    expect(run.status).toBe(0);
    const installs = [...new Set([...run.stdout.matchAll(/Inst (\S+) \((\S+) /g)].map((m) => `${m[1]}=${m[2]}`))].sort();
    expect(installs).toStrictEqual(['siteforge-pin-epoch=5:5.0.9-1+deb10u1', 'siteforge-pin-native=5.0.9', 'siteforge-pin-revision=5.0.9-1', 'siteforge-pin-server=5.0.9-1', 'siteforge-pin-tools=5.0.9-1']);
  });

  it('pins the packages a catalog server needs at its own version with it, as apt would otherwise fail on the newer ones', () => {
    // redis-server depends on redis-tools (= its version); MySQL's server on mysql-client, which
    // depends on mysql-community-client (= its version), in repo.mysql.com's 5.7 packages.
    const catalog = loadCatalog();
    const names = (service: string) => catalog.service(service).vm!.packages.map((p) => `${p.name}${p.epoch === undefined ? '' : `@${p.epoch}`}`);
    expect(names('redis')).toStrictEqual(['redis-server@5', 'redis-tools@5']);
    expect(names('mysql')).toStrictEqual(['mysql-community-server', 'mysql-client', 'mysql-community-client']);
  });
});
