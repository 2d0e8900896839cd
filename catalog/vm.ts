import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../constructs/errors';
import { readYamlFile } from './yaml-cache';
import type { AnsibleTask, ServicePort, Template, VmDefinition, VmPackage } from '../constructs/service-definition';
import { compileTemplate } from './templates';

/** The `vm` section of a `service.yml` as written. */
export interface RawVm {
  hostRoles: string[];
  ports?: string[];
  unit?: string;
  clientHosts: 'all' | 'primary';
  install: string;
  upgrade?: string;
  rollingUpgrade?: { waitFor: string };
  secrets: string[];
  packages: VmPackage[];
  configFiles: { path: string; mode: string; owner?: string; template: string }[];
}

/** Where problems of the `vm` section are reported: `fail(path, message)` throws with file and line. */
export type Fail = (path: (string | number)[], message: string) => never;

/**
 * Builds the VM part of a service from its `vm` section and the files under `<dir>/vm/`: task
 * files are parsed (a list of task mappings), config templates compiled. `credentialKeys` are
 * the keys of `connection.credentials`, which the role gets as Ansible Vault variables too.
 */
export function loadVm(
  raw: RawVm, dir: string, ports: readonly ServicePort[], credentialKeys: readonly string[],
  fail: Fail, displayPath: (path: string) => string,
): VmDefinition {
  const byName = new Map(ports.map((p) => [p.name, p]));
  const bound = (raw.ports ?? ports.map((p) => p.name)).map((name, i) => byName.get(name) ?? fail(['vm', 'ports', i], `vm port ${JSON.stringify(name)} is not one of the ports`));
  const file = (name: string, path: (string | number)[]): string => {
    const full = join(dir, name);
    if (!existsSync(full)) fail(path, `${name} does not exist in ${displayPath(dir)}`);
    return full;
  };
  const tasks = (name: string | undefined, path: (string | number)[]): AnsibleTask[] => {
    if (name === undefined) return [];
    const full = file(name, path);
    const shown = displayPath(full);
    const source = readYamlFile(full, shown);
    const value = source.value ?? [];
    if (!Array.isArray(value) || value.some((t) => typeof t !== 'object' || t === null || Array.isArray(t))) {
      throw new UserError(`${shown}: an Ansible task file must be a list of task mappings`);
    }
    value.forEach((task: Record<string, unknown>, i) => {
      if (typeof task.name !== 'string' || task.name.length === 0) {
        throw new UserError(`${shown}:${source.lineOf([i]) ?? 0}: every task needs a name (ansible-lint rule name[missing])`);
      }
    });
    checkPackageTasks(value as AnsibleTask[], [], (at, message) => {
      throw new UserError(`${shown}:${source.lineOf(at) ?? 0}: ${message}`);
    });
    return value as AnsibleTask[];
  };
  const template = (name: string, path: (string | number)[]): Template => {
    const full = file(name, path);
    return compileTemplate(readFileSync(full, 'utf8'), displayPath(full));
  };
  const paths = new Set<string>();
  const configFiles = raw.configFiles.map((f, i) => {
    if (paths.has(f.path)) fail(['vm', 'configFiles', i, 'path'], `config file ${f.path} is listed twice`);
    paths.add(f.path);
    return { path: f.path, mode: f.mode, owner: f.owner, template: template(f.template, ['vm', 'configFiles', i, 'template']) };
  });
  const packageNames = new Set<string>();
  raw.packages.forEach((p, i) => {
    if (packageNames.has(p.name)) fail(['vm', 'packages', i, 'name'], `package ${p.name} is listed twice`);
    packageNames.add(p.name);
  });
  return {
    hostRoles: raw.hostRoles,
    ports: bound,
    unit: raw.unit,
    clientHosts: raw.clientHosts,
    install: tasks(raw.install, ['vm', 'install']),
    upgrade: tasks(raw.upgrade, ['vm', 'upgrade']),
    rollingUpgrade: raw.rollingUpgrade && { waitFor: tasks(raw.rollingUpgrade.waitFor, ['vm', 'rollingUpgrade', 'waitFor']) },
    configFiles,
    packages: raw.packages.map((p) => ({ name: p.name, ...(p.epoch === undefined ? {} : { epoch: p.epoch }), ...(p.revision === false ? { revision: false } : {}) })),
    secrets: [...new Set([...credentialKeys, ...raw.secrets])].sort(),
  };
}

/** Modules that install OS packages, with and without their collection. */
const PACKAGE_MODULES = ['package', 'apt', 'yum', 'dnf'].flatMap((m) => [m, `ansible.builtin.${m}`]);
/** What a package task installs: the service's `vm.packages`, as the play gives them. */
const PACKAGES_VARIABLE = '{{ siteforge_packages }}';

/**
 * Package tasks (in blocks too) install the service's `vm.packages` with apt, as
 * `name: "{{ siteforge_packages }}"`: so the packages a host gets are the ones
 * `artifacts.lock.json` lists, at the version apt matches (`name=[epoch:]version-*`, see aptVersionPattern).
 */
function checkPackageTasks(tasks: readonly AnsibleTask[], at: (string | number)[], fail: (at: (string | number)[], message: string) => never): void {
  tasks.forEach((task, i) => {
    for (const key of ['block', 'rescue', 'always']) {
      if (Array.isArray(task[key])) checkPackageTasks(task[key] as AnsibleTask[], [...at, i, key], fail);
    }
    const module = PACKAGE_MODULES.find((m) => m in task);
    if (module === undefined) return;
    if (module !== 'ansible.builtin.apt') {
      fail([...at, i], `packages are installed with ansible.builtin.apt (siteforge's VM steps target Debian and Ubuntu), got ${module}`);
    }
    const args = task[module] as Record<string, unknown> | null;
    if (typeof args !== 'object' || args === null || args.name !== PACKAGES_VARIABLE) {
      fail([...at, i], `a package task installs name: "${PACKAGES_VARIABLE}", the packages of vm.packages in service.yml (which artifacts.lock.json lists), got ${JSON.stringify(typeof args === 'object' && args !== null ? args.name : args)}`);
    }
  });
}
