import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Construct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog } from '../../catalog';
import { Placement, Site, UserError, UserErrors, type Environment, type HostProps } from '../../constructs';
import { buildSite } from '../../engine/fleet';
import { catalogCopy } from '../helpers';

/**
 * A catalog with `keyed` (VM credentials `password` and `b-password`) and `clashing`
 * (credentials `version`, `admin-password`, `admin.password`, `hostname`), both on app hosts,
 * binding no port (so instances can share a host).
 */
function namesCatalog(): Catalog {
  const dir = catalogCopy();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const service = (name: string, secrets: readonly string[]) => {
    mkdirSync(join(dir, name, 'vm'), { recursive: true });
    writeFileSync(join(dir, name, 'service.yml'), [
      `name: ${name}`,
      'version: "1.0.0"',
      'description: test service with VM credentials',
      'category: application',
      'ports: []',
      'profiles: { single: { description: one node, nodes: { min: 1, max: 1 } } }',
      'placements: [vm]',
      'images: []',
      'vm:',
      '  hostRoles: [app, db]',
      `  secrets: ${JSON.stringify(secrets)}`,
      '  install: vm/install.yml',
      '',
    ].join('\n'));
    writeFileSync(join(dir, name, 'values.schema.json'), JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: {} }));
    writeFileSync(join(dir, name, 'vm', 'install.yml'), '- name: Nothing to install\n  ansible.builtin.debug:\n    msg: installed\n');
  };
  service('keyed', ['password', 'b-password']);
  service('clashing', ['version', 'admin-password', 'admin.password', 'hostname']);
  return loadCatalog(dir);
}

const catalog = namesCatalog();
const app1: HostProps = { name: 'app-1', address: '10.0.0.21', roles: ['app'] };

/** Site `shop` with environment `prod`, a host group `vms` of `hosts`, and what `more` adds. */
function site(hosts: readonly HostProps[], more: (env: Environment, vms: Placement) => void) {
  return {
    name: 'shop',
    build(scope: Construct) {
      const shop = new Site(scope, 'shop', { domain: 'shop.example.com' });
      const env = shop.addEnvironment('prod');
      const group = env.addHostGroup('vms', { hosts: [...hosts] });
      more(env, Placement.vm({ group }));
      return shop;
    },
  };
}

/** The messages building `definition` fails with, one per problem. */
function errorsOf(definition: ReturnType<typeof site>): string[] {
  try {
    buildSite(definition, catalog);
  } catch (e) {
    if (e instanceof UserErrors) return e.errors.map((x) => x.message);
    if (e instanceof UserError) return [e.message];
    throw e;
  }
  return [];
}

const RULE = 'Ansible variables are <instance>_<name>, with every character other than letters and digits made _';

describe('the Ansible variable names of an environment', () => {
  it('refuses two instances whose credentials would be one vault variable, naming both and what to rename', () => {
    // GIVEN instance a with credential b-password and instance a-b with credential password, both a_b_password
    const definition = site([app1], (env, placement) => {
      env.addInstance('a', { service: catalog.service('keyed'), placement });
      env.addInstance('a-b', { service: catalog.service('keyed'), placement });
    });

    // THEN the site is refused with one message naming both construct paths and the fix
    expect(() => buildSite(definition, catalog)).toThrow(new UserError(
      `shop/prod/a-b: credential password would be the Ansible variable a_b_password, which is already shop/prod/a's credential b-password (${RULE}), so one value would hide the other; rename a-b or a`,
    ).message);
  });

  it('accepts the same instances under names that do not meet', () => {
    // GIVEN instances a and ab: a_b_password and ab_password
    const definition = site([app1], (env, placement) => {
      env.addInstance('a', { service: catalog.service('keyed'), placement });
      env.addInstance('ab', { service: catalog.service('keyed'), placement });
    });
    // THEN nothing is refused
    expect(errorsOf(definition)).toStrictEqual([]);
  });

  it('refuses an instance whose credentials would take its own group variables, each other or a variable Ansible sets', () => {
    // GIVEN instance inventory of a service with credentials version, admin-password, admin.password and hostname
    const definition = site([app1], (env, placement) => {
      env.addInstance('inventory', { service: catalog.service('clashing'), placement });
    });

    // THEN each clash is named, with the key to rename in the service, and inventory_hostname is refused
    expect(errorsOf(definition)).toStrictEqual([
      `shop/prod/inventory: credential admin.password would be the Ansible variable inventory_admin_password, which is already its credential admin-password (${RULE}), so one value would hide the other; rename the credential key in service clashing`,
      `shop/prod/inventory: credential hostname would be the Ansible variable inventory_hostname, which Ansible sets on every host (${RULE}); rename the instance`,
      `shop/prod/inventory: credential version would be the Ansible variable inventory_version, which is already its version (group_vars/inventory/main.yml) (${RULE}), so one value would hide the other; rename the credential key in service clashing`,
    ]);
  });

  it("refuses instances whose variables would start with siteforge_ or ansible_", () => {
    // GIVEN instances siteforge (siteforge_root would be siteforge's) and ansible-become (ansible_become_password Ansible's)
    const definition = site([app1], (env, placement) => {
      env.addInstance('siteforge', { service: catalog.service('keyed'), placement });
      env.addInstance('ansible-become', { service: catalog.service('keyed'), placement });
    });

    // THEN both are refused, naming the prefix and whose it is
    expect(errorsOf(definition)).toStrictEqual([
      'shop/prod/ansible-become: instance name "ansible-become" would make Ansible variables starting with ansible_ (ansible_become_version...), a prefix Ansible keeps for its connection and special variables (ansible_host, ansible_password...); rename the instance',
      'shop/prod/siteforge: instance name "siteforge" would make Ansible variables starting with siteforge_ (siteforge_version...), a prefix siteforge keeps for the variables it sets on every host (siteforge_root, siteforge_packages...); rename the instance',
    ]);
  });
});

describe('the Ansible group names of an environment', () => {
  it('refuses a host named like the group of a host role in use or a group every inventory has', () => {
    // GIVEN a host app-1 with role app, a host named app (with role db) and one named all
    const definition = site([app1, { name: 'app', address: '10.0.0.22', roles: ['db'] }, { name: 'all', address: '10.0.0.23', roles: ['db'] }], () => {});

    // THEN both hosts are refused with the group they would be and the fix
    expect(errorsOf(definition)).toStrictEqual([
      'shop/prod/vms/app: host name "app" is also the Ansible group of the hosts with role app; Ansible would mix up the host and the group: rename the host',
      'shop/prod/vms/all: host name "all" is the Ansible group every inventory has; Ansible would mix up the host and the group: rename the host',
    ]);
  });

  it('accepts a host named like a host role no host has', () => {
    // GIVEN a host named lb, while no host has role lb
    const definition = site([app1, { name: 'lb', address: '10.0.0.24', roles: ['db'] }], () => {});
    // THEN nothing is refused
    expect(errorsOf(definition)).toStrictEqual([]);
  });
});
