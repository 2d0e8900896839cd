import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { Placement, Secret, Site, StorageMount } from '../../constructs';
import { renderEnvironmentSecurely } from '../../engine/secrets';
import { catalogCopy } from '../helpers';
import { addFixtureService, ansible, ansibleTests, suiteFolders, writeFiles } from './ansible-helpers';

/**
 * A real run of a generated playbook on this machine: a site whose one host is localhost
 * (ansible_connection=local) runs MySQL and an application using it (the fixture jdbc-app),
 * and a GlusterFS mount (fstab only), with every file written under a temporary root. Packages and services are switched off
 * (siteforge_install_packages / siteforge_manage_services), which a test machine cannot offer.
 */
describe('a generated playbook run on localhost', () => {
  const catalogDir = catalogCopy();
  addFixtureService(catalogDir, 'jdbc-app');
  const catalog = loadCatalog(catalogDir);

  function environment() {
    const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
    const env = site.addEnvironment('local');
    const group = env.addHostGroup('machine', {
      hosts: [{ name: 'localhost', address: '127.0.0.1', roles: ['db', 'app', 'manage', 'storage'], local: true }],
      mounts: [StorageMount.glusterfs({ volume: 'gv0' })],
    });
    const mysql = env.addInstance('db', {
      service: catalog.service('mysql'),
      settings: { database: 'orders', username: 'orders_app', maxConnections: 42 },
      placement: Placement.vm({ group }),
      credentials: { 'mysql-password': Secret.fromEnv('LAB_DB_PASSWORD') },
    });
    env.addInstance('app', {
      service: catalog.service('jdbc-app'),
      settings: { greeting: "{{ 7 * 6 }} and {% raw %}" },
      placement: Placement.vm({ group }),
    }).uses(mysql);
    return env;
  }

  // Reaches the host only through the generated Ansible Vault file (ansible() passes the vault password).
  const password = "s3cr'et-pw";
  const runPlaybook = async (repo: string, root: string, extra: string[] = []) => ansible('ansible-playbook', [
    '-i', 'ansible/inventory.yml', 'ansible/playbook.yml',
    '-e', JSON.stringify({
      siteforge_root: root,
      siteforge_install_packages: false,
      siteforge_manage_services: false,
      ansible_become: false,
      siteforge_mount_state: 'present',
    }),
    ...extra,
  ], repo);

  // The repository and root are shared: the upgrade test runs on what the first test installed.
  const { repo, root } = suiteFolders();

  it.skipIf(!ansibleTests)('shows no credential when run with --diff, where every file it writes is new', async () => {
    const diffRepo = mkdtempSync(join(tmpdir(), 'siteforge-repo-'));
    const diffRoot = mkdtempSync(join(tmpdir(), 'siteforge-root-'));
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    try {
      writeFiles(diffRepo, renderEnvironmentSecurely(environment(), { outDir, variables: { ...process.env, LAB_DB_PASSWORD: password } }));
      const run = await runPlaybook(diffRepo, diffRoot, ['--diff']);
      expect(run.status).toBe(0);
      // The run wrote the password (MySQL's init file), and printed the diffs of other files, not it.
      expect(readFileSync(join(diffRoot, 'etc/mysql/siteforge-init.sql'), 'utf8')).toContain(password.replace("'", "''"));
      expect(run.stdout).toContain('--- before');
      expect(run.stdout + run.stderr).not.toContain('s3cr');
    } finally {
      for (const dir of [diffRepo, diffRoot, outDir]) rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!ansibleTests)('writes the rendered config files under the root, in dependency order, and changes nothing the second time', async () => {
    // GIVEN the environment's repository
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    writeFiles(repo, renderEnvironmentSecurely(environment(), { outDir, variables: { ...process.env, LAB_DB_PASSWORD: password } }));
    rmSync(outDir, { recursive: true, force: true });

    // WHEN the playbook runs
    const first = await runPlaybook(repo, root);

    // THEN it succeeds, MySQL's play comes before the play of the application using it
    expect(first.stderr + first.stdout).not.toMatch(/fatal|ERROR!/);
    expect(first.status).toBe(0);
    expect([...first.stdout.matchAll(/^PLAY \[(.*)\]/gm)].map((m) => m[1])).toStrictEqual([
      'Check that the hosts run Debian or Ubuntu',
      'Storage 127.0.0.1:/gv0 on /grdata (manage, compute hosts)',
      'Instance db (mysql 5.7.43)',
      'Instance app (jdbc-app 1.0.0)',
    ]);
    // AND the config files hold the synth-time values and the run-time (Jinja) values
    expect(readFileSync(join(root, 'etc/mysql/conf.d/siteforge.cnf'), 'utf8')).toContain([
      '[mysqld]',
      'port = 3306',
      'bind-address = 0.0.0.0',
      `datadir = ${root}/var/lib/mysql`,
      `log-error = ${root}/var/log/mysql/error.log`,
      'character-set-server = utf8mb4',
      'max_connections = 42',
      `init-file = ${root}/etc/mysql/siteforge-init.sql`,
    ].join('\n'));
    expect(readFileSync(join(root, 'etc/mysql/siteforge-init.sql'), 'utf8')).toContain(
      "CREATE USER IF NOT EXISTS 'orders_app'@'%' IDENTIFIED BY 's3cr''et-pw';",
    );
    expect(statSync(join(root, 'etc/mysql/siteforge-init.sql')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, 'opt/jdbc-app/conf/jdbc.properties'), 'utf8')).toBe([
      '# app of lab/local',
      'url=jdbc:mysql://127.0.0.1:3306/orders',
      'username=orders_app',
      "password=s3cr'et-pw",
      'greeting={{ 7 * 6 }} and {% raw %}',
      'host=localhost',
      'instance-checked=yes',
      '',
    ].join('\n'));
    expect(statSync(join(root, 'var/lib/mysql')).isDirectory()).toBe(true);
    // AND the GlusterFS volume is in the fstab under the root (state present: no real mount)
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(
      `127.0.0.1:/gv0 ${root}/grdata glusterfs _netdev,use-readdirp=no,log-level=WARNING,log-file=/var/log/gluster.log 0 0\n`,
    );
    expect(statSync(join(root, 'opt/jdbc-app/logs')).isDirectory()).toBe(true);

    // WHEN it runs again THEN nothing changes
    const second = await runPlaybook(repo, root);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });

  it.skipIf(!ansibleTests)('runs the upgrade steps only with --tags upgrade, and the install steps only without', async () => {
    // GIVEN the environment installed by the previous test, whose run did not upgrade
    expect(() => statSync(join(root, 'opt/jdbc-app/VERSION'))).toThrow(/ENOENT/);

    // WHEN the upgrade runs
    const upgrade = await runPlaybook(repo, root, ['--tags', 'upgrade']);

    // THEN the upgrade task ran and the install tasks did not
    expect(upgrade.status).toBe(0);
    expect(readFileSync(join(root, 'opt/jdbc-app/VERSION'), 'utf8')).toBe('1.0.0\n');
    expect(upgrade.stdout).toContain('TASK [jdbc_app : Record the upgraded version]');
    expect(upgrade.stdout).not.toContain('TASK [jdbc_app : Create the application folders]');
    expect(upgrade.stdout).toMatch(/localhost\s+: ok=\d+\s+changed=1\s/);
  });
});

/**
 * An application on one host using MySQL on another: Ansible reads `group_vars/<instance>/` only
 * on the instance's own hosts, so the application's host must get the database's credentials
 * some other way (its own vault file carries them). Both inventory hosts are this machine
 * (ansible_connection=local), one root apart.
 */
describe('a generated playbook run across two inventory hosts', () => {
  const catalogDir = catalogCopy();
  addFixtureService(catalogDir, 'jdbc-app');
  const catalog = loadCatalog(catalogDir);

  it.skipIf(!ansibleTests)('gives the host of an application the credentials of the database it uses on another host', async () => {
    // GIVEN orders-db (MySQL) on h1 and an application using it on h2
    const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
    const env = site.addEnvironment('local');
    const group = env.addHostGroup('machines', {
      hosts: [
        { name: 'h1', address: '127.0.0.1', roles: ['db'], local: true },
        { name: 'h2', address: '127.0.0.2', roles: ['app'], local: true },
      ],
    });
    const db = env.addInstance('orders-db', {
      service: catalog.service('mysql'),
      settings: { database: 'orders', username: 'orders_app' },
      placement: Placement.vm({ group }),
      credentials: { 'mysql-password': Secret.fromEnv('LAB_DB_PASSWORD') },
    });
    env.addInstance('orders', { service: catalog.service('jdbc-app'), placement: Placement.vm({ group }) }).uses(db);
    expect(db.hosts.map((h) => h.name)).toStrictEqual(['h1']);
    const repo = mkdtempSync(join(tmpdir(), 'siteforge-repo-'));
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    const roots = { h1: mkdtempSync(join(tmpdir(), 'siteforge-root-')), h2: mkdtempSync(join(tmpdir(), 'siteforge-root-')) };
    try {
      writeFiles(repo, renderEnvironmentSecurely(env, { outDir, variables: { ...process.env, LAB_DB_PASSWORD: 'orders-db-pw-1' } }));
      // Each host writes under a root of its own, as two machines would.
      const run = await ansible('ansible-playbook', [
        '-i', 'ansible/inventory.yml', 'ansible/playbook.yml',
        '-e', JSON.stringify({ siteforge_install_packages: false, siteforge_manage_services: false, ansible_become: false }),
        '-e', JSON.stringify({ test_roots: roots, siteforge_root: '{{ test_roots[inventory_hostname] }}' }),
      ], repo);

      // THEN both plays run, each on its own host
      expect(run.stderr + run.stdout).not.toMatch(/fatal|ERROR!|undefined/);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/h1\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
      expect(run.stdout).toMatch(/h2\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
      // AND the application on h2 reads the database's address and password, as MySQL on h1 was given it
      expect(readFileSync(join(roots.h1, 'etc/mysql/siteforge-init.sql'), 'utf8')).toContain("IDENTIFIED BY 'orders-db-pw-1';");
      expect(readFileSync(join(roots.h2, 'opt/jdbc-app/conf/jdbc.properties'), 'utf8')).toContain([
        'url=jdbc:mysql://127.0.0.1:3306/orders',
        'username=orders_app',
        'password=orders-db-pw-1',
      ].join('\n'));
      expect(() => statSync(join(roots.h2, 'etc/mysql'))).toThrow(/ENOENT/);
    } finally {
      for (const dir of [repo, outDir, ...Object.values(roots)]) rmSync(dir, { recursive: true, force: true });
    }
  });
});
