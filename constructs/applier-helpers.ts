import type { RenderedFile } from './rendered-file';
/** What the Argo CD and Flux renderers share: names, the branch they follow, where charts come from. */
import { Environment } from './environment';
import { Site } from './site';
import type { Instance } from './instance';
import type { HelmChart } from './service-definition';
import { byName } from './names';

/** Branch of the environment repository that appliers follow. */
export const ENVIRONMENT_BRANCH = 'main';

/** Where the cluster pulls a chart from: the environment's chart mirror when it has one. */
export interface ChartSource {
  /** Repository URL as the environment pulls it (`https://...` or `oci://...`). */
  readonly url: string;
  readonly oci: boolean;
  readonly chart: HelmChart;
}

export function chartSourceOf(instance: Instance): ChartSource {
  const chart = instance.service.helm!.chart;
  const url = Environment.of(instance).chartMirror ?? chart.repository;
  return { url, oci: url.startsWith('oci://'), chart };
}

/** Instances of `env` that run on its cluster, sorted by name. */
/** Names of the folders under `manifests/` among `files` (what an applier has to apply). */
export function manifestFolders(files: readonly RenderedFile[]): Set<string> {
  return new Set(files.filter((f) => f.path.startsWith('manifests/')).map((f) => f.path.split('/')[1]));
}

/**
 * Instances an applier applies, sorted by name: those on the cluster, and VM instances with a
 * `manifests/<instance>/` folder (the selector-less Service that lets pods reach them).
 */
export function appliedInstances(env: Environment, folders: ReadonlySet<string>): Instance[] {
  return env.instances
    .filter((i) => clusterInstances(env).includes(i) || (i.placement.kind === 'vm' && folders.has(i.name)))
    .sort(byName);
}

export function clusterInstances(env: Environment): Instance[] {
  return env.instances
    .filter((i) => i.placement.kind === 'kubernetes' && (i.service.helm || i.service.workload))
    .sort(byName);
}

/** Kubernetes object name `<site>-<env>[-<suffix>]`. */
export function qualifiedName(env: Environment, suffix?: string): string {
  return [Site.of(env).name, env.name, ...(suffix ? [suffix] : [])].join('-');
}
