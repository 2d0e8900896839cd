import type { ValidateFunction } from 'ajv';
import { UserError, UserErrors } from '../constructs/errors';
import type { ServiceDefinition } from '../constructs/service-definition';
import type { ServiceGroupDefinition } from '../constructs/service-group';
import { readCheckedYaml } from './index';

type RawGroups = Record<string, { description: string; services: (string | { name: string; uses: string[] })[] }>;

/**
 * Loads `groups.yml`: every member must be a catalog service, listed once, and may use only
 * members listed before it (so installation order is the file's order) whose service it
 * depends on or can bind to. Every problem is collected, each with its line.
 */
export function loadGroups(file: string, validate: ValidateFunction, service: (name: string) => ServiceDefinition | undefined): Map<string, ServiceGroupDefinition> {
  const source = readCheckedYaml(file, validate);
  const { at } = source;
  const errors: UserError[] = [];
  const groups = new Map<string, ServiceGroupDefinition>();
  for (const [name, raw] of Object.entries(source.value as RawGroups)) {
    const members: { service: ServiceDefinition; uses: string[] }[] = [];
    raw.services.forEach((entry, index) => {
      const memberName = typeof entry === 'string' ? entry : entry.name;
      const uses = typeof entry === 'string' ? [] : entry.uses;
      const path = ['' + name, 'services', index];
      const definition = service(memberName);
      if (!definition) {
        errors.push(new UserError(`${at(path)}: group ${name}: ${JSON.stringify(memberName)} is not a catalog service`));
        return;
      }
      if (members.some((m) => m.service.name === memberName)) {
        errors.push(new UserError(`${at(path)}: group ${name}: ${memberName} is listed twice`));
        return;
      }
      for (const used of uses) {
        if (!members.some((m) => m.service.name === used)) {
          errors.push(new UserError(`${at(path)}: group ${name}: ${memberName} uses ${JSON.stringify(used)}, which is not listed before it in the group`));
        }
      }
      members.push({ service: definition, uses });
    });
    for (const member of members) {
      for (const dependency of member.service.dependencies) {
        if (!member.uses.includes(dependency)) {
          errors.push(new UserError(`${at([name])}: group ${name}: ${member.service.name} depends on ${dependency}; list ${dependency} before it and add it to its uses`));
        }
      }
    }
    groups.set(name, { name, description: raw.description, members });
  }
  UserErrors.throwIfAny(errors);
  return groups;
}
