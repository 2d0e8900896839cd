import { vaultVariable } from '../ansible/variables';
import { Environment } from '../environment';
import type { Instance } from '../instance';
import type { Secret } from '../secret';
import type { SecretBackend } from '../secret-backend';
import { templateContext } from '../template-context';
import { assertDnsSubdomain, byName } from '../names';

/**
 * One secret object an environment needs: the Kubernetes Secret `<namespace>/<name>` that a
 * backend creates, or the Ansible Vault file of a VM instance. The engine resolves the values
 * (reading environment variables, generating, encrypting) from this list; renderers turn it
 * into files.
 */
export interface SecretRequirement {
  /** Construct path of the instance, for errors. */
  readonly path: string;
  readonly instance: Instance;
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


/** Every secret object of `env`, in instance-name order. */
export function secretRequirements(env: Environment): SecretRequirement[] {
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
        requirements.push({ path: instance.node.path, instance, target: 'vm', name: instance.name, values: sortKeys(values), fromDependencies: sortKeys(fromDependencies) });
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

/** The Secret on `env`'s cluster holding `instance`'s credentials, as its service's connection names it. */
function kubernetesRequirement(env: Environment, instance: Instance): SecretRequirement {
  const secretName = (templateContext(instance).credentials as { secretName: string }).secretName;
  assertDnsSubdomain(instance.node.path, `credentials secretName (from ${instance.service.name}'s connection.credentials.secretName)`, secretName);
  return {
    path: instance.node.path,
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
