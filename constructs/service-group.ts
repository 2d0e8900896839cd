import { errorAt, receivedValue } from './errors';
import type { Environment } from './environment';
import type { Instance, InstanceProps } from './instance';
import type { ServiceDefinition } from './service-definition';

/** One service of a group, and which other members of the group it uses. */
export interface ServiceGroupMember {
  readonly service: ServiceDefinition;
  /** Services of the same group this member is bound to (`uses`). */
  readonly uses: readonly string[];
}

/**
 * A named set of services a site installs in one line (`observability`, `logging`,
 * `devops`...). The catalog loads these from `catalog/groups.yml`; the model only sees this
 * shape and never a particular group by name.
 */
export interface ServiceGroupDefinition {
  readonly name: string;
  readonly description: string;
  readonly members: readonly ServiceGroupMember[];
}

/** Props of one member's instance: everything but the service, which the group names. */
export type ServiceGroupInstanceProps = Omit<InstanceProps, 'service'>;

export interface ServiceGroupOptions {
  /**
   * Props of the instance of each member, by service name (profile, nodes, settings, exposure...).
   * @default - every member with its service's defaults
   */
  readonly instances?: Readonly<Record<string, ServiceGroupInstanceProps>>;
  /**
   * Prefix of the instance names, e.g. `ops-` gives `ops-prometheus`.
   * @default - instances are named after their services
   */
  readonly prefix?: string;
}

/**
 * Installs every member of `group` into `env`, named `<prefix><service>`, and binds the members
 * as the group says. Returns the instances by service name.
 */
export function addServiceGroup(env: Environment, group: ServiceGroupDefinition, options: ServiceGroupOptions = {}): Record<string, Instance> {
  // Plain JavaScript (and a compiled fleet, which is not type-checked) can pass a group's name.
  if (!Array.isArray((group as Partial<ServiceGroupDefinition> | undefined)?.members)) {
    throw errorAt(env.node.path, `addServiceGroup takes a service group, as catalog.group('observability') gives, not ${receivedValue(group)}`);
  }
  const memberNames = group.members.map((m) => m.service.name);
  for (const name of Object.keys(options.instances ?? {})) {
    if (!memberNames.includes(name)) {
      throw errorAt(env.node.path, `service group ${group.name} has no member ${JSON.stringify(name)}; its members are ${memberNames.join(', ')}`);
    }
  }
  const prefix = options.prefix ?? '';
  const instances: Record<string, Instance> = {};
  for (const member of group.members) {
    instances[member.service.name] = env.addInstance(`${prefix}${member.service.name}`, {
      ...options.instances?.[member.service.name],
      service: member.service,
    });
  }
  for (const member of group.members) {
    for (const used of member.uses) instances[member.service.name].uses(instances[used]);
  }
  return instances;
}
