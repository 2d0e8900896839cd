import { errorAt } from '../errors';
import type { Instance } from '../instance';
import type { RenderedFile } from '../rendered-file';
import type { ServiceDefinition, VmDefinition } from '../service-definition';
import { templateContext, endpointOf } from '../template-context';
import { templateKind } from '../template-kind';
import { parseYaml, toYaml } from '../yaml';
import { jinjaSafe } from './jinja';
import { ansibleIdentifier, vaultVariable } from './variables';

/** The role folder name of a service: `ansible/roles/<name>/` (ansible-lint wants `^[a-z][a-z0-9_]*$`). */
export function roleName(service: ServiceDefinition): string {
  return ansibleIdentifier(service.name).toLowerCase();
}

/** Name of the handler that restarts a service's unit. */
export function restartHandler(service: ServiceDefinition): string {
  return `Restart ${service.name}`;
}

const CONFIG_TAGS = ['install', 'upgrade', 'config'];

/**
 * `ansible/roles/<service>/` for a service placed on VMs: the catalog's install and upgrade
 * task files (tags `install` and `upgrade`; upgrade also carries `never`, so it runs only when
 * asked for), a `tasks/main.yml` that writes the config files and starts the unit, the
 * handler that restarts it, and `templates/<instance>/<path>.j2` per instance using it,
 * rendered at synth time. Every path written is under `siteforge_prefix` (`siteforge_root`).
 * A service upgraded one host at a time (`vm.rollingUpgrade`) also gets `tasks/upgrade-wait.yml`,
 * run in upgrades after the host's restart (its play runs one host at a time then, see
 * playbook.ts).
 */
export function renderRole(service: ServiceDefinition, instances: readonly Instance[]): RenderedFile[] {
  const vm = service.vm!;
  const base = `ansible/roles/${roleName(service)}`;
  const files: RenderedFile[] = [
    { path: `${base}/tasks/main.yml`, content: `---\n${toYaml(mainTasks(service, vm))}` },
    { path: `${base}/tasks/install.yml`, content: `---\n${toYaml(vm.install)}` },
  ];
  if (vm.upgrade.length > 0) files.push({ path: `${base}/tasks/upgrade.yml`, content: `---\n${toYaml(vm.upgrade)}` });
  if (vm.rollingUpgrade) files.push({ path: `${base}/tasks/upgrade-wait.yml`, content: `---\n${toYaml(vm.rollingUpgrade.waitFor)}` });
  if (vm.unit) {
    files.push({
      path: `${base}/handlers/main.yml`,
      content: `---\n${toYaml([{
        name: restartHandler(service),
        'ansible.builtin.systemd': { name: vm.unit, state: 'restarted', daemon_reload: true },
        when: 'siteforge_manage_services | bool',
      }])}`,
    });
  }
  for (const instance of instances) {
    const context = vmTemplateContext(instance);
    for (const file of vm.configFiles) {
      const text = file.template(context);
      if (templateKind(`${file.path}.hbs`) === 'yaml') parseYaml(text, `${instance.node.path}: config file ${file.path}`);
      files.push({ path: `${base}/templates/${instance.name}${file.path}.j2`, content: text });
    }
  }
  return files;
}

function mainTasks(service: ServiceDefinition, vm: VmDefinition): Record<string, unknown>[] {
  const tasks: Record<string, unknown>[] = [
    { name: `Install ${service.name}`, 'ansible.builtin.import_tasks': 'install.yml', tags: ['install'] },
  ];
  if (vm.upgrade.length > 0) {
    tasks.push({ name: `Upgrade ${service.name}`, 'ansible.builtin.import_tasks': 'upgrade.yml', tags: ['upgrade', 'never'] });
  }
  const dirs = [...new Set(vm.configFiles.map((f) => f.path.slice(0, f.path.lastIndexOf('/')) || '/'))].sort();
  if (dirs.length > 0) {
    tasks.push({
      name: `Create the config directories of ${service.name}`,
      'ansible.builtin.file': { path: '{{ siteforge_prefix }}{{ item }}', state: 'directory', mode: '0755' },
      loop: dirs,
      tags: CONFIG_TAGS,
    });
  }
  for (const file of vm.configFiles) {
    tasks.push({
      name: `Write ${file.path}`,
      'ansible.builtin.template': {
        src: `{{ siteforge_instance }}${file.path}.j2`,
        dest: `{{ siteforge_prefix }}${file.path}`,
        mode: file.mode,
        ...(file.owner ? {
          owner: `{{ '${file.owner}' if siteforge_install_packages | bool else omit }}`,
          group: `{{ '${file.owner}' if siteforge_install_packages | bool else omit }}`,
        } : {}),
      },
      // Config files hold credentials (from the vault): `--diff` must not print them.
      diff: false,
      ...(vm.unit ? { notify: restartHandler(service) } : {}),
      tags: CONFIG_TAGS,
    });
  }
  if (vm.unit) {
    tasks.push({
      name: `Start and enable ${vm.unit}`,
      'ansible.builtin.systemd': { name: vm.unit, state: 'started', enabled: true },
      when: 'siteforge_manage_services | bool',
      tags: ['install', 'upgrade'],
    });
  }
  if (vm.rollingUpgrade) {
    // The restart the upgrade notified happens here, on this host, not at the end of the play.
    tasks.push({ name: `Restart ${service.name} now if its upgrade changed it`, 'ansible.builtin.meta': 'flush_handlers', tags: ['upgrade', 'never'] });
    tasks.push({ name: `Wait for ${service.name} before upgrading the next host`, 'ansible.builtin.import_tasks': 'upgrade-wait.yml', tags: ['upgrade', 'never'] });
  }
  return tasks;
}

/**
 * What a catalog VM template renders with: the instance's template context plus its hosts
 * (`hosts`, `hostNames`, `hostAddresses`, `primary`), the Ansible variable names of its
 * credentials (`secrets.<key>`, to be written `\{{ {{secrets.[key]}} }}`) and, for each
 * binding, the dependency's endpoint and credential variable names. Every value is escaped
 * for Jinja (see jinja.ts).
 */
export function vmTemplateContext(instance: Instance): Record<string, unknown> {
  const hosts = instance.hosts.map((h) => ({ name: h.name, address: h.address }));
  if (hosts.length === 0) throw errorAt(instance.node.path, 'has no host to run on');
  const base = templateContext(instance);
  const secretsOf = (i: Instance) => Object.fromEntries(credentialKeys(i).map((key) => [key, vaultVariable(i.name, key)]));
  const bindings: Record<string, unknown> = {};
  for (const dependency of instance.dependencies) {
    bindings[dependency.service.name] = {
      instance: dependency.name,
      settings: dependency.settings,
      ...endpointOf(dependency, instance),
      secrets: secretsOf(dependency),
    };
  }
  return jinjaSafe({
    ...base,
    bindings,
    hosts,
    hostNames: hosts.map((h) => h.name),
    hostAddresses: hosts.map((h) => h.address),
    primary: hosts[0],
    secrets: secretsOf(instance),
  });
}

/** Keys of the credentials of `instance` (see Instance.credentials), sorted. */
export function credentialKeys(instance: Instance): string[] {
  return Object.keys(instance.credentials).sort();
}
