/**
 * Names shared by the Ansible renderer, the catalog's VM files and the secrets work: how an
 * instance's values are named as Ansible variables and groups.
 */

/** `text` as an Ansible variable name part: every character other than A-Z, a-z, 0-9 becomes `_`. */
export function ansibleIdentifier(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '_');
}

/**
 * The variables `ansible/group_vars/<instance>/main.yml` defines for an instance on VMs, as
 * `<instance>_<name>` (see `instanceVariable`): its service, version, profile, nodes, hosts,
 * ports and settings.
 */
export const INSTANCE_VARIABLES = ['service', 'version', 'profile', 'nodes', 'hosts', 'ports', 'settings'] as const;

/** One of {@link INSTANCE_VARIABLES}. */
export type InstanceVariable = (typeof INSTANCE_VARIABLES)[number];

/** The Ansible variable `<instance>_<name>` of `group_vars/<instance>/main.yml` (`orders-db` + `version` → `orders_db_version`). */
export function instanceVariable(instance: string, name: InstanceVariable): string {
  return ansibleIdentifier(`${instance}_${name}`);
}

/**
 * The Ansible variable holding credential `key` of `instance` (`mysql` + `mysql-password` →
 * `mysql_mysql_password`). The secrets work defines it, encrypted with Ansible Vault, in
 * `ansible/group_vars/<instance>/vault.yml`; roles and config files only reference it. Two
 * instances' names can be one (`a` + `b-password`, `a-b` + `password`): the environment
 * refuses that (see `ansibleNameProblems`).
 */
export function vaultVariable(instance: string, key: string): string {
  return ansibleIdentifier(`${instance}_${key}`);
}

/** Where the secrets work writes the vault variables of `instance`. */
export function vaultFile(instance: string): string {
  return `ansible/group_vars/${instance}/vault.yml`;
}

/** Setting names that hold credentials; such settings are never written in plaintext on VMs. */
const SECRET_NAME = /(password|passwd|secret|token|credential|private[-_]?key|api[-_]?key)/i;

/** Whether a setting's `name` says it holds a credential (`rootPassword`, `apiKey`). */
export function isCredentialName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Paths (`/auth/rootPassword`) of settings whose name says they hold a credential and whose
 * value is set (not empty): these cannot be written to an Ansible file in plaintext.
 */
export function plaintextSecretSettings(settings: unknown, path = ''): string[] {
  if (Array.isArray(settings)) return settings.flatMap((v, i) => plaintextSecretSettings(v, `${path}/${i}`));
  if (typeof settings !== 'object' || settings === null) return [];
  return Object.entries(settings).flatMap(([key, value]) => {
    const here = `${path}/${key}`;
    if (SECRET_NAME.test(key) && value !== undefined && value !== null && value !== '' && typeof value !== 'object') return [here];
    return plaintextSecretSettings(value, here);
  });
}
