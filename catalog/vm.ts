import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../constructs/errors';
import { readYamlFile } from './yaml-cache';
import type { AnsibleTask, ServicePort, Template, VmDefinition } from '../constructs/service-definition';
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
  return {
    hostRoles: raw.hostRoles,
    ports: bound,
    unit: raw.unit,
    clientHosts: raw.clientHosts,
    install: tasks(raw.install, ['vm', 'install']),
    upgrade: tasks(raw.upgrade, ['vm', 'upgrade']),
    rollingUpgrade: raw.rollingUpgrade && { waitFor: tasks(raw.rollingUpgrade.waitFor, ['vm', 'rollingUpgrade', 'waitFor']) },
    configFiles,
    secrets: [...new Set([...credentialKeys, ...raw.secrets])].sort(),
  };
}
