import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Environment } from '../environment';
import { Site } from '../site';
import { yamlFile, type RenderedFile } from '../rendered-file';
import { NativeWorkloadChart, instanceLabels } from './native-workload';
import { addDashboard } from './monitoring';
import { addCertificate, needsCertificate } from './certificate';
import { applyAnnotations } from './client-side-apply';
import { addIngress } from './ingress';
import { addPodDisruptionBudget } from './pod-disruption-budget';

/** A Kubernetes object as cdk8s writes it. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/**
 * `manifests/<instance>/` of every natively rendered instance on the cluster, plus
 * `manifests/namespace/` with the environment's Namespace and ConfigMaps: one object per file, named
 * `<kind>-<name>.yaml`, and a `kustomization.yaml` listing them.
 *
 * Every chart lives in an App of its own, made for it and dropped after it: the fleet's model
 * is never held in one cdk8s tree, and synthesizing a chart (which resolves and validates its
 * whole App) costs that chart alone.
 */
export function renderManifests(env: Environment): RenderedFile[] {
  const cluster = env.cluster;
  if (!cluster) return [];
  const namespaceChart = new Chart(chartApp(), 'namespace', { disableResourceNameHashes: true });
  const labels = { 'app.kubernetes.io/part-of': Site.of(env).name, 'app.kubernetes.io/managed-by': 'siteforge' };
  new kplus.Namespace(namespaceChart, 'namespace', { metadata: { name: cluster.namespace, labels } });
  // The environment's own ConfigMaps come with its Namespace, before any instance that reads them.
  for (const configMap of cluster.configMaps) {
    const annotations = applyAnnotations(cluster.applier, configMap.data);
    new kplus.ConfigMap(namespaceChart, `configmap-${configMap.name}`, { metadata: { name: configMap.name, namespace: cluster.namespace, labels, annotations }, data: configMap.data });
  }
  const charts: Chart[] = [namespaceChart];
  for (const instance of env.instances) {
    if (instance.placement.kind === 'kubernetes' && instance.service.workload) {
      charts.push(new NativeWorkloadChart(chartApp(), instance.name, { instance }));
    } else if (instance.placement.kind === 'kubernetes') {
      // A chart renders its own ServiceMonitor (its values enable it) and, most often, its
      // Ingress (its values name the TLS Secret) and PodDisruptionBudget; the dashboard and the
      // Certificate are ours, and so are the Ingress and PodDisruptionBudget where the chart's
      // are of no use (see HelmService.siteforgeIngress and siteforgePodDisruptionBudget).
      const helm = instance.service.helm;
      const dashboard = instance.monitored && Boolean(instance.service.monitoring?.dashboard);
      const ingress = instance.host === undefined ? undefined : helm?.siteforgeIngress;
      const budget = instance.clustered ? helm?.siteforgePodDisruptionBudget : undefined;
      const certificate = needsCertificate(instance);
      if (!dashboard && !certificate && !ingress && !budget) continue;
      const chart = new Chart(chartApp(), instance.name, { namespace: cluster.namespace, labels: instanceLabels(instance), disableResourceNameHashes: true });
      if (dashboard) addDashboard(chart, instance);
      if (ingress) addIngress(chart, instance, { serviceName: instance.serviceName, port: instance.service.ports[0].port, annotations: ingress.annotations });
      else if (certificate) addCertificate(chart, instance);
      if (budget) addPodDisruptionBudget(chart, instance, budget);
      charts.push(chart);
    }
  }
  return charts.flatMap((chart) => folderOf(`manifests/${chart.node.id}`, chart.toJson() as KubernetesObject[]));
}

/** An App to hold one chart; it never writes to disk. */
export function chartApp(): App {
  return new App({ outdir: '/nonexistent' });
}

/** One file per object, and the folder's kustomization. */
export function folderOf(folder: string, objects: readonly KubernetesObject[]): RenderedFile[] {
  const files = objects.map((o) => yamlFile(`${folder}/${o.kind.toLowerCase()}-${o.metadata.name}.yaml`, o));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`two objects render to ${f.path}`);
    seen.add(f.path);
  }
  const names = files.map((f) => f.path.slice(folder.length + 1)).sort();
  files.push(yamlFile(`${folder}/kustomization.yaml`, { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names }));
  return files;
}
