/** What the Argo CD and Flux renderers share: names, the branch they follow, where charts come from. */
import { Environment } from './environment';
import { Site } from './site';
import type { Instance } from './instance';
import type { HelmChart } from './service-definition';

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
export function clusterInstances(env: Environment): Instance[] {
  return env.instances
    .filter((i) => i.placement.kind === 'kubernetes' && (i.service.helm || i.service.workload))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Kubernetes object name `<site>-<env>[-<suffix>]`. */
export function qualifiedName(env: Environment, suffix?: string): string {
  return [Site.of(env).name, env.name, ...(suffix ? [suffix] : [])].join('-');
}
