import { Environment } from '../environment';
import { Site } from '../site';
import type { Instance } from '../instance';
import { folderOf, type KubernetesObject } from '../kubernetes/manifests';
import { applyAnnotations } from '../kubernetes/client-side-apply';
import { instanceLabels } from '../kubernetes/native-workload';
import type { RenderedFile } from '../rendered-file';
import { secretMaterialOf } from './material';
import { generatorName, secretRequirements, type SecretRequirement } from './requirements';
import { SECRETS_FOLDER } from './paths';
import { vaultFile } from '../ansible/variables';

const GENERATOR_API = 'generators.external-secrets.io/v1alpha1';

/**
 * The objects that create every credentials Secret of the environment's Kubernetes instances
 * (`manifests/secrets/`, with a kustomization), and the Ansible Vault file of every VM instance
 * with credentials or using one that has them. Sealed and vault values come encrypted from the
 * engine (see `SecretMaterial`); nothing here sees a secret value.
 */
export function renderSecrets(env: Environment): RenderedFile[] {
  const objects: KubernetesObject[] = [];
  const files: RenderedFile[] = [];
  for (const requirement of secretRequirements(env)) {
    if (requirement.target === 'vm') files.push(renderVaultFile(requirement.instance!));
    else if (requirement.backend!.kind === 'external-secrets') objects.push(...externalSecretObjects(env, requirement));
    else objects.push(sealedSecretObject(env, requirement));
  }
  if (objects.length > 0) files.push(...folderOf(SECRETS_FOLDER, objects));
  return files;
}

/**
 * `ansible/group_vars/<instance>/vault.yml` of a VM instance: its credentials as the Ansible
 * variables `<instance>_<key>` (see `vaultVariable`), and those of the VM instances it uses
 * (`SecretRequirement.fromDependencies`), the whole file encrypted with Ansible Vault. The
 * Ansible renderer reads these variables; Ansible decrypts the file with the vault password.
 */
export function renderVaultFile(instance: Instance): RenderedFile {
  const env = Environment.of(instance);
  const content = secretMaterialOf(env)?.vault[instance.name];
  if (content === undefined) {
    throw new Error(`${instance.node.path}: its Ansible Vault file was not provided; render environments through the engine (renderEnvironmentSecurely)`);
  }
  return { path: vaultFile(instance.name), content };
}

/**
 * The instance's labels for its credentials; the site's only for a TLS Secret, which several
 * instances may serve, and for an environment Secret, which belongs to none.
 */
function labelsOf(env: Environment, requirement: SecretRequirement): Record<string, string> {
  if (requirement.purpose === 'credentials') {
    const { 'app.kubernetes.io/version': _version, ...labels } = instanceLabels(requirement.instance!);
    return labels;
  }
  return { 'app.kubernetes.io/part-of': Site.of(env).name, 'app.kubernetes.io/managed-by': 'siteforge' };
}

/** The type of the Secret a requirement makes. */
function secretType(requirement: SecretRequirement): string {
  return requirement.purpose === 'tls' ? 'kubernetes.io/tls' : 'Opaque';
}

function externalSecretObjects(env: Environment, requirement: SecretRequirement): KubernetesObject[] {
  const backend = requirement.backend!;
  const { name, namespace } = requirement;
  const labels = labelsOf(env, requirement);
  const entries = Object.entries(requirement.values);
  const generated = entries.filter(([, s]) => s.source === 'generated');
  const stored = entries.filter(([, s]) => s.source === 'store');
  const generators: KubernetesObject[] = generated.map(([key, secret]) => ({
    apiVersion: GENERATOR_API,
    kind: 'Password',
    metadata: { name: generatorName(name, key), namespace: namespace!, labels },
    spec: { length: secret.length!, digits: Math.floor(secret.length! / 4), symbols: 0, noUpper: false, allowRepeat: true },
  }));
  const spec: Record<string, unknown> = {
    // A generator makes new values on every refresh: a Secret holding generated values is
    // created once and never refreshed, so passwords do not rotate behind the services' backs.
    refreshInterval: generated.length > 0 ? '0s' : backend.refreshInterval,
    secretStoreRef: { kind: backend.store!.kind, name: backend.store!.name },
    // A template with a type and no data keeps the store's values under their secretKeys.
    target: { name, creationPolicy: 'Owner', deletionPolicy: 'Retain', ...(requirement.purpose === 'tls' ? { template: { type: secretType(requirement) } } : {}) },
  };
  if (stored.length > 0) {
    spec.data = stored.map(([key, secret]) => ({
      secretKey: key,
      remoteRef: { key: secret.storeKey!, ...(secret.storeProperty ? { property: secret.storeProperty } : {}) },
    }));
  }
  if (generated.length > 0) {
    spec.dataFrom = generated.map(([key]) => ({
      sourceRef: { generatorRef: { apiVersion: GENERATOR_API, kind: 'Password', name: generatorName(name, key) } },
      rewrite: [{ regexp: { source: '^password$', target: key } }],
    }));
  }
  return [
    ...generators,
    { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: namespace!, labels }, spec },
  ];
}

function sealedSecretObject(env: Environment, requirement: SecretRequirement): KubernetesObject {
  const { name, namespace } = requirement;
  const material = secretMaterialOf(env)?.sealed[`${namespace}/${name}`];
  if (!material) {
    throw new Error(`${requirement.path}: sealed values of ${namespace}/${name} were not provided; render environments through the engine (renderEnvironmentSecurely)`);
  }
  const scope = requirement.backend!.scope!;
  const scopeAnnotations: Record<string, string> = scope.annotation ? { [scope.annotation]: 'true' } : {};
  const labels = labelsOf(env, requirement);
  const applied = env.cluster ? applyAnnotations(env.cluster.applier, material.encryptedData) : {};
  return {
    apiVersion: 'bitnami.com/v1alpha1',
    kind: 'SealedSecret',
    metadata: { name, namespace: namespace!, labels, annotations: sortKeys({ ...scopeAnnotations, ...material.annotations, ...applied }) },
    spec: {
      encryptedData: sortKeys(material.encryptedData),
      template: {
        metadata: { name, namespace: namespace!, labels, ...(scope.annotation ? { annotations: scopeAnnotations } : {}) },
        type: secretType(requirement),
      },
    },
  };
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}
