import { vaultVariable } from '../ansible/variables';
import { Environment } from '../environment';
import type { Instance } from '../instance';
import type { IngressTls } from '../ingress-tls';
import type { Secret } from '../secret';
import { backendSourceProblem, type SecretBackend } from '../secret-backend';
import { templateContext } from '../template-context';
import { assertDnsSubdomain, byName } from '../names';
import { errorAt, UserError } from '../errors';

/**
 * One secret object an environment needs: the Kubernetes Secret `<namespace>/<name>` that a
 * backend creates, or the Ansible Vault file of a VM instance. The engine resolves the values
 * (reading environment variables, generating, encrypting) from this list; renderers turn it
 * into files.
 */
export interface SecretRequirement {
  /** Construct path of what declared the secret (the instance; where a TLS Secret's IngressTls was given; the environment Secret), for errors. */
  readonly path: string;
  /** What the Secret holds. */
  readonly purpose: 'credentials' | 'tls' | 'environment';
  /**
   * The instance whose credentials these are; for a TLS Secret, the first instance (by name)
   * whose Ingress serves it.
   * @default - none: an environment Secret (`cluster.addSecret`)
   */
  readonly instance?: Instance;
  readonly target: 'kubernetes' | 'vm';
  /** Kubernetes: the Secret's name; VM: the instance name (its Ansible group). */
  readonly name: string;
  /** Kubernetes: the namespace. */
  readonly namespace?: string;
  /** Kubernetes: the environment's backend. */
  readonly backend?: SecretBackend;
  /** Kubernetes: Secret key → value; VM: Ansible variable → value. Sorted by key. */
  readonly values: Readonly<Record<string, Secret>>;
  /**
   * Kubernetes: the Secret holds the credentials of an instance on VMs, for the instances on
   * the cluster that use it: its values are the ones in that instance's Ansible Vault.
   * @default false
   */
  readonly fromVault?: boolean;
  /**
   * VM: the vault variables of the VM instances this one uses (variable → that instance),
   * which its vault file carries too, with the values of theirs: Ansible reads
   * `group_vars/<instance>/` only on the instance's own hosts, so a host running only the
   * user would not see them.
   * @default {}
   */
  readonly fromDependencies?: Readonly<Record<string, Instance>>;
}


/**
 * Every secret object of `env`: the instances' credentials in instance-name order, then the
 * TLS Secrets siteforge writes, then the environment's own Secrets.
 */
export function secretRequirements(env: Environment): SecretRequirement[] {
  return [...credentialRequirements(env), ...tlsRequirements(env).values(), ...environmentSecretRequirements(env)];
}

/** The environment's own Secrets (`cluster.addSecret`), by name. */
function environmentSecretRequirements(env: Environment): SecretRequirement[] {
  const cluster = env.cluster;
  if (!cluster) return [];
  return cluster.environmentSecrets.map((secret) => ({
    path: secret.node.path, purpose: 'environment', target: 'kubernetes', name: secret.name, namespace: cluster.namespace, backend: env.secrets, values: secret.data,
  }));
}

/** The credentials of `env`'s instances, in instance-name order. */
function credentialRequirements(env: Environment): SecretRequirement[] {
  const requirements: SecretRequirement[] = [];
  const instances = [...env.instances].sort(byName);
  for (const instance of instances) {
    const keys = Object.keys(instance.credentials);
    if (instance.placement.kind === 'vm') {
      const values = Object.fromEntries(keys.map((k) => [vaultVariable(instance.name, k), instance.credentials[k]]));
      const fromDependencies = Object.fromEntries(instance.dependencies
        .filter((d) => d.placement.kind === 'vm')
        .flatMap((d) => Object.keys(d.credentials).map((k) => [vaultVariable(d.name, k), d])));
      if (keys.length > 0 || Object.keys(fromDependencies).length > 0) {
        requirements.push({ path: instance.node.path, purpose: 'credentials', instance, target: 'vm', name: instance.name, values: sortKeys(values), fromDependencies: sortKeys(fromDependencies) });
      }
      // Instances on the cluster that use it read its credentials from a Secret: sealed, it can
      // hold the vault's values. (External Secrets would make other values in the cluster.)
      if (keys.length > 0 && env.cluster && env.clusterUsersOf(instance).length > 0 && env.secrets.kind === 'sealed-secrets') {
        requirements.push({ ...kubernetesRequirement(env, instance), fromVault: true });
      }
    } else if (keys.length > 0 && env.cluster) {
      requirements.push(kubernetesRequirement(env, instance));
    }
  }
  return requirements;
}

/** What a secret value is, as errors name it: `credentials <key>`, the TLS certificate or key of a Secret, or a key of an environment Secret. */
export function secretValueName(requirement: SecretRequirement, key: string): string {
  if (requirement.purpose === 'credentials') return `credentials ${key}`;
  if (requirement.purpose === 'environment') return `key ${key} of Secret ${requirement.name}`;
  return `the TLS ${key === TLS_CERTIFICATE_KEY ? 'certificate' : 'private key'} of Secret ${requirement.name}`;
}

/** Keys of a `kubernetes.io/tls` Secret. */
export const TLS_CERTIFICATE_KEY = 'tls.crt';
export const TLS_PRIVATE_KEY_KEY = 'tls.key';

/**
 * The TLS Secrets siteforge writes (`IngressTls.secret(name, { certificate, privateKey })`)
 * for the Ingresses of `env`'s instances on its cluster, by name: each belongs to the first
 * instance (by name) that serves it, and names the construct where its IngressTls was given.
 */
function tlsRequirements(env: Environment): Map<string, SecretRequirement> {
  const requirements = new Map<string, SecretRequirement>();
  if (!env.cluster) return requirements;
  for (const instance of [...env.instances].sort(byName)) {
    const tls = instance.tls;
    if (instance.placement.kind !== 'kubernetes' || !tls.contents) continue;
    const name = tls.secretNameOf(instance.name)!;
    if (requirements.has(name)) continue;
    requirements.set(name, {
      path: tlsGivenAt(instance),
      instance,
      target: 'kubernetes',
      name,
      namespace: env.cluster.namespace,
      backend: env.secrets,
      values: { [TLS_CERTIFICATE_KEY]: tls.contents.certificate, [TLS_PRIVATE_KEY_KEY]: tls.contents.privateKey },
      purpose: 'tls',
    });
  }
  return requirements;
}

/** The construct whose IngressTls `instance`'s Ingress follows: its own exposure's, or its cluster's. */
function tlsGivenAt(instance: Instance): string {
  return instance.exposure.tls ? instance.node.path : Environment.of(instance).cluster!.node.path;
}

/**
 * Why the TLS Secrets and the environment's own Secrets siteforge would write for `env`
 * cannot be written, each naming where to change it: a certificate or key the environment's
 * secret backend cannot carry, two instances serving one Secret name with different contents,
 * a Secret name that cert-manager fills for another instance or that is also used for credentials.
 */
export function secretNameProblems(env: Environment): string[] {
  if (!env.cluster) return [];
  const problems: string[] = [];
  const first = new Map<string, Instance>();
  for (const instance of [...env.instances].sort(byName)) {
    const tls = instance.tls;
    const name = tls.secretNameOf(instance.name);
    if (instance.placement.kind !== 'kubernetes' || name === undefined) continue;
    const other = first.get(name);
    if (other === undefined) first.set(name, instance);
    else if (other.tls.kind === 'cert-manager' || tls.kind === 'cert-manager') {
      // cert-manager fills the Secret <instance>-tls, which no other Ingress of cert-manager names.
      const [issued, named] = other.tls.kind === 'cert-manager' ? [other, instance] : [instance, other];
      problems.push(`${tlsGivenAt(named)}: ${named.name}'s Ingress serves the TLS Secret ${name}, which cert-manager fills with ${issued.name}'s certificate (Certificate ${issued.name}, from the ${issued.tls.issuer!.kind} ${issued.tls.issuer!.name}), and one would replace the other; give the TLS Secret another name`);
    } else if (contentsText(other.tls) !== contentsText(tls)) {
      problems.push(`${tlsGivenAt(instance)}: ${instance.name}'s Ingress serves the TLS Secret ${name} with ${contentsText(tls)}, but ${other.name}'s serves it with ${contentsText(other.tls)}; give both the same IngressTls.secret(...)`);
    }
    if (other !== undefined || !tls.contents) continue;
    for (const [key, secret] of [['certificate', tls.contents.certificate], ['privateKey', tls.contents.privateKey]] as const) {
      const problem = backendSourceProblem(secret, env.secrets, env.node.path, 'Secret.fromEnv(...)');
      if (problem) problems.push(`${tlsGivenAt(instance)}: the TLS Secret ${name}'s ${key} ${problem}`);
    }
  }
  let credentials: SecretRequirement[];
  try {
    credentials = credentialRequirements(env);
  } catch (e) {
    // A credentials Secret name that is not a Kubernetes name: rendering reports it.
    if (e instanceof UserError) return problems;
    throw e;
  }
  for (const requirement of credentials.filter((r) => r.target === 'kubernetes')) {
    const served = first.get(requirement.name);
    if (served) {
      problems.push(`${tlsGivenAt(served)}: the TLS Secret ${requirement.name} that ${served.name}'s Ingress serves has the name of the credentials Secret of ${requirement.instance!.name}, and one would replace the other; give the TLS Secret another name`);
    }
    const own = env.cluster.environmentSecrets.find((secret) => secret.name === requirement.name);
    if (own) {
      problems.push(`${own.node.path}: Secret ${own.name} has the name of the credentials Secret of ${requirement.instance!.name}, and one would replace the other; give it another name`);
    }
  }
  problems.push(...generatorNameProblems([...credentials, ...environmentSecretRequirements(env)]));
  return problems;
}

/** Longest name of a Password generator: its file `password-<name>.yaml` takes at most 255 bytes, as file systems do. */
const MAX_GENERATOR_NAME = 255 - 'password-'.length - '.yaml'.length;

/**
 * The generated values that External Secrets would make with one Password generator (its
 * name is the Secret's name and the key, lower case, other characters as "-": `app` and
 * `db-password` make what `app-db` and `password` make), or with one whose name is too long.
 */
function generatorNameProblems(requirements: readonly SecretRequirement[]): string[] {
  const problems: string[] = [];
  const first = new Map<string, { requirement: SecretRequirement; key: string }>();
  for (const requirement of requirements) {
    if (requirement.target !== 'kubernetes' || requirement.backend?.kind !== 'external-secrets') continue;
    for (const [key, secret] of Object.entries(requirement.values)) {
      if (secret.source !== 'generated') continue;
      const name = generatorName(requirement.name, key);
      const what = `the generated ${secretValueName(requirement, key)}`;
      if (name.length > MAX_GENERATOR_NAME) {
        problems.push(`${requirement.path}: ${what} would be made by the Password generator ${name}, whose name of ${name.length} characters is more than the ${MAX_GENERATOR_NAME} that fit its file (password-<name>.yaml); shorten the Secret's name or the key`);
        continue;
      }
      const other = first.get(name);
      if (other === undefined) first.set(name, { requirement, key });
      else problems.push(`${requirement.path}: ${what} would be made by the Password generator ${name}, as the generated ${secretValueName(other.requirement, other.key)} is (${other.requirement.path}); rename one of the keys or Secrets`);
    }
  }
  return problems;
}

/** Name of the External Secrets Password generator of a generated value: `<secret>-<key>`, the key lower case and other characters as "-". */
export function generatorName(secretName: string, key: string): string {
  return `${secretName}-${key.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.replace(/-+$/, '');
}

/** What a TLS Secret holds, as errors say it: who creates it, or where its certificate and key come from. */
function contentsText(tls: IngressTls): string {
  const contents = tls.contents;
  return contents ? `the certificate from ${contents.certificate.description} and the key from ${contents.privateKey.description}` : 'what the administrators create';
}

/** The Secret on `env`'s cluster holding `instance`'s credentials, as its service's connection names it. */
function kubernetesRequirement(env: Environment, instance: Instance): SecretRequirement {
  const secretName = (templateContext(instance).credentials as { secretName: string }).secretName;
  const from = `${instance.service.name}'s connection.credentials.secretName`;
  // Made from the instance's name (<instance>-credentials): a valid name can make it too long.
  const longest = Math.max(...secretName.split('.').map((label) => label.length));
  if (longest > 63 && secretName.includes(instance.name)) {
    throw errorAt(instance.node.path, `credentials Secret name ${secretName} (from ${from}) is ${longest} characters, over the 63 of a DNS label; give the instance a name of at most ${instance.name.length - (longest - 63)} characters`);
  }
  assertDnsSubdomain(instance.node.path, `credentials secretName (from ${from})`, secretName);
  return {
    path: instance.node.path,
    purpose: 'credentials',
    instance,
    target: 'kubernetes',
    name: secretName,
    namespace: env.cluster!.namespace,
    backend: env.secrets,
    values: sortKeys(instance.credentials),
  };
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}
