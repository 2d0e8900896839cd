import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { shownValue, UserError, UserErrors } from '../constructs/errors';
import { INPUT_IDENTITY } from '../constructs/input-text';
import { didYouMean } from '../constructs/names';
import { isCredentialName } from '../constructs/ansible/variables';
import type {
  ServiceDefinition, ServicePort, ServiceProfile, Template, NativeWorkload, ServiceConnection, SettingsProblem, WorkloadProbe, ServiceMonitoring, RemovedApi,
} from '../constructs/service-definition';
import type { ServiceGroupDefinition } from '../constructs/service-group';
import { parseTemplate } from './templates';
import { checkTemplatePaths } from './template-paths';
import { catastrophicBacktrackingProblem, schemaPatterns } from './regex-safety';
import { loadVm, type RawVm } from './vm';
import { loadFamily } from './families';
import { loadGroups } from './groups';
import { CompiledValidators, VALIDATORS_CACHE_DIR } from './compiled-validators';
import { uniqueItemProperties } from './unique-item-properties';
import { readYamlFile } from './yaml-cache';

/** Unoptimized code compiles faster and validates about as fast. */
const AJV_OPTIONS = { strict: true, allErrors: true, useDefaults: true, code: { optimize: false } } as const;

/** The catalog shipped with siteforge: the folders beside this file. */
export const CATALOG_DIR = fileURLToPath(new URL('.', import.meta.url));

/** A service of the catalog: what the model needs, plus what `catalog show` prints. */
export interface CatalogService extends ServiceDefinition {
  /** Folder of the service. */
  readonly dir: string;
  /** The service's `values.schema.json`. */
  readonly settingsSchema: Record<string, unknown>;
  /** The family file the service was generated from (`<folder>/family.yml`), if any. */
  readonly family?: string;
}

/** The loaded catalog. */
export class Catalog {
  constructor(
    private readonly services: ReadonlyMap<string, CatalogService>,
    private readonly groups: ReadonlyMap<string, ServiceGroupDefinition> = new Map(),
  ) {}

  /** The service group called `name` (`catalog/groups.yml`); an error lists the known groups otherwise. */
  public group(name: string): ServiceGroupDefinition {
    const group = this.groups.get(name);
    if (!group) throw new UserError(`unknown service group ${JSON.stringify(name)}${didYouMean(name, this.groupNames())}; the catalog has ${this.groupNames().join(', ') || 'no groups'}`);
    return group;
  }

  /** Names of the service groups, sorted. */
  public groupNames(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** The service called `name`; an error lists the known services otherwise. */
  public service(name: string): CatalogService {
    const service = this.services.get(name);
    if (!service) throw new UserError(`unknown catalog service ${JSON.stringify(name)}${didYouMean(name, this.names())}; the catalog has ${this.names().join(', ') || 'no services'}`);
    return service;
  }

  /** Every service, sorted by name. */
  public list(): CatalogService[] {
    return this.names().map((n) => this.services.get(n)!);
  }

  public names(): string[] {
    return [...this.services.keys()].sort();
  }
}

/**
 * Loads and checks every `<dir>/<service>/service.yml` with its schema and templates. Every
 * problem of every service is collected and thrown at once, each naming its file and line.
 */
export function loadCatalog(dir: string = CATALOG_DIR): Catalog {
  const validators = new CompiledValidators({ dir: VALIDATORS_CACHE_DIR, options: AJV_OPTIONS, keywords: [uniqueItemProperties] });
  const schema = (name: string) => validators.validator(JSON.parse(readFileSync(join(CATALOG_DIR, 'schema', name), 'utf8')) as Record<string, unknown>);
  const validateService = schema('service.schema.json');
  const validateFamily = schema('family.schema.json');
  const validateGroups = schema('groups.schema.json');
  const errors: UserError[] = [];
  const services = new Map<string, CatalogService>();
  const add = (service: CatalogService, file: string) => {
    const other = services.get(service.name);
    if (other) {
      errors.push(new UserError(`${displayPath(file)}: service ${JSON.stringify(service.name)} is defined twice (also in ${displayPath(other.family ?? join(other.dir, 'service.yml'))})`));
    } else {
      services.set(service.name, service);
    }
  };
  if (!existsSync(dir)) throw new UserError(`catalog folder ${dir} does not exist; give --catalog a folder with one folder per service (<service>/service.yml), or leave it out for the built-in catalog`);
  if (!statSync(dir).isDirectory()) throw new UserError(`catalog ${dir} is a file, not a folder; give --catalog a folder with one folder per service (<service>/service.yml)`);
  const folders = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  // Services whose own file failed: what refers to them is not reported again.
  const broken = new Set<string>();
  for (const folder of folders) {
    const serviceFile = join(dir, folder, 'service.yml');
    const familyFile = join(dir, folder, 'family.yml');
    try {
      if (existsSync(serviceFile)) broken.add(folder);
      if (existsSync(serviceFile)) add(loadService(join(dir, folder), folder, validators, validateService), serviceFile);
      broken.delete(folder);
      if (existsSync(familyFile)) {
        for (const service of loadFamily(join(dir, folder), validators, validateFamily, validateService)) add(service, familyFile);
      }
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(...(e instanceof UserErrors ? e.errors : [e]));
    }
  }
  for (const service of services.values()) {
    for (const dependency of service.dependencies) {
      if (!services.has(dependency) && !broken.has(dependency)) {
        errors.push(new UserError(`${displayPath(service.family ?? join(service.dir, 'service.yml'))}: ${service.family ? `member ${service.name}: ` : ''}dependency ${JSON.stringify(dependency)} is not a catalog service`));
      }
    }
  }
  const resolveDependency = (name: string): ServiceDefinition | undefined => services.get(name);
  for (const [name, service] of services) services.set(name, finished({ ...service, resolveDependency }));
  let groups = new Map<string, ServiceGroupDefinition>();
  const groupsFile = join(dir, 'groups.yml');
  if (existsSync(groupsFile) && errors.length === 0) {
    try {
      groups = loadGroups(groupsFile, validateGroups, (name) => services.get(name));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(...(e instanceof UserErrors ? e.errors : [e]));
    }
  }
  UserErrors.throwIfAny(errors);
  return new Catalog(services, groups);
}

interface RawService {
  name: string;
  version: string;
  description: string;
  category: string;
  upgradable: boolean;
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[];
  dependencies: string[];
  profiles: Record<string, { description: string; nodes: { min: number; max?: number; default?: number; not: number[] } }>;
  defaultProfile?: string;
  placements: ('kubernetes' | 'vm')[];
  images: { name: string; repository: string; tag: string; digest?: string }[];
  helm?: { chart: { repository: string; name: string; version: string; digest?: string }; values: string; service?: string; podAnnotations?: string[]; extraHosts?: string[]; ingress?: { annotations?: Record<string, string> }; podDisruptionBudget?: { selector: Record<string, string>; maxUnavailable?: number; minAvailable?: 'quorum' }; removedApis?: RemovedApi[]; imagesNotMirrored?: string[] };
  workload?: Omit<NativeWorkload, 'env' | 'args' | 'configFiles' | 'readiness' | 'liveness'> & {
    env: Record<string, string>;
    args?: string[];
    configFiles: { name: string; mountPath: string; template: string }[];
    readiness?: WorkloadProbe;
    liveness?: WorkloadProbe;
  };
  connection?: { env: Record<string, string>; credentials?: { secretName: string; env: Record<string, string>; keys?: string[] } };
  vm?: RawVm;
  metrics?: { port: string; path: string; interval: string };
}

/** Where a service's raw description comes from, for errors and for its files. */
export interface ServiceSource {
  /** The parsed description (a `service.yml`, or a family member merged with its pattern). */
  readonly value: unknown;
  /** The file errors name. */
  readonly shown: string;
  /** Line of the node at `path` of the description. */
  lineOf(path: (string | number)[]): number | undefined;
  /** Folder the templates are read from. */
  readonly dir: string;
  /** The name the service must have. */
  readonly expectedName: string;
  /** What the expected name is, in errors. */
  readonly nameRule: string;
  /** The settings schema file. */
  readonly settingsFile: string;
  /** The Grafana dashboard file, read when it exists. */
  readonly dashboardFile: string;
  /** The family file the service comes from, if any. */
  readonly family?: string;
  /** What errors start with after the file and line, e.g. `member k8s-informer: `. */
  readonly subject?: string;
}

function loadService(dir: string, folder: string, validators: CompiledValidators, validateService: ValidateFunction): CatalogService {
  const file = join(dir, 'service.yml');
  const shown = displayPath(file);
  const source = readYamlFile(file, shown);
  return buildService({
    value: source.value,
    shown,
    lineOf: (path) => source.lineOf(path),
    dir,
    expectedName: folder,
    nameRule: 'its folder name',
    settingsFile: join(dir, 'values.schema.json'),
    dashboardFile: join(dir, 'monitor', 'dashboard.json'),
  }, validators, validateService);
}

/** Checks a raw service description against the schema and turns it into a service. */
export function buildService(source: ServiceSource, validators: CompiledValidators, validateService: ValidateFunction): CatalogService {
  const { shown, dir } = source;
  const folder = source.expectedName;
  if (!validateService(source.value)) {
    throw new UserErrors(ajvProblems(validateService.errors ?? []).map((p) => {
      const line = source.lineOf(p.path.split('/').slice(1).map(unescapePointer));
      return new UserError(`${shown}${line ? `:${line}` : ''}: ${source.subject ?? ''}${p.path || '(top level)'} ${p.message}`);
    }));
  }
  const raw = source.value as RawService;
  const fail = (path: (string | number)[], message: string): never => {
    const line = source.lineOf(path);
    throw new UserError(`${shown}${line ? `:${line}` : ''}: ${source.subject ?? ''}${message}`);
  };

  if (raw.name !== folder) fail(['name'], `name ${JSON.stringify(raw.name)} must equal ${source.nameRule} ${JSON.stringify(folder)}`);
  const defaultProfile = raw.defaultProfile ?? Object.keys(raw.profiles)[0];
  if (!raw.profiles[defaultProfile]) fail(['defaultProfile'], `defaultProfile ${JSON.stringify(defaultProfile)} is not one of the profiles`);
  const profiles: Record<string, ServiceProfile> = {};
  for (const [name, p] of Object.entries(raw.profiles)) {
    const defaultNodes = p.nodes.default ?? p.nodes.min;
    if (defaultNodes < p.nodes.min || (p.nodes.max !== undefined && (defaultNodes > p.nodes.max || p.nodes.min > p.nodes.max))) {
      fail(['profiles', name, 'nodes'], `profile ${name}: nodes must satisfy min <= default <= max`);
    }
    profiles[name] = { name, description: p.description, minNodes: p.nodes.min, maxNodes: p.nodes.max, defaultNodes, forbiddenNodes: p.nodes.not };
  }
  if (raw.placements.includes('kubernetes') && !raw.helm && !raw.workload) {
    fail(['placements'], 'a service placed on kubernetes needs a helm chart or a native workload');
  }
  if (raw.helm && raw.workload) fail(['workload'], 'a service has either a helm chart or a native workload, not both');
  const portNames = new Set(raw.ports.map((p) => p.name));
  const imageNames = new Set(raw.images.map((i) => i.name));
  const template = (name: string, path: (string | number)[]): Template => {
    const templateFile = join(dir, name);
    if (!existsSync(templateFile)) fail(path, `template ${name} does not exist in ${displayPath(dir)}`);
    const shownTemplate = displayPath(templateFile);
    const parsed = parseTemplate(readFileSync(templateFile, 'utf8'), shownTemplate);
    sources.push({ ast: parsed.ast, nameOf: () => shownTemplate, connection: false, path });
    return parsed.render;
  };
  const sources: { ast: hbs.AST.Program; nameOf: () => string; connection: boolean; path?: (string | number)[] }[] = [];
  const inline = (text: string, path: (string | number)[]): Template => {
    const nameOf = () => {
      const line = source.lineOf(path);
      return `${shown}${line === undefined ? '' : `:${line}`} (${path.join('.')})`;
    };
    const parsed = parseTemplate(text, { name: nameOf, kind: 'text' });
    sources.push({ ast: parsed.ast, nameOf, connection: path[0] === 'connection' });
    return parsed.render;
  };

  let workload: NativeWorkload | undefined;
  if (raw.workload) {
    const w = raw.workload;
    if (!imageNames.has(w.image)) fail(['workload', 'image'], `workload image ${JSON.stringify(w.image)} is not one of the images`);
    for (const probe of ['readiness', 'liveness', 'httpPort'] as const) {
      const port = probe === 'httpPort' ? w.httpPort : w[probe]?.port;
      if (port !== undefined && !portNames.has(port)) fail(['workload', probe], `port ${JSON.stringify(port)} is not one of the ports`);
    }
    if (w.storage && w.kind !== 'StatefulSet') fail(['workload', 'storage'], 'storage needs kind StatefulSet');
    workload = {
      ...w,
      env: mapValues(w.env, (v, k) => inline(v, ['workload', 'env', k])),
      args: w.args?.map((a, i) => inline(a, ['workload', 'args', i])),
      configFiles: w.configFiles.map((f, i) => ({ name: f.name, mountPath: f.mountPath, template: template(f.template, ['workload', 'configFiles', i, 'template']) })),
    };
  }
  let connection: ServiceConnection | undefined;
  if (raw.connection) {
    const c = raw.connection;
    connection = {
      env: mapValues(c.env, (v, k) => inline(v, ['connection', 'env', k])),
      credentials: c.credentials && {
        secretName: inline(c.credentials.secretName, ['connection', 'credentials', 'secretName']),
        env: c.credentials.env,
        keys: c.credentials.keys,
      },
    };
  }

  let monitoring: ServiceMonitoring | undefined;
  if (raw.metrics) {
    if (!portNames.has(raw.metrics.port)) fail(['metrics', 'port'], `metrics port ${JSON.stringify(raw.metrics.port)} is not one of the ports`);
    let dashboard: string | undefined;
    if (existsSync(source.dashboardFile)) {
      dashboard = readFileSync(source.dashboardFile, 'utf8');
      try {
        JSON.parse(dashboard);
      } catch (e) {
        throw new UserError(`${displayPath(source.dashboardFile)}: not valid JSON: ${(e as Error).message}`);
      }
    }
    monitoring = { ...raw.metrics, dashboard };
  } else if (existsSync(source.dashboardFile)) {
    throw new UserError(`${displayPath(source.dashboardFile)}: a dashboard needs metrics; declare metrics (port, path, interval) in ${shown}`);
  }

  const schemaFile = source.settingsFile;
  if (!existsSync(schemaFile)) throw new UserError(`${displayPath(dir)}: ${basename(schemaFile)} is missing; every service declares its settings`);
  const settingsSchema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
  let validateSettings: ValidateFunction;
  try {
    validateSettings = validators.validator(settingsSchema);
  } catch (e) {
    throw new UserError(`${displayPath(schemaFile)}: ${(e as Error).message}`);
  }
  for (const { pointer, pattern } of schemaPatterns(settingsSchema)) {
    const problem = catastrophicBacktrackingProblem(pattern);
    if (problem) throw new UserError(`${displayPath(schemaFile)}: pattern ${JSON.stringify(pattern)} at ${pointer} ${problem}; rewrite it without nested repetition`);
  }
  const helmValues = raw.helm && template(raw.helm.values, ['helm', 'values']);
  const clientService = raw.helm?.service === undefined ? undefined : inline(raw.helm.service, ['helm', 'service']);
  const clientServiceSource = clientService && sources.at(-1);
  const budget = raw.helm?.podDisruptionBudget;
  if (budget && (budget.maxUnavailable === undefined) === (budget.minAvailable === undefined)) {
    fail(['helm', 'podDisruptionBudget'], 'a PodDisruptionBudget keeps pods running by maxUnavailable or by minAvailable: quorum; give one of them');
  }
  const podDisruptionBudget = budget && {
    ...budget,
    selector: mapValues(budget.selector, (v, k) => inline(v, ['helm', 'podDisruptionBudget', 'selector', k])),
  };
  const contract = { settingsSchema, images: raw.images.map((i) => i.name), dependencies: raw.dependencies, extraHosts: raw.helm?.extraHosts ?? [] };
  // What the Helm values read decides what of an instance's exposure and resources reaches the chart.
  let helmReads: ReadonlySet<string> = new Set();
  for (const t of sources) {
    const read = checkTemplatePaths(t.ast, t.nameOf, contract, t.connection);
    if (t.path?.[0] === 'helm') helmReads = read;
    // Bindings and instance.url are made from its name, so it cannot read what they make.
    const beyondName = t === clientServiceSource ? [...read].filter((path) => path !== 'instance.name') : [];
    if (beyondName.length > 0) fail(['helm', 'service'], `the Service clients reach (helm.service) is named from the instance's name alone; it reads ${beyondName.join(', ')}`);
  }
  if (raw.helm?.ingress && helmReads.has('instance.host')) {
    fail(['helm', 'ingress'], "siteforge writes the Ingress (helm.ingress), but the values set up the chart's own too (they read instance.host): leave the chart's Ingress out of the values");
  }
  if (raw.helm?.ingress && raw.helm.extraHosts?.length) {
    fail(['helm', 'ingress'], "the Ingress siteforge writes (helm.ingress) serves the instance's host alone, not the chart's further hosts (helm.extraHosts)");
  }

  const fingerprint = fingerprintOf(dir);
  return {
    name: raw.name,
    version: raw.version,
    description: raw.description,
    category: raw.category,
    upgradable: raw.upgradable,
    ports: raw.ports,
    dependencies: raw.dependencies,
    profiles,
    defaultProfile,
    placements: raw.placements,
    images: raw.images,
    helm: raw.helm && { chart: raw.helm.chart, values: helmValues!, ...(clientService ? { clientService } : {}), podAnnotations: raw.helm.podAnnotations ?? [], extraHosts: raw.helm.extraHosts ?? [], ingress: helmReads.has('instance.host'), ...(raw.helm.ingress ? { siteforgeIngress: { annotations: raw.helm.ingress.annotations ?? {} } } : {}), ...(podDisruptionBudget ? { siteforgePodDisruptionBudget: podDisruptionBudget } : {}), removedApis: raw.helm.removedApis ?? [], imagesNotMirrored: raw.helm.imagesNotMirrored ?? [], tls: helmReads.has('instance.tls'), resources: helmReads.has('instance.resources') },
    workload,
    connection,
    vm: raw.vm && loadVm(raw.vm, dir, raw.ports as ServicePort[], Object.values(raw.connection?.credentials?.env ?? {}), fail, displayPath),
    monitoring,
    dir,
    fingerprint,
    settingsSchema,
    family: source.family,
    resolveSettings(settings: unknown) {
      const unplain = unplainValue(settings);
      if (unplain !== undefined) return { settings: {}, problems: [{ path: unplain.path, message: `must be a plain value (a string, number, boolean, list or object), got ${unplain.what}` }] };
      const copy = structuredClone(settings);
      if (validateSettings(copy)) return { settings: copy as Record<string, unknown>, problems: [] };
      return { settings: {}, problems: settingsProblems(raw.name, settingsSchema, settings, validateSettings.errors ?? []) };
    },
  };
}

/**
 * Ajv errors of an instance's settings (given in TypeScript, not YAML) as paths and sentences
 * that say what was received and what is allowed: the settings there are, with the one a name
 * likely misspells; the allowed values; the value that is of the wrong type or out of range.
 */
function settingsProblems(service: string, schema: Record<string, unknown>, settings: unknown, errors: ErrorObject[]): SettingsProblem[] {
  return errors.map((e) => {
    const params = e.params as Record<string, unknown>;
    const value = valueAt(settings, e.instancePath);
    const hidden = mayBeCredential(e.instancePath, value);
    const got = `, got ${hidden ? 'a value not shown (it may be a credential)' : shownValue(value)}`;
    switch (e.keyword) {
      case 'additionalProperties': {
        const name = String(params.additionalProperty);
        const known = Object.keys((schemaAt(schema, e.instancePath)?.properties ?? {}) as Record<string, unknown>).sort();
        const what = e.instancePath === '' ? `${service} settings are` : 'allowed fields are';
        return { path: e.instancePath, message: `has unknown field ${JSON.stringify(name)}${didYouMean(name, known)}; ${known.length > 0 ? `${what} ${known.join(', ')}` : `${service} takes no settings here`}` };
      }
      case 'enum': {
        const allowed = params.allowedValues as unknown[];
        return { path: e.instancePath, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${got}${hidden ? '' : didYouMean(value, allowed.filter((v): v is string => typeof v === 'string'))}` };
      }
      case 'type': {
        const type = String(params.type);
        const wanted = e.instancePath === '' && type === 'object' ? 'an object of setting names and values' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
        return { path: e.instancePath, message: `must be ${wanted}${got}` };
      }
      case 'required':
        return { path: e.instancePath, message: `is missing required field ${JSON.stringify(params.missingProperty)}` };
      default:
        return { path: e.instancePath, message: `${e.message ?? e.keyword}${got}` };
    }
  });
}

/**
 * Whether the setting at `pointer` may hold a credential, which an error must not show (it
 * may end up in a CI log): its name or the name of a setting it is in says so
 * (`/auth/rootPassword`, `/passwords/0`), or its value is a URL with a password, or a list or
 * object holding one or a field named like a credential (`{ password: ... }` where a string
 * was expected).
 */
function mayBeCredential(pointer: string, value: unknown): boolean {
  return pointer.split('/').slice(1).some((segment) => isCredentialName(String(unescapePointer(segment)))) || holdsCredential(value);
}

/** Whether `value` is a URL with a password, or a list or object holding one or a field named like a credential. */
function holdsCredential(value: unknown): boolean {
  if (typeof value === 'string') return /:\/\/[^/@\s]*:[^/@\s]*@/.test(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => (!Array.isArray(value) && isCredentialName(key)) || holdsCredential(item));
}

/**
 * The first value in `value` that is not plain data (a function, a symbol, an instance of a
 * class such as a Date or a Secret), with its JSON pointer: settings are data, copied and
 * compared as JSON.
 */
function unplainValue(value: unknown, path = ''): { readonly path: string; readonly what: string } | undefined {
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return { path, what: `a ${typeof value}` };
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && ![Object.prototype, null].includes(Object.getPrototypeOf(value))) return { path, what: shownValue(value) };
  for (const [key, item] of Object.entries(value)) {
    const found = unplainValue(item, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found) return found;
  }
  return undefined;
}

/** The value at JSON pointer `pointer` of `value`. */
function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const segment of pointer.split('/').slice(1).map(unescapePointer)) {
    current = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  }
  return current;
}

/** The part of `schema` that describes the value at JSON pointer `pointer`, where plain properties and items lead there. */
function schemaAt(schema: Record<string, unknown>, pointer: string): Record<string, unknown> | undefined {
  let current: Record<string, unknown> | undefined = schema;
  for (const segment of pointer.split('/').slice(1).map(unescapePointer)) {
    const next: unknown = typeof segment === 'number' ? current?.items : (current?.properties as Record<string, unknown> | undefined)?.[segment];
    current = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
  }
  return current;
}

/** Ajv errors as paths and sentences a person reads. */
export function ajvProblems(errors: ErrorObject[]): SettingsProblem[] {
  return errors.map((e) => {
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties':
        return { path: e.instancePath, message: `has unknown field ${JSON.stringify(params.additionalProperty)}` };
      case 'enum':
        return { path: e.instancePath, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
      case 'type':
        return params.type === 'string'
          ? { path: e.instancePath, message: 'must be a string; write it in quotes (YAML reads an unquoted 1.10 as the number 1.1)' }
          : { path: e.instancePath, message: e.message ?? e.keyword };
      case 'not':
        return e.schemaPath.includes('exactTag')
          ? { path: e.instancePath, message: 'must be an exact version, not a moving tag (latest, stable, main, master)' }
          : { path: e.instancePath, message: e.message ?? e.keyword };
      case 'required':
        return { path: e.instancePath, message: `is missing required field ${JSON.stringify(params.missingProperty)}` };
      default:
        return { path: e.instancePath, message: e.message ?? e.keyword };
    }
  });
}

export function unescapePointer(segment: string): string | number {
  const text = segment.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^[0-9]+$/.test(text) ? Number(text) : text;
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v, k)]));
}

/**
 * A service as the catalog hands it out: frozen, so no site can change what every other site
 * renders with, and named for input hashes by its folder's fingerprint. The name is not
 * enumerable, so a copy (`{ ...service, images }`) loses it and is read field by field.
 */
function finished(service: CatalogService): CatalogService {
  Object.defineProperty(service, INPUT_IDENTITY, { value: `${service.name}@${service.fingerprint}` });
  return deepFreeze(service);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  }
  return value;
}

/** A path as errors show it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** sha256 over the names and contents of every file under `dir`, in a stable order. */
function fingerprintOf(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory()) walk(join(current, entry.name), `${prefix}${entry.name}/`);
      else hash.update(`${prefix}${entry.name}\0`).update(readFileSync(join(current, entry.name))).update('\0');
    }
  };
  walk(dir, '');
  return `sha256:${hash.digest('hex')}`;
}

/** A catalog YAML file (`family.yml`, `groups.yml`) read and checked against its schema. */
export interface CheckedYamlFile {
  readonly value: unknown;
  /** The path errors show. */
  readonly shown: string;
  /** `<shown>:<line>` of the node at `path`, for errors. */
  at(path: readonly (string | number)[]): string;
  /** Line of the node at `path`. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/** Reads `file` strictly and checks it with `validate`, throwing every problem with its line. */
export function readCheckedYaml(file: string, validate: ValidateFunction): CheckedYamlFile {
  const shown = displayPath(file);
  const source = readYamlFile(file, shown);
  const at = (path: readonly (string | number)[]) => {
    const line = source.lineOf(path);
    return `${shown}${line ? `:${line}` : ''}`;
  };
  if (!validate(source.value)) {
    throw new UserErrors(ajvProblems(validate.errors ?? []).map((p) =>
      new UserError(`${at(p.path.split('/').slice(1).map(unescapePointer))}: ${p.path || '(top level)'} ${p.message}`)));
  }
  return { value: source.value, shown, at, lineOf: (path) => source.lineOf(path) };
}
