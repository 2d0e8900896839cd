import { UserError } from '../constructs/errors';

/*
 * Handlebars' strict mode makes a missing value an error where a value is printed, but not
 * where it is a helper's argument: `{{#if settings.typo}}` is silently false. So every path a
 * template reads is checked, when the catalog loads, against what the template context holds
 * (constructs/template-context.ts, README "Writing a catalog service") and the service's own
 * settings schema and images. Paths inside `each` and `with` blocks read another context and
 * are left to strict mode.
 */

/** The fields of the template context, by root; `*` stands for any key (checked elsewhere). */
export const CONTEXT: Record<string, readonly string[] | '*'> = {
  site: ['name', 'domain'],
  environment: ['name', 'zone', 'namespace'],
  instance: ['name', 'service', 'version', 'profile', 'replicas', 'clustered', 'quorum', 'secondaries', 'host', 'extraHosts', 'members', 'monitoring', 'url', 'tls', 'ingressClass', 'storageClass', 'resources'],
  settings: '*',
  images: '*',
  endpoint: ['host', 'port'],
  credentials: ['secretName'],
  bindings: '*',
};
/** What connection templates (`connection.env`, `credentials.secretName`) see besides. */
const CONNECTION = ['host', 'port'];
const IMAGE_FIELDS = ['registry', 'repository', 'image', 'tag', 'digest', 'ref'];
const BINDING_FIELDS = ['instance', 'host', 'port', 'settings'];
const RESOURCE_FIELDS = ['set', 'requests', 'limits'];
const TLS_FIELDS = ['enabled', 'secretName'];

/** What a service's templates may read besides the fixed context. */
export interface TemplateContract {
  /** The service's settings schema. */
  readonly settingsSchema: Record<string, unknown>;
  readonly images: readonly string[];
  /** Services the service depends on (the keys of `bindings`). */
  readonly dependencies: readonly string[];
  /** The names of its chart's further hosts (the keys of `instance.extraHosts`). */
  readonly extraHosts: readonly string[];
}

/**
 * Throws an error naming the template (`nameOf()`) and the line of the first path in `source`
 * that the template context cannot hold. `connection` templates also see `host` and `port`.
 * Returns the fields of the context the template reads (`instance.host`), outside `each` and
 * `with` blocks.
 */
export function checkTemplatePaths(ast: hbs.AST.Program, nameOf: () => string, contract: TemplateContract, connection = false): ReadonlySet<string> {
  const read = new Set<string>();
  const fail = (node: hbs.AST.Node, path: string, why: string): never => {
    throw new UserError(`${nameOf()}:${node.loc?.start.line ?? 0}: ${path} ${why}`);
  };
  const checkPath = (node: hbs.AST.PathExpression) => {
    if (node.data || node.parts.length === 0 || node.original === 'this' || node.original.startsWith('this.')) return;
    const [root, first, second] = node.parts;
    const path = node.parts.join('.');
    read.add(first === undefined ? root : `${root}.${first}`);
    if (connection && CONNECTION.includes(root)) {
      if (node.parts.length > 1) fail(node, path, `is not in the template context; ${root} is a value`);
      return;
    }
    const fields = CONTEXT[root];
    if (fields === undefined) {
      const roots = [...Object.keys(CONTEXT), ...(connection ? CONNECTION : [])];
      fail(node, path, `is not in the template context; templates see ${roots.join(', ')}`);
    }
    if (first === undefined) return;
    if (fields !== '*' && !fields.includes(first)) fail(node, path, `is not in the template context; ${root} has ${fields.join(', ')}`);
    if (root === 'instance' && first === 'resources' && second !== undefined && !RESOURCE_FIELDS.includes(second)) {
      fail(node, path, `is not in the template context; instance.resources has ${RESOURCE_FIELDS.join(', ')}`);
    }
    if (root === 'instance' && first === 'extraHosts' && second !== undefined && !contract.extraHosts.includes(second)) {
      fail(node, path, `names no host of helm.extraHosts; they are ${contract.extraHosts.join(', ') || '(none)'}`);
    }
    if (root === 'instance' && first === 'tls' && second !== undefined && !TLS_FIELDS.includes(second)) {
      fail(node, path, `is not in the template context; instance.tls has ${TLS_FIELDS.join(', ')}`);
    }
    if (root === 'settings') checkSettingsPath(node, node.parts.slice(1), contract.settingsSchema, 'settings', fail);
    if (root === 'images') {
      if (!contract.images.includes(first)) fail(node, path, `names no image of the service; images are ${contract.images.join(', ') || '(none)'}`);
      if (second !== undefined && !IMAGE_FIELDS.includes(second)) fail(node, path, `is not in the template context; an image has ${IMAGE_FIELDS.join(', ')}`);
    }
    if (root === 'bindings') {
      // Any service the instance uses is bound, declared dependency or not (an optional one,
      // such as Prometheus using an Alertmanager, is read under {{#if bindings.x}}).
      if (second !== undefined && !BINDING_FIELDS.includes(second)) fail(node, path, `is not in the template context; a binding has ${BINDING_FIELDS.join(', ')}`);
    }
  };
  const visit = (node: hbs.AST.Node | null | undefined, checked: boolean): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        (node as hbs.AST.Program).body.forEach((n) => visit(n, checked));
        break;
      case 'MustacheStatement':
      case 'SubExpression': {
        const m = node as hbs.AST.MustacheStatement;
        if (m.params.length === 0) visit(m.path, checked);
        m.params.forEach((p) => visit(p, checked));
        break;
      }
      case 'BlockStatement': {
        const b = node as hbs.AST.BlockStatement;
        const helper = (b.path as hbs.AST.PathExpression).original;
        b.params.forEach((p) => visit(p, checked));
        const keepsContext = helper === 'if' || helper === 'unless';
        visit(b.program, checked && keepsContext);
        visit(b.inverse, checked && (keepsContext || helper === 'each' || helper === 'with'));
        break;
      }
      case 'PathExpression':
        if (checked) checkPath(node as hbs.AST.PathExpression);
        break;
      default:
        break;
    }
  };
  visit(ast, true);
  return read;
}

function checkSettingsPath(
  node: hbs.AST.PathExpression,
  parts: readonly string[],
  schema: Record<string, unknown>,
  shown: string,
  fail: (node: hbs.AST.Node, path: string, why: string) => never,
): void {
  if (parts.length === 0) return;
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return;
  const [name, ...rest] = parts;
  const property = properties[name];
  if (property === undefined) {
    if (schema.additionalProperties !== false) return;
    fail(node, `${shown}.${name}`, `is not a setting of the service; values.schema.json has ${Object.keys(properties).join(', ') || 'no settings'}`);
  }
  checkSettingsPath(node, rest, property, `${shown}.${name}`, fail);
}
