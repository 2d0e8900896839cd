import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { Placement, Secret, Site } from '../../constructs';
import { renderEnvironmentSecurely } from '../../engine/secrets';
import { ansible, ansibleTests, hasCommand, suiteFolders, writeFiles } from './ansible-helpers';

/**
 * Credentials reach VM config files through Jinja at run time, inside each format's quotes:
 * a password holding the quote character or a backslash must come out escaped as that format
 * reads it. The real Ansible renders the templates (packages and services off, under a
 * temporary root), as on a host.
 */
describe('credentials with quotes and backslashes in VM config files', () => {
  const catalog = loadCatalog();
  // Secr3t"pa\ss'x\ : a double quote, a single quote, a backslash inside and one at the end
  const appPassword = 'Secr3t"pa\\ss\'x\\';
  const redisPassword = appPassword;
  // R00t\'pw"\ : root's, another one
  const rootPassword = 'R00t\\\'pw"\\';

  function environment() {
    const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
    const env = site.addEnvironment('local');
    const group = env.addHostGroup('machine', {
      hosts: [{ name: 'localhost', address: '127.0.0.1', roles: ['db', 'middleware'], local: true }],
    });
    env.addInstance('db', {
      service: catalog.service('mysql'),
      settings: { database: 'orders', username: 'orders_app' },
      placement: Placement.vm({ group }),
      credentials: { 'mysql-password': Secret.fromEnv('LAB_DB_PASSWORD'), 'mysql-root-password': Secret.fromEnv('LAB_DB_ROOT_PASSWORD') },
    });
    env.addInstance('cache', {
      service: catalog.service('redis'),
      placement: Placement.vm({ group }),
      credentials: { 'redis-password': Secret.fromEnv('LAB_REDIS_PASSWORD') },
    });
    return env;
  }

  const { repo, root } = suiteFolders();

  const rendered = (async () => {
    if (!ansibleTests) return undefined;
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    try {
      writeFiles(repo, renderEnvironmentSecurely(environment(), {
        outDir,
        variables: { ...process.env, LAB_DB_PASSWORD: appPassword, LAB_DB_ROOT_PASSWORD: rootPassword, LAB_REDIS_PASSWORD: redisPassword },
      }));
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    return ansible('ansible-playbook', [
      '-i', 'ansible/inventory.yml', 'ansible/playbook.yml', '--tags', 'config',
      '-e', JSON.stringify({ siteforge_root: root, siteforge_install_packages: false, siteforge_manage_services: false, ansible_become: false }),
    ], repo);
  })();

  it.skipIf(!ansibleTests)('writes the Redis password in double quotes with \\ and " escaped, as redis.conf reads quoted arguments', async () => {
    // GIVEN Redis on a VM whose password holds a double quote, backslashes and a single quote
    // WHEN the playbook writes the config files
    const run = (await rendered)!;
    expect(run.stderr + run.stdout).not.toMatch(/fatal|ERROR!/);
    expect(run.status).toBe(0);
    // THEN the password is escaped inside its double quotes: \\ for \, \" for "
    const conf = readFileSync(join(root, 'etc/redis/redis.conf'), 'utf8');
    expect(conf.split('\n').filter((line) => line.startsWith('requirepass'))).toStrictEqual([
      String.raw`requirepass "Secr3t\"pa\\ss'x\\"`,
    ]);
    // AND Redis forks and writes the pid file its unit waits for: Debian's redis-server units up
    // to 5:6.0 (Debian 10 and 11, Ubuntu 18.04 and 20.04) are Type=forking with PIDFile=/run/redis/redis-server.pid
    expect(conf.split('\n').filter((line) => /^(daemonize|pidfile) /.test(line))).toStrictEqual(['daemonize yes', `pidfile ${root}/run/redis/redis-server.pid`]);
  });

  // A user's machine may lack Redis; CI installs it (.ci/run), where this must run.
  it.skipIf(!ansibleTests || ((!hasCommand('redis-server') || !hasCommand('redis-cli')) && process.env.CI !== 'true'))('gives a real redis-server that config file, which accepts the password as it was', async () => {
    // GIVEN the redis.conf the playbook wrote, served on a Unix socket only
    const run = (await rendered)!;
    expect(run.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'siteforge-redis-'));
    const socket = join(dir, 'redis.sock');
    mkdirSync(join(root, 'var/lib/redis'), { recursive: true }); // the install steps' data directory (the run wrote config only)
    // (nothing to save at shutdown: a server that fails its final save keeps running)
    const server = spawn('redis-server', [join(root, 'etc/redis/redis.conf'), '--port', '0', '--unixsocket', socket, '--daemonize', 'no', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => server.on('exit', resolve));
    let log = '';
    server.stdout.on('data', (d) => { log += String(d); });
    server.stderr.on('data', (d) => { log += String(d); });
    try {
      // WHEN a client authenticates with the password as the vault holds it
      const cli = (...args: string[]) => new Promise<string>((resolve) => execFile('redis-cli',
        ['-s', socket, '--no-auth-warning', '-a', redisPassword, ...args], { encoding: 'utf8' }, (_error, stdout) => resolve(stdout ?? '')));
      let ping = await cli('ping');
      for (let i = 0; i < 50 && ping.trim() !== 'PONG' && server.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ping = await cli('ping');
      }
      // THEN the server read its config file (no "Unbalanced quotes") and the password is the same
      expect(log).not.toMatch(/FATAL CONFIG FILE ERROR/);
      expect(ping.trim()).toBe('PONG');
      expect(await cli('config', 'get', 'requirepass')).toBe(`requirepass\n${redisPassword}\n`);
    } finally {
      server.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!ansibleTests)("writes the MySQL password in single quotes with \\ escaped and ' doubled, as MySQL reads string literals", async () => {
    // GIVEN MySQL on a VM whose application password holds a double quote, backslashes and a single quote
    // WHEN the playbook writes the config files
    const run = (await rendered)!;
    expect(run.status).toBe(0);
    // THEN the init file's literals escape \ as \\ (a trailing \ would escape the closing quote) and ' as ''
    const sql = readFileSync(join(root, 'etc/mysql/siteforge-init.sql'), 'utf8');
    expect(sql.split('\n').filter((line) => line.includes('IDENTIFIED BY'))).toStrictEqual([
      String.raw`CREATE USER IF NOT EXISTS 'orders_app'@'%' IDENTIFIED BY 'Secr3t"pa\\ss''x\\';`,
      String.raw`ALTER USER 'orders_app'@'%' IDENTIFIED BY 'Secr3t"pa\\ss''x\\';`,
    ]);
  });

  it.skipIf(!ansibleTests)("sets root@localhost's password to the vault's mysql-root-password at every start, escaped the same way", async () => {
    // GIVEN MySQL on a VM with a root password of its own (the instance's mysql-root-password)
    // WHEN the playbook writes the config files
    const run = (await rendered)!;
    expect(run.status).toBe(0);
    // THEN the init file (run by mysqld at every start) gives root that password, not the package's default
    const sql = readFileSync(join(root, 'etc/mysql/siteforge-init.sql'), 'utf8');
    expect(sql.split('\n').filter((line) => line.includes("'root'"))).toStrictEqual([
      String.raw`ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY 'R00t\\''pw"\\';`,
    ]);
  });
});
