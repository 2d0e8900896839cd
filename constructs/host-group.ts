import { Construct } from 'constructs';
import { errorAt } from './errors';
import { assertDnsLabel, childPath } from './names';
import type { Environment } from './environment';

/** Roles a VM host can carry (Rainbond's node roles, plus database and middleware hosts). */
export const HOST_ROLES = ['lb', 'manage', 'compute', 'storage', 'db', 'middleware', 'app'] as const;

export interface HostProps {
  /** Host name, unique in the environment; becomes the Ansible inventory name. */
  readonly name: string;
  /** IP address or DNS name Ansible connects to (`ansible_host`). */
  readonly address: string;
  /** Roles of the host, from HOST_ROLES. */
  readonly roles: readonly string[];
  /**
   * SSH user (`ansible_user`).
   * @default - Ansible's default
   */
  readonly user?: string;
  /**
   * SSH port (`ansible_port`).
   * @default - Ansible's default (22)
   */
  readonly port?: number;
}

export interface HostGroupProps {
  readonly hosts: readonly HostProps[];
}

/** A VM host, as resolved by its group. */
export interface Host extends HostProps {
  readonly group: HostGroup;
}

/** A group of VM hosts of an environment, configured by Ansible. */
export class HostGroup extends Construct {
  public readonly name: string;
  public readonly hosts: readonly Host[];

  constructor(scope: Environment, id: string, props: HostGroupProps) {
    super(scope, id);
    this.name = id;
    if (props.hosts.length === 0) throw errorAt(this.node.path, 'hosts must list at least one host');
    const names = new Set<string>();
    this.hosts = props.hosts.map((host) => {
      const path = childPath(this, host.name);
      assertDnsLabel(path, 'host name', host.name);
      if (names.has(host.name)) throw errorAt(path, `host ${JSON.stringify(host.name)} is listed twice`);
      names.add(host.name);
      if (!/^[A-Za-z0-9.:-]+$/.test(host.address)) {
        throw errorAt(path, `address must be an IP address or DNS name, got ${JSON.stringify(host.address)}`);
      }
      for (const role of host.roles) {
        if (!(HOST_ROLES as readonly string[]).includes(role)) {
          throw errorAt(path, `unknown host role ${JSON.stringify(role)}; roles are ${HOST_ROLES.join(', ')}`);
        }
      }
      if (host.user !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(host.user)) {
        throw errorAt(path, `user must be a Unix user name, got ${JSON.stringify(host.user)}`);
      }
      if (host.port !== undefined && !(Number.isInteger(host.port) && host.port > 0 && host.port < 65536)) {
        throw errorAt(path, `port must be an integer from 1 to 65535, got ${host.port}`);
      }
      return { ...host, group: this };
    });
  }

  /** Hosts carrying `role`, or every host when `role` is undefined. */
  public hostsWithRole(role?: string): Host[] {
    return this.hosts.filter((h) => role === undefined || h.roles.includes(role));
  }
}
