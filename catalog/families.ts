import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { CompiledValidators } from './compiled-validators';
import { UserError, UserErrors } from '../constructs/errors';
import { buildService, readCheckedYaml, type CatalogService } from './index';

interface RawFamily {
  description: string;
  patterns: Record<string, { settings: string; dashboard?: string; service: Record<string, unknown> }>;
  members: {
    name: string;
    pattern: string;
    version: string;
    description: string;
    image: { repository: string; tag: string; digest?: string };
    ports?: unknown[];
    dependencies?: unknown[];
    connection?: unknown;
  }[];
}

/** Fields a family member gives; a pattern's service must leave them out. */
const MEMBER_FIELDS = ['name', 'version', 'description', 'images'];

/**
 * Loads `<dir>/family.yml`: services that share one shape (a platform's microservices, say),
 * written once as a pattern and listed as members. Each member becomes a catalog service that
 * is checked like any `service.yml`; its templates, settings schema and dashboard come from the
 * family's folder. Errors name the member's line.
 */
export function loadFamily(dir: string, validators: CompiledValidators, validateFamily: ValidateFunction, validateService: ValidateFunction): CatalogService[] {
  const file = join(dir, 'family.yml');
  const source = readCheckedYaml(file, validateFamily);
  const { shown, at } = source;
  const raw = source.value as RawFamily;
  const errors: UserError[] = [];
  for (const [name, pattern] of Object.entries(raw.patterns)) {
    for (const field of MEMBER_FIELDS) {
      if (field in pattern.service) errors.push(new UserError(`${at(['patterns', name, 'service', field])}: pattern ${name}: ${field} belongs to each member, not to the pattern`));
    }
  }
  UserErrors.throwIfAny(errors);

  const services: CatalogService[] = [];
  raw.members.forEach((member, index) => {
    const pattern = raw.patterns[member.pattern];
    if (!pattern) {
      errors.push(new UserError(`${at(['members', index, 'pattern'])}: member ${member.name}: pattern ${JSON.stringify(member.pattern)} is not one of ${Object.keys(raw.patterns).join(', ')}`));
      return;
    }
    const value = structuredClone({
      ...pattern.service,
      name: member.name,
      version: member.version,
      description: member.description,
      images: [{ name: 'app', ...member.image }],
      ...(member.ports ? { ports: member.ports } : {}),
      ...(member.dependencies ? { dependencies: member.dependencies } : {}),
      ...(member.connection ? { connection: member.connection } : {}),
    });
    try {
      services.push(buildService({
        value,
        shown,
        subject: `member ${member.name}: `,
        // Member fields sit on the member; pattern fields are reported at the member too.
        lineOf: (path) => source.lineOf(['members', index, ...path]),
        dir,
        expectedName: member.name,
        nameRule: 'the member name',
        settingsFile: join(dir, pattern.settings),
        dashboardFile: join(dir, 'monitor', pattern.dashboard ?? `${member.pattern}-dashboard.json`),
        family: file,
      }, validators, validateService));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(...(e instanceof UserErrors ? e.errors : [e]));
    }
  });
  UserErrors.throwIfAny(errors);
  return services;
}
