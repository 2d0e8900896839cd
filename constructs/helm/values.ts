import { Environment } from '../environment';
import { Instance } from '../instance';
import { errorAt, shownValue } from '../errors';
import { parseYaml, toYaml } from '../yaml';
import { templateContext } from '../template-context';
import { SECRETS_CHECKSUM_ANNOTATION, secretsChecksum } from '../secrets/checksum';
import type { RenderedFile } from '../rendered-file';

/**
 * `values/<instance>.yaml` for every chart-based instance on the cluster. The rendered
 * template is parsed back (a template that writes broken YAML fails here, naming the instance)
 * and written out again in siteforge's YAML style.
 */
export function renderValues(env: Environment): RenderedFile[] {
  if (!env.cluster) return [];
  return env.instances
    .filter((i) => i.placement.kind === 'kubernetes' && i.service.helm)
    .map((instance) => ({ path: `values/${instance.name}.yaml`, content: valuesOf(instance) }));
}

function valuesOf(instance: Instance): string {
  const context = templateContext(instance);
  const text = instance.service.helm!.values(context);
  const values = parseYaml(text, `${instance.node.path}: rendered values of ${instance.service.name}`) ?? {};
  addSecretsChecksum(instance, values, (context.credentials as { secretName: string }).secretName);
  return toYaml(values);
}

/**
 * The chart reads the instance's credentials Secret by name (`existingSecret`), so a changed
 * value alone changes none of its objects and rolls no pod. Where the values of the Secret
 * are sealed by siteforge, their checksum goes into each pod-annotations map the catalog
 * declares (`helm.podAnnotations`): a new value changes the pod template, a kept one nothing.
 */
function addSecretsChecksum(instance: Instance, values: unknown, secretName: string): void {
  const paths = instance.service.helm!.podAnnotations;
  if (paths.length === 0 || !instance.service.connection?.credentials) return;
  const checksum = secretsChecksum(Environment.of(instance), [{ name: secretName }]);
  if (checksum === undefined) return;
  for (const path of paths) {
    let map: unknown = values;
    for (const key of path.split('.')) {
      if (!isMapping(map)) break;
      map = (map[key] ??= {});
    }
    if (!isMapping(map)) {
      throw errorAt(instance.node.path, `${instance.service.name}'s helm.podAnnotations path ${path} must be a mapping in its rendered values, got ${shownValue(map)}; fix the service's values template or the path in its service.yml`);
    }
    map[SECRETS_CHECKSUM_ANNOTATION] = checksum;
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
