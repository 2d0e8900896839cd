import type { Environment } from '../environment';
import type { RenderedFile } from '../rendered-file';
import type { ServiceDefinition } from '../service-definition';
import type { Instance } from '../instance';
import { renderInventory, renderVars, vmInstances } from './inventory';
import { renderPlaybook } from './playbook';
import { renderRole } from './roles';
import { renderAgent } from './agent';
import { byName } from '../names';

/**
 * The environment's `ansible/` folder, for environments with host groups: inventory, group
 * and host vars, playbook, one role per service placed on VMs, and the ansible-pull agent.
 * Run as it is: `ansible-playbook -i ansible/inventory.yml ansible/playbook.yml`.
 */
export function renderAnsible(env: Environment): RenderedFile[] {
  if (env.hostGroups.length === 0) return [];
  const byService = new Map<ServiceDefinition, Instance[]>();
  for (const instance of vmInstances(env)) {
    byService.set(instance.service, [...(byService.get(instance.service) ?? []), instance]);
  }
  const roles = [...byService.entries()]
    .sort(([a], [b]) => byName(a, b))
    .flatMap(([service, instances]) => renderRole(service, instances));
  return [renderInventory(env), ...renderVars(env), renderPlaybook(env), ...roles, ...renderAgent(env)];
}
