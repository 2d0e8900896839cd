import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { builtinCatalog, catalogCopy } from '../helpers';

describe('the vm section of service.yml', () => {
  it('gives mysql, redis and elasticsearch their host roles, bound ports, unit, tasks, config files, secrets and the hosts clients reach', () => {
    const catalog = builtinCatalog();
    const summary = (name: string) => {
      const vm = catalog.service(name).vm!;
      return {
        hostRoles: vm.hostRoles,
        ports: vm.ports.map((p) => p.port),
        unit: vm.unit,
        install: vm.install.map((t) => t.name),
        upgrade: vm.upgrade.length,
        configFiles: vm.configFiles.map((f) => [f.path, f.mode, f.owner]),
        secrets: vm.secrets,
        clientHosts: vm.clientHosts,
        packages: vm.packages,
      };
    };
    expect(summary('mysql')).toStrictEqual({
      hostRoles: ['db', 'middleware'],
      ports: [3306],
      unit: 'mysql',
      install: ['Install the MySQL server package', 'Create the MySQL data and log directories'],
      upgrade: 1,
      configFiles: [['/etc/mysql/conf.d/siteforge.cnf', '0644', undefined], ['/etc/mysql/siteforge-init.sql', '0600', 'mysql']],
      secrets: ['mysql-password', 'mysql-root-password'],
      clientHosts: 'primary',
      packages: [{ name: 'mysql-community-server' }, { name: 'mysql-client' }, { name: 'mysql-community-client' }],
    });
    expect(summary('redis')).toMatchObject({ hostRoles: ['middleware', 'db'], ports: [6379], unit: 'redis-server', secrets: ['redis-password'], clientHosts: 'primary', packages: [{ name: 'redis-server', epoch: 5 }, { name: 'redis-tools', epoch: 5 }] });
    expect(summary('elasticsearch')).toMatchObject({ hostRoles: ['middleware'], ports: [9200, 9300], unit: 'elasticsearch', secrets: [], clientHosts: 'all', packages: [{ name: 'elasticsearch' }] });
  });

  it('fails on a bound port that is not one of the ports, naming the file and line', () => {
    const dir = catalogCopy();
    const file = join(dir, 'mysql', 'service.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  hostRoles: [db, middleware]\n', '  hostRoles: [db, middleware]\n  ports: [postgres]\n'));
    expect(() => loadCatalog(dir)).toThrow(/mysql\/service\.yml:\d+: vm port "postgres" is not one of the ports/);
  });

  it('fails on an unknown host role', () => {
    const dir = catalogCopy();
    const file = join(dir, 'redis', 'service.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  hostRoles: [middleware, db]', '  hostRoles: [cache]'));
    expect(() => loadCatalog(dir)).toThrow(/redis\/service\.yml:\d+: \/vm\/hostRoles\/0 must be one of "lb", "manage", "compute", "storage", "db", "middleware", "app"/);
  });

  it('fails on a task file that is not a list of named tasks', () => {
    const dir = catalogCopy();
    writeFileSync(join(dir, 'elasticsearch', 'vm', 'upgrade.yml'), '- ansible.builtin.package:\n    name: elasticsearch\n');
    expect(() => loadCatalog(dir)).toThrow(/elasticsearch\/vm\/upgrade\.yml:1: every task needs a name \(ansible-lint rule name\[missing\]\)/);
    writeFileSync(join(dir, 'elasticsearch', 'vm', 'upgrade.yml'), 'name: not a list\n');
    expect(() => loadCatalog(dir)).toThrow(/elasticsearch\/vm\/upgrade\.yml: an Ansible task file must be a list of task mappings/);
  });

  it('fails on a package task that does not install the packages of vm.packages with apt, naming the file and line', () => {
    const dir = catalogCopy();
    const file = join(dir, 'redis', 'vm', 'install.yml');
    const install = readFileSync(file, 'utf8');
    writeFileSync(file, install.replace('name: "{{ siteforge_packages }}"', 'name: "redis-server-{{ siteforge_version }}"'));
    expect(() => loadCatalog(dir)).toThrow(/redis\/vm\/install\.yml:2: a package task installs name: "\{\{ siteforge_packages \}\}", the packages of vm\.packages in service\.yml \(which artifacts\.lock\.json lists\), got "redis-server-\{\{ siteforge_version \}\}"/);
    writeFileSync(file, install.replace('ansible.builtin.apt:', 'ansible.builtin.package:'));
    expect(() => loadCatalog(dir)).toThrow(/redis\/vm\/install\.yml:2: packages are installed with ansible\.builtin\.apt \(siteforge's VM steps target Debian and Ubuntu\), got ansible\.builtin\.package/);
  });

  it('fails on a package listed twice', () => {
    const dir = catalogCopy();
    const file = join(dir, 'elasticsearch', 'service.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    - name: elasticsearch ', '    - name: elasticsearch\n    - name: elasticsearch '));
    expect(() => loadCatalog(dir)).toThrow(/elasticsearch\/service\.yml:\d+: package elasticsearch is listed twice/);
  });

  it('fails on a missing vm file', () => {
    const dir = catalogCopy();
    rmSync(join(dir, 'redis', 'vm', 'redis.conf.hbs'));
    expect(() => loadCatalog(dir)).toThrow(/redis\/service\.yml:\d+: vm\/redis\.conf\.hbs does not exist in /);
  });
});
