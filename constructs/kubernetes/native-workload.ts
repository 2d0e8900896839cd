import { createHash } from 'node:crypto';
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment } from '../environment';
import { Instance } from '../instance';
import { configMapNameOf } from './object-names';
import { EnvironmentConfigMap } from '../environment-config-map';
import { errorAt } from '../errors';
import { Site } from '../site';
import { parseYaml } from '../yaml';
import { templateKind } from '../template-kind';
import { endpointOf, templateContext } from '../template-context';
import { addDashboard, addServiceMonitor } from './monitoring';
import { addIngress } from './ingress';
import { SECRETS_CHECKSUM_ANNOTATION, secretsChecksum, type SecretRead } from '../secrets/checksum';
import type { NativeWorkload, ResourceQuantities, WorkloadProbe } from '../service-definition';

export interface NativeWorkloadChartProps {
  /** The instance to render; its service must describe a native workload. */
  readonly instance: Instance;
}

/**
 * The Kubernetes objects of a natively rendered instance: a ConfigMap of its rendered config
 * files, a Deployment or StatefulSet, a Service and, when exposed, an Ingress (with TLS, and a
 * cert-manager Certificate, as its `tls` says).
 */
export class NativeWorkloadChart extends Chart {
  private claimTemplate?: object;

  constructor(scope: Construct, id: string, props: NativeWorkloadChartProps) {
    const { instance } = props;
    const env = Environment.of(instance);
    const workload = instance.service.workload as NativeWorkload;
    const labels = instanceLabels(instance);
    super(scope, id, { namespace: env.cluster!.namespace, labels, disableResourceNameHashes: true });

    const context = templateContext(instance);
    const name = instance.name;
    const podMetadata = { labels: { 'app.kubernetes.io/name': instance.service.name, 'app.kubernetes.io/instance': name } };

    const configMap = workload.configFiles.length > 0
      ? new kplus.ConfigMap(this, 'config', {
        metadata: { name: configMapNameOf(instance) },
        data: Object.fromEntries(workload.configFiles.map((f) => [f.name, renderConfigFile(f.template(context), f.name, instance)])),
      })
      : undefined;

    const ports = instance.service.ports;
    const portNumber = (portName: string) => ports.find((p) => p.name === portName)!.port;
    const probe = (p?: WorkloadProbe) => p && (p.path
      ? kplus.Probe.fromHttpGet(p.path, { port: portNumber(p.port), initialDelaySeconds: seconds(p.initialDelaySeconds) })
      : kplus.Probe.fromTcpSocket({ port: portNumber(p.port), initialDelaySeconds: seconds(p.initialDelaySeconds) }));
    const image = context.images as Record<string, { ref: string }>;

    const secretReads: SecretRead[] = [];
    const container: kplus.ContainerProps = {
      name: instance.service.name,
      image: image[workload.image].ref,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: workload.command ? [...workload.command] : undefined,
      args: workload.args?.map((arg) => arg(context)),
      ports: ports.map((p) => ({ name: p.name, number: p.port, protocol: p.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
      envVariables: this.environmentVariables(instance, workload, context, secretReads),
      envFrom: instance.envFrom.map((source) => {
        if (source instanceof EnvironmentConfigMap) return kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(this, `env-from-configmap-${source.name}`, source.name));
        secretReads.push({ name: source.name });
        return kplus.Env.fromSecret(kplus.Secret.fromSecretName(this, `env-from-secret-${source.name}`, source.name));
      }),
      readiness: probe(workload.readiness),
      liveness: probe(workload.liveness),
      resources: {
        cpu: quantities(instance.resources.cpu, (q) => kplus.Cpu.millis(cpuMillis(q))),
        memory: quantities(instance.resources.memory, (q) => Size.mebibytes(mebibytes(q))),
      },
    };
    const metadata = { name };
    // Annotated for a Prometheus that discovers Services by annotation; clusters with the
    // Prometheus operator use the ServiceMonitor below instead.
    const monitoring = instance.monitored ? instance.service.monitoring : undefined;
    const service = new kplus.Service(this, 'service', {
      metadata: monitoring
        ? {
          name,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(portNumber(monitoring.port)),
            'prometheus.io/path': monitoring.path,
          },
        }
        : metadata,
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
      clusterIP: workload.kind === 'StatefulSet' ? 'None' : undefined,
    });
    const common = { metadata, podMetadata, select: false, replicas: instance.nodes, containers: [container] };
    const controller = workload.kind === 'StatefulSet'
      ? new kplus.StatefulSet(this, 'workload', { ...common, service })
      : new kplus.Deployment(this, 'workload', common);
    controller.select(kplus.LabelSelector.of({ labels: podMetadata.labels }));
    if (configMap) {
      // The app reads its config files only when it starts, and a ConfigMap change alone leaves
      // the pod template as it was: the checksum changes the template with the data, so the
      // controller rolls the pods (Helm's checksum/config convention).
      controller.podMetadata.addAnnotation('checksum/config', configChecksum(configMap.data));
    }
    // The environment's ConfigMaps it reads whole (envFrom) reach the container as it starts too.
    const environmentConfig = instance.envFrom.filter((source): source is EnvironmentConfigMap => source instanceof EnvironmentConfigMap);
    if (environmentConfig.length > 0) {
      controller.podMetadata.addAnnotation(ENVIRONMENT_CONFIG_CHECKSUM_ANNOTATION, configChecksum(Object.fromEntries(environmentConfig
        .flatMap((configMap) => Object.entries(configMap.data).map(([key, value]) => [`${configMap.name}/${key}`, value])))));
    }
    // Likewise a Secret's value reaches the container only when it starts (env from
    // secretKeyRef): where siteforge seals the values, their checksum rolls the pods when one
    // changes (rotated, or set anew) and leaves the template alone while they are kept.
    const secretsSum = secretsChecksum(env, secretReads);
    if (secretsSum) controller.podMetadata.addAnnotation(SECRETS_CHECKSUM_ANNOTATION, secretsSum);
    service.select(controller);

    const main = controller.containers[0];
    const mountPaths = [...new Set(workload.configFiles.map((f) => f.mountPath))];
    mountPaths.forEach((mountPath, index) => {
      const files = workload.configFiles.filter((f) => f.mountPath === mountPath);
      const volumeName = mountPaths.length === 1 ? 'config' : `config-${index}`;
      main.mount(mountPath, kplus.Volume.fromConfigMap(this, `volume-${volumeName}`, configMap!, {
        name: volumeName,
        items: Object.fromEntries(files.map((f) => [f.name, { path: f.name }])),
      }));
    });
    workload.writablePaths.forEach((path, index) => {
      main.mount(path, kplus.Volume.fromEmptyDir(this, `scratch-${index}`, `scratch-${index}`));
    });
    if (workload.storage) {
      // cdk8s-plus has no volume claim templates: the claim and its mount are added as patches.
      const dataMount = { name: 'data', mountPath: workload.storage.mountPath };
      const hasMounts = mountPaths.length + workload.writablePaths.length > 0;
      ApiObject.of(controller).addJsonPatch(hasMounts
        ? JsonPatch.add('/spec/template/spec/containers/0/volumeMounts/-', dataMount)
        : JsonPatch.add('/spec/template/spec/containers/0/volumeMounts', [dataMount]));
      // The claim is added to the synthesized JSON (see toJson): cdk8s-plus maps patched JSON
      // through its typed serializers, which drop a quantity written as a plain string.
      this.claimTemplate = {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: workload.storage.size } },
          ...(env.cluster!.storageClass ? { storageClassName: env.cluster!.storageClass } : {}),
        },
      };
    }

    if (instance.monitored) {
      addServiceMonitor(this, instance, podMetadata.labels);
      addDashboard(this, instance);
    }

    if (instance.host) addIngress(this, instance, { serviceName: service.name, port: portNumber(workload.httpPort ?? ports[0].name) });
  }

  /** The StatefulSet's objects, with its volume claim template. */
  public override toJson(): any[] {
    const objects = super.toJson();
    if (!this.claimTemplate) return objects;
    return objects.map((o) => (o.kind === 'StatefulSet' ? { ...o, spec: { ...o.spec, volumeClaimTemplates: [this.claimTemplate] } } : o));
  }

  /** The container's environment variables; adds every Secret key they read to `secretReads`. */
  private environmentVariables(instance: Instance, workload: NativeWorkload, context: Record<string, unknown>, secretReads: SecretRead[]): Record<string, kplus.EnvValue> {
    const variables: Record<string, kplus.EnvValue> = {};
    const set = (variable: string, value: kplus.EnvValue) => {
      if (variables[variable]) {
        throw errorAt(instance.node.path, `environment variable ${variable} is set twice; two of its bindings provide it`);
      }
      variables[variable] = value;
    };
    for (const [variable, template] of Object.entries(workload.env)) set(variable, kplus.EnvValue.fromValue(template(context)));
    for (const dependency of instance.dependencies) {
      const connection = dependency.service.connection;
      if (!connection) continue;
      const dependencyContext = { ...templateContext(dependency), ...endpointOf(dependency, instance) };
      for (const [variable, template] of Object.entries(connection.env)) set(variable, kplus.EnvValue.fromValue(template(dependencyContext)));
      if (connection.credentials) {
        const secretName = connection.credentials.secretName(dependencyContext);
        const secret = kplus.Secret.fromSecretName(this, `secret-${dependency.name}`, secretName);
        secretReads.push({ name: secretName, keys: Object.values(connection.credentials.env) });
        for (const [variable, key] of Object.entries(connection.credentials.env)) {
          set(variable, kplus.EnvValue.fromSecretValue({ secret, key }));
        }
      }
    }
    return variables;
  }
}

/** The standard labels of every object of an instance. */
export function instanceLabels(instance: Instance): Record<string, string> {
  return {
    'app.kubernetes.io/name': instance.service.name,
    'app.kubernetes.io/instance': instance.name,
    'app.kubernetes.io/version': instance.service.version,
    'app.kubernetes.io/part-of': Site.of(instance).name,
    'app.kubernetes.io/managed-by': 'siteforge',
  };
}

/** The pod-template annotation that changes with the data of the environment ConfigMaps a container reads whole. */
const ENVIRONMENT_CONFIG_CHECKSUM_ANNOTATION = 'checksum/environment-config';

/** sha256 of a ConfigMap's data, keys sorted, so it depends on the data and nothing else. */
export function configChecksum(data: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(data).sort().map((key) => [key, data[key]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** A rendered config file; YAML ones are parsed back, so a broken template fails here. */
function renderConfigFile(text: string, fileName: string, instance: Instance): string {
  if (templateKind(fileName + '.hbs') === 'yaml') parseYaml(text, `${instance.node.path}: config file ${fileName}`);
  return text;
}

function seconds(n: number): Duration | undefined {
  return n > 0 ? Duration.seconds(n) : undefined;
}

function quantities<T>(q: ResourceQuantities | undefined, convert: (quantity: string) => T): { request?: T; limit?: T } | undefined {
  if (!q) return undefined;
  return { request: q.request ? convert(q.request) : undefined, limit: q.limit ? convert(q.limit) : undefined };
}

function cpuMillis(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

function mebibytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };
  const match = /^([0-9.]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`memory quantity ${quantity} must use Ki, Mi, Gi or Ti`);
  return Number(match[1]) * units[match[2]];
}
