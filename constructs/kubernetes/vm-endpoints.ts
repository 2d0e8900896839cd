import { ApiObject, Chart } from 'cdk8s';
import { Environment } from '../environment';
import { errorAt } from '../errors';
import type { Host } from '../host-group';
import type { Instance } from '../instance';
import type { RenderedFile } from '../rendered-file';
import { chartApp, folderOf, type KubernetesObject } from './manifests';
import { instanceLabels } from './native-workload';
import { byName } from '../names';

const IPV4 = /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** VM instances that an instance on the cluster uses, sorted by name. */
export function vmInstancesReachedFromCluster(env: Environment): Instance[] {
  const reached = new Set<Instance>();
  for (const user of env.instances) {
    if (user.placement.kind !== 'kubernetes') continue;
    for (const dependency of user.dependencies) if (dependency.placement.kind === 'vm') reached.add(dependency);
  }
  return [...reached].sort(byName);
}

/**
 * The hosts of a VM instance that serve its clients: all of them, or only the first (the
 * primary the others replicate from) when its service says so (`vm.clientHosts: primary`).
 */
function clientHostsOf(instance: Instance): readonly Host[] {
  return instance.service.vm?.clientHosts === 'primary' ? instance.hosts.slice(0, 1) : instance.hosts;
}

/**
 * Hybrid reach: `manifests/<instance>/` for every VM instance used from the cluster, holding a
 * Service without selector and a `discovery.k8s.io/v1` EndpointSlice listing the addresses of
 * the VM hosts that serve clients (see clientHostsOf), so pods reach the VM instance at
 * `<instance>.<namespace>.svc` like any Service.
 */
export function renderVmEndpoints(env: Environment): RenderedFile[] {
  const cluster = env.cluster;
  if (!cluster) return [];
  const instances = vmInstancesReachedFromCluster(env);
  if (instances.length === 0) return [];
  return instances.flatMap((instance) => {
    const chart = new Chart(chartApp(), instance.name, { disableResourceNameHashes: true });
    const hosts = clientHostsOf(instance);
    const addressType = addressTypeOf(instance, hosts);
    const labels = instanceLabels(instance);
    const ports = instance.service.vm?.ports ?? instance.service.ports;
    new ApiObject(chart, 'service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: instance.name, namespace: cluster.namespace, labels },
      spec: {
        type: 'ClusterIP',
        ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.port })),
      },
    });
    new ApiObject(chart, 'endpointslice', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${instance.name}-vm`,
        namespace: cluster.namespace,
        labels: { ...labels, 'kubernetes.io/service-name': instance.name, 'endpointslice.kubernetes.io/managed-by': 'siteforge' },
      },
      addressType,
      ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
      endpoints: hosts.map((h) => ({ addresses: [h.address], conditions: { ready: true }, hostname: h.name })),
    });
    return folderOf(`manifests/${instance.name}`, chart.toJson() as KubernetesObject[]);
  });
}

/** IPv4 or IPv6 for the EndpointSlice; every host it lists must have an address of that family. */
function addressTypeOf(instance: Instance, hosts: readonly Host[]): 'IPv4' | 'IPv6' {
  const users = Environment.of(instance).instances.filter((u) => u.placement.kind === 'kubernetes' && u.dependencies.includes(instance)).map((u) => u.name);
  const v4 = hosts.every((h) => IPV4.test(h.address));
  const v6 = hosts.every((h) => h.address.includes(':') && IPV6.test(h.address));
  if (!v4 && !v6) {
    const bad = hosts.find((h) => !IPV4.test(h.address))!;
    throw errorAt(instance.node.path, `${users.join(', ')} on Kubernetes uses this VM instance, so its hosts need IP addresses of one family for an EndpointSlice, but host ${bad.name} has address ${JSON.stringify(bad.address)}; give the host an IP address`);
  }
  return v4 ? 'IPv4' : 'IPv6';
}
