import { Environment } from './environment';
import { Instance } from './instance';
import { Site } from './site';
import { resolveImage, type ResolvedImage } from './images';
import { urlHost } from './host-group';

/**
 * How an instance is reached by the instances that use it: the fields a catalog's
 * `connection` templates see, besides `instance`, `settings` and `environment`.
 */
export interface Endpoint {
  /** As written in a URL or a `host:port`: an IPv6 address in brackets (`[fd00::11]`). */
  readonly host: string;
  readonly port: number;
}

/**
 * Where `instance` is reached from inside its environment, as seen by `from` (the instance
 * using it, when there is one). A VM instance is reached at its first host's address from
 * VMs (an IPv6 address in brackets, as URLs and `host:port` want it), and from Kubernetes by the cluster DNS name of its selector-less Service (whose
 * EndpointSlice lists the VM hosts, see `kubernetes/vm-endpoints.ts`). An instance on Kubernetes
 * is reached by the DNS name of the Service its clients use (see `Instance.serviceName`).
 */
export function endpointOf(instance: Instance, from?: Instance): Endpoint {
  const env = Environment.of(instance);
  const port = instance.service.ports[0]?.port ?? 0;
  const viaCluster = instance.placement.kind === 'kubernetes' || from?.placement.kind === 'kubernetes';
  if (!viaCluster) return { host: urlHost(instance.hosts[0]?.address ?? ''), port };
  return { host: `${instance.serviceName}.${env.cluster?.namespace}.svc`, port };
}

/**
 * The context every catalog template of `instance` renders with. This is the contract
 * between the catalog and the model; README's "Writing a catalog service" lists its fields.
 */
export function templateContext(instance: Instance): Record<string, unknown> {
  const site = Site.of(instance);
  const env = Environment.of(instance);
  const cluster = env.cluster;
  const images: Record<string, ResolvedImage> = {};
  for (const image of instance.service.images) images[image.name] = resolveImage(image, env.registryMirror);
  const endpoint = endpointOf(instance);
  const { cpu, memory } = instance.resources;
  const tls = instance.tls;
  const base = {
    site: { name: site.name, domain: site.domain },
    environment: { name: env.name, zone: env.zone.name, namespace: cluster?.namespace ?? '' },
    instance: {
      name: instance.name,
      service: instance.service.name,
      version: instance.service.version,
      profile: instance.profile.name,
      replicas: instance.nodes,
      clustered: instance.clustered,
      quorum: Math.floor(instance.nodes / 2) + 1,
      // The replicas beside the primary of a primary-replica service (a chart's slaveCount).
      secondaries: instance.nodes - 1,
      host: instance.host ?? '',
      // Empty strings when not exposed, so that strict mode finds each name the catalog declares.
      extraHosts: { ...Object.fromEntries((instance.service.helm?.extraHosts ?? []).map((name) => [name, ''])), ...instance.extraHosts },
      // One entry per pod of a StatefulSet-like workload: ordinal, 1-based id and stable DNS name.
      members: Array.from({ length: instance.nodes }, (_, ordinal) => ({
        ordinal,
        id: ordinal + 1,
        host: `${instance.name}-${ordinal}.${instance.name}.${cluster?.namespace ?? ''}.svc`,
      })),
      monitoring: {
        enabled: instance.monitored,
        path: instance.service.monitoring?.path ?? '',
        interval: instance.service.monitoring?.interval ?? '',
      },
      // The scheme follows the Ingress: https only where it has TLS.
      url: instance.url ?? `http://${endpoint.host}:${endpoint.port}`,
      tls: { enabled: tls.enabled, secretName: tls.secretNameOf(instance.name) ?? '' },
      ingressClass: cluster?.ingressClass ?? '',
      storageClass: cluster?.storageClass ?? '',
      resources: {
        set: Boolean(cpu || memory),
        requests: compact({ cpu: cpu?.request, memory: memory?.request }),
        limits: compact({ cpu: cpu?.limit, memory: memory?.limit }),
      },
    },
    settings: instance.settings,
    images,
    endpoint,
  };
  const credentials = instance.service.connection?.credentials;
  const bindings: Record<string, unknown> = {};
  for (const dependency of instance.dependencies) {
    bindings[dependency.service.name] = { instance: dependency.name, settings: dependency.settings, ...endpointOf(dependency, instance) };
  }
  return {
    ...base,
    credentials: { secretName: credentials ? credentials.secretName(base) : '' },
    bindings,
  };
}

function compact(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined));
}
