import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { Environment } from '../environment';
import { Instance } from '../instance';
import { addCertificate, needsCertificate } from './certificate';

/** Where an exposed instance's Ingress sends its requests. */
export interface IngressBackendProps {
  /** Name of a Service in the instance's namespace. */
  readonly serviceName: string;
  /** The Service's port. */
  readonly port: number;
  /**
   * Annotations of the Ingress, for what the service needs of the ingress controller.
   * @default - none
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * The `networking.k8s.io/v1` Ingress of an exposed instance, named after it: its host and path
 * (a prefix) to `backend`, with the TLS its `tls` gives it, and the cert-manager Certificate
 * that provides it when cert-manager does. The instance must have a host.
 */
export function addIngress(scope: Construct, instance: Instance, backend: IngressBackendProps): ApiObject {
  const host = instance.host!;
  const secretName = instance.tls.secretNameOf(instance.name);
  const annotations = backend.annotations && Object.keys(backend.annotations).length > 0 ? { annotations: { ...backend.annotations } } : {};
  const ingress = new ApiObject(scope, 'ingress', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: instance.name, ...annotations },
    spec: {
      ingressClassName: Environment.of(instance).cluster!.ingressClass,
      rules: [{
        host,
        http: { paths: [{ backend: { service: { name: backend.serviceName, port: { number: backend.port } } }, path: instance.exposure.path ?? '/', pathType: 'Prefix' }] },
      }],
      ...(secretName ? { tls: [{ hosts: [host], secretName }] } : {}),
    },
  });
  if (needsCertificate(instance)) addCertificate(scope, instance);
  return ingress;
}
