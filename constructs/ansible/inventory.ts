import { Environment } from '../environment';
import { Site } from '../site';
import { HOST_ROLES, type Host } from '../host-group';
import type { Instance } from '../instance';
import type { RenderedFile } from '../rendered-file';
import { toYaml } from '../yaml';
import { INSTANCE_VARIABLES, ansibleIdentifier, instanceVariable, type InstanceVariable } from './variables';
import { byName } from '../names';

/** Every VM host of the environment, sorted by name. */
export function vmHosts(env: Environment): Host[] {
  return env.hostGroups.flatMap((g) => g.hosts).sort(byName);
}

/** The instances placed on VMs, in dependency order (a dependency comes first). */
export function vmInstances(env: Environment): Instance[] {
  return env.instancesInDependencyOrder().filter((i) => i.placement.kind === 'vm');
}

const members = (hosts: readonly Host[]): Record<string, Record<string, never>> =>
  Object.fromEntries([...hosts].sort(byName).map((h) => [h.name, {}]));

/**
 * `ansible/inventory.yml` (YAML inventory): every host under `all.hosts` with its connection
 * settings, one group per host role in use (`lb`, `manage`, `compute`, `storage`, `db`...)
 * and one group per VM instance, named like the instance, holding the hosts it runs on.
 */
export function renderInventory(env: Environment): RenderedFile {
  const hosts = vmHosts(env);
  const all: Record<string, unknown> = {};
  all.hosts = Object.fromEntries(hosts.map((h) => [h.name, connection(h)]));
  const children: Record<string, unknown> = {};
  for (const role of HOST_ROLES) {
    const withRole = hosts.filter((h) => h.roles.includes(role));
    if (withRole.length > 0) children[role] = { hosts: members(withRole) };
  }
  for (const instance of [...vmInstances(env)].sort(byName)) {
    children[instance.name] = { hosts: members(instance.hosts) };
  }
  if (Object.keys(children).length > 0) all.children = children;
  return { path: 'ansible/inventory.yml', content: `---\n${toYaml({ all })}` };
}

function connection(host: Host): Record<string, unknown> {
  return {
    ansible_host: host.address,
    ...(host.user !== undefined ? { ansible_user: host.user } : {}),
    ...(host.port !== undefined ? { ansible_port: host.port } : {}),
    ...(host.local ? { ansible_connection: 'local' } : {}),
  };
}

/**
 * `ansible/group_vars/all/main.yml` (the role's switches and the environment's identity),
 * `ansible/group_vars/<instance>/main.yml` (each VM instance's non-secret settings, prefixed
 * with the instance so instances sharing a host never mix) and `ansible/host_vars/<host>.yml`.
 * Credentials live beside them in `group_vars/<instance>/vault.yml`, encrypted.
 */
export function renderVars(env: Environment): RenderedFile[] {
  const files: RenderedFile[] = [];
  files.push({
    path: 'ansible/group_vars/all/main.yml',
    content: `---\n${toYaml({
      siteforge_site: Site.of(env).name,
      siteforge_environment: env.name,
      siteforge_root: '/',
      siteforge_prefix: "{{ siteforge_root | regex_replace('/+$', '') }}",
      siteforge_install_packages: true,
      siteforge_manage_services: true,
      siteforge_mount_state: 'mounted',
    })}`,
  });
  for (const instance of vmInstances(env)) {
    const values: Record<InstanceVariable, unknown> = {
      service: instance.service.name,
      version: instance.service.version,
      profile: instance.profile.name,
      nodes: instance.nodes,
      hosts: instance.hosts.map((h) => h.name),
      ports: Object.fromEntries((instance.service.vm?.ports ?? []).map((p) => [ansibleIdentifier(p.name), p.port])),
      settings: sortKeys(instance.settings),
    };
    files.push({
      path: `ansible/group_vars/${instance.name}/main.yml`,
      content: `---\n${toYaml(Object.fromEntries(INSTANCE_VARIABLES.map((name) => [instanceVariable(instance.name, name), values[name]])))}`,
    });
  }
  const instances = vmInstances(env);
  for (const host of vmHosts(env)) {
    files.push({
      path: `ansible/host_vars/${host.name}.yml`,
      content: `---\n${toYaml({
        siteforge_host_group: host.group.name,
        siteforge_host_roles: [...host.roles],
        siteforge_instances: instances.filter((i) => i.hosts.includes(host)).map((i) => i.name),
        siteforge_mounts: host.group.mounts.filter((m) => m.hosts.includes(host)).map((m) => m.path),
      })}`,
    });
  }
  return files;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}
