import type { Environment } from '../environment';
import type { Instance } from '../instance';
import { byName } from '../names';
import { INSTANCE_VARIABLES, ansibleIdentifier, instanceVariable, vaultVariable } from './variables';

/** Where an Ansible variable of an instance on VMs comes from, for messages. */
interface VariableOrigin {
  readonly instance: Instance;
  /** `credential b-password` or `version (group_vars/a/main.yml)`. */
  readonly what: string;
}

/** Prefixes of variables that are not an instance's: siteforge's own, and Ansible's. */
const RESERVED_PREFIXES: Readonly<Record<string, string>> = {
  siteforge_: 'siteforge keeps for the variables it sets on every host (siteforge_root, siteforge_packages...)',
  ansible_: 'Ansible keeps for its connection and special variables (ansible_host, ansible_password...)',
};

/**
 * The variables Ansible itself sets on every host, other than `ansible_*`, whose names an
 * instance's variables could take (`inventory` + key `hostname`): ansible-core's
 * `vars/manager.py` (`_get_magic_variables`) and `inventory/host.py`.
 */
const ANSIBLE_MAGIC = new Set(['group_names', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short', 'play_hosts', 'playbook_dir', 'role_name', 'role_names', 'role_path', 'role_uuid']);

/** Groups every Ansible inventory has. */
const IMPLICIT_GROUPS = ['all', 'ungrouped'];

/**
 * Names the Ansible renderer would give twice in `env`, or that Ansible or siteforge already
 * use, one message each (starting with the construct path):
 * - the variables of the instances on VMs: `<instance>_<name>` of `group_vars/<instance>/main.yml`
 *   and `<instance>_<key>` of each credential (the vault), with every character other than
 *   letters and digits made `_`, so `a` with credential `b-password` and `a-b` with `password`
 *   are both `a_b_password`, and a credential `version` is the instance's `<instance>_version`.
 *   Ansible would keep one value and use it for both, silently. Instances named `siteforge`,
 *   `siteforge-*`, `ansible` or `ansible-*` would define variables in siteforge's or Ansible's
 *   namespace (`siteforge_`, `ansible_`);
 * - host names against the inventory's groups of host roles in use and Ansible's `all` and
 *   `ungrouped`: such a host would be both host and group. (Hosts named like an instance or a
 *   host group are the environment's check, `hostNameProblems`; instances named like a host
 *   role, a host, `all` or `ungrouped`, the host group's.)
 * Instance, host and service names are DNS labels, so the other generated names (host_vars
 * files, group_vars folders, role folders, port names in `<instance>_ports`) cannot collide.
 */
export function ansibleNameProblems(env: Environment): string[] {
  const problems: string[] = [];
  const vm = env.instances.filter((i) => i.placement.kind === 'vm').sort(byName);
  const hosts = env.hostGroups.flatMap((g) => g.hosts);
  const roleGroups = new Set(hosts.flatMap((h) => h.roles));
  const rule = 'Ansible variables are <instance>_<name>, with every character other than letters and digits made _';

  const seen = new Map<string, VariableOrigin>();
  for (const instance of vm) {
    const path = instance.node.path;
    const prefix = `${ansibleIdentifier(instance.name)}_`;
    const reserved = Object.keys(RESERVED_PREFIXES).find((p) => prefix.startsWith(p));
    if (reserved) {
      problems.push(`${path}: instance name ${JSON.stringify(instance.name)} would make Ansible variables starting with ${reserved} (${instanceVariable(instance.name, 'version')}...), a prefix ${RESERVED_PREFIXES[reserved]}; rename the instance`);
      continue;
    }
    const variables: [string, string][] = [
      ...INSTANCE_VARIABLES.map((name): [string, string] => [instanceVariable(instance.name, name), `${name} (group_vars/${instance.name}/main.yml)`]),
      ...Object.keys(instance.credentials).sort().map((key): [string, string] => [vaultVariable(instance.name, key), `credential ${key}`]),
    ];
    for (const [variable, what] of variables) {
      if (ANSIBLE_MAGIC.has(variable)) {
        problems.push(`${path}: ${what} would be the Ansible variable ${variable}, which Ansible sets on every host (${rule}); rename the instance`);
        continue;
      }
      const first = seen.get(variable);
      if (!first) {
        seen.set(variable, { instance, what });
        continue;
      }
      const fix = first.instance === instance
        ? `rename the credential key in service ${instance.service.name}`
        : `rename ${instance.name} or ${first.instance.name}`;
      const theirs = first.instance === instance ? `its ${first.what}` : `${first.instance.node.path}'s ${first.what}`;
      problems.push(`${path}: ${what} would be the Ansible variable ${variable}, which is already ${theirs} (${rule}), so one value would hide the other; ${fix}`);
    }
  }

  for (const group of env.hostGroups) {
    for (const host of group.hosts) {
      if (!IMPLICIT_GROUPS.includes(host.name) && !roleGroups.has(host.name)) continue;
      const which = IMPLICIT_GROUPS.includes(host.name) ? 'the Ansible group every inventory has' : `also the Ansible group of the hosts with role ${host.name}`;
      problems.push(`${group.node.path}/${host.name}: host name ${JSON.stringify(host.name)} is ${which}; Ansible would mix up the host and the group: rename the host`);
    }
  }
  return problems;
}
