import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { FleetShape } from './fleet';

/**
 * The reference the issue measures against: the same kind of objects (a Deployment, Service,
 * Ingress and ConfigMap per service, a Namespace per environment) built as plain objects and
 * serialized with the `yaml` library, single-threaded, one file each. Returns the number of
 * objects written.
 */
export function writeReference(outDir: string, shape: FleetShape): number {
  let objects = 0;
  for (let s = 0; s < shape.sites; s++) {
    for (let e = 0; e < shape.envs; e++) {
      const namespace = `site-${s}-env-${e}`;
      const dir = join(outDir, `site-${s}`, `env-${e}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `namespace-${namespace}.yaml`), stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
      objects++;
      for (let i = 0; i < shape.services; i++) {
        const name = `service-${i}`;
        const labels = { 'app.kubernetes.io/name': 'service', 'app.kubernetes.io/instance': name };
        const metadata = { name, namespace, labels };
        const docs = [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...metadata, name: `${name}-config` }, data: { 'app.yml': `server:\n  port: 8080\nname: ${name}\n` } },
          {
            apiVersion: 'apps/v1', kind: 'Deployment', metadata,
            spec: {
              replicas: 1, selector: { matchLabels: labels },
              template: {
                metadata: { labels },
                spec: {
                  containers: [{
                    name, image: `registry.example.com/app:${i}.0.0`, ports: [{ containerPort: 8080, name: 'http' }],
                    env: [{ name: 'SERVER_PORT', value: '8080' }],
                    readinessProbe: { httpGet: { path: '/health', port: 8080 } },
                    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
                    volumeMounts: [{ name: 'config', mountPath: '/config' }],
                  }],
                  volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
                },
              },
            },
          },
          { apiVersion: 'v1', kind: 'Service', metadata, spec: { selector: labels, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } },
          {
            apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata,
            spec: { rules: [{ host: `${name}.${namespace}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 8080 } } } }] } }] },
          },
        ];
        for (const doc of docs) {
          writeFileSync(join(dir, `${doc.kind.toLowerCase()}-${doc.metadata.name}.yaml`), stringify(doc));
          objects++;
        }
      }
    }
  }
  return objects;
}
