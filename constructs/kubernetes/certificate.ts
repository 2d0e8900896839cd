import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Instance } from '../instance';

/** Whether siteforge writes a cert-manager Certificate for `instance` (exposed, TLS by cert-manager). */
export function needsCertificate(instance: Instance): boolean {
  return instance.host !== undefined && instance.tls.kind === 'cert-manager';
}

/**
 * The cert-manager `Certificate` (cert-manager.io/v1) of an exposed instance: its Ingress
 * hosts as its DNS names (the host, then the chart's further hosts, see `Instance.extraHosts`), signed by the chosen issuer, stored in the Secret its Ingress serves
 * (`<instance>-tls`). Written beside the instance's objects rather than left to cert-manager's
 * ingress-shim, so the repository holds it, review shows it and the applier prunes it.
 */
export function addCertificate(scope: Construct, instance: Instance): ApiObject {
  const tls = instance.tls;
  const issuer = tls.issuer!;
  return new ApiObject(scope, 'certificate', {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: instance.name },
    spec: {
      secretName: tls.secretNameOf(instance.name)!,
      dnsNames: instance.ingressHosts,
      issuerRef: { group: 'cert-manager.io', kind: issuer.kind, name: issuer.name },
    },
  });
}
