import { Environment } from '../environment';
import { Instance } from '../instance';
import { parseYaml, toYaml } from '../yaml';
import { templateContext } from '../template-context';
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
  const text = instance.service.helm!.values(templateContext(instance));
  const values = parseYaml(text, `${instance.node.path}: rendered values of ${instance.service.name}`);
  return toYaml(values ?? {});
}
