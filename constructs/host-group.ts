import { isIP, isIPv6 } from 'node:net';
import { Construct } from 'constructs';
import { errorAt, shownValue } from './errors';
import { assertDnsLabel, childPath, byName, didYouMean } from './names';
import type { Instance } from './instance';
import { Environment } from './environment';
import { StorageMount, type ResolvedMount } from './storage-mount';

/** A DNS name: dot-separated labels of letters, digits and "-", none starting or ending with "-". */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * A host address as the host part of a URL or a `host:port`: an IPv6 address in brackets
 * (`[fd00::11]`, RFC 3986), since its own colons would be read as the port's; any other as it is.
 */
export function urlHost(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

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
  /**
   * Run Ansible on this machine itself (`ansible_connection=local`) instead of over SSH: for a
   * single-node demo run on the host, or a test.
   * @default false
   */
  readonly local?: boolean;
}

export interface HostGroupProps {
  readonly hosts: readonly HostProps[];
  /**
   * Shared volumes mounted on hosts of the group by role, such as Rainbond's GlusterFS volume
   * on `/grdata` for manage and compute nodes.
   * @default []
   */
  readonly mounts?: readonly StorageMount[];
}

/** A VM host, as resolved by its group. */
export interface Host extends HostProps {
  readonly group: HostGroup;
}

/** A group of VM hosts of an environment, configured by Ansible. */
export class HostGroup extends Construct {
  public readonly name: string;
  public readonly hosts: readonly Host[];
  /** Storage mounts with their servers and mounting hosts resolved. */
  public readonly mounts: readonly ResolvedMount[];

  constructor(scope: Environment, id: string, props: HostGroupProps) {
    super(scope, id);
    this.name = id;
    if (!Array.isArray(props?.hosts)) throw errorAt(this.node.path, `hosts must be a list of hosts ({ name, address, roles }), got ${shownValue(props?.hosts)}`);
    if (props.hosts.length === 0) throw errorAt(this.node.path, 'hosts must list at least one host');
    const names = new Set<string>();
    this.hosts = props.hosts.map((host) => {
      if (host === null || typeof host !== 'object') {
        throw errorAt(this.node.path, `hosts must be objects such as { name: 'db1', address: '10.0.0.11', roles: ['db'] }, got ${shownValue(host)}`);
      }
      const path = childPath(this, host.name);
      assertDnsLabel(path, 'host name', host.name);
      if (names.has(host.name)) throw errorAt(path, `host ${JSON.stringify(host.name)} is listed twice; remove one or rename it`);
      names.add(host.name);
      // Ansible connects to it as it is: no port, no option (`-o…`).
      if (typeof host.address !== 'string' || !(isIP(host.address) || HOST_NAME.test(host.address))) {
        throw errorAt(path, `address must be an IP address or DNS name (no port: Ansible's port is set apart), got ${JSON.stringify(host.address)}`);
      }
      if (!Array.isArray(host.roles)) {
        throw errorAt(path, `roles must be a list of host roles (${HOST_ROLES.join(', ')}), got ${shownValue(host.roles)}`);
      }
      for (const role of host.roles) {
        if (!(HOST_ROLES as readonly string[]).includes(role)) {
          throw errorAt(path, `unknown host role ${JSON.stringify(role)}${didYouMean(role, HOST_ROLES)}; roles are ${HOST_ROLES.join(', ')}`);
        }
      }
      if (host.user !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(host.user)) {
        throw errorAt(path, `user must be a Unix user name, got ${JSON.stringify(host.user)}`);
      }
      if (host.port !== undefined && !(Number.isInteger(host.port) && host.port > 0 && host.port < 65536)) {
        throw errorAt(path, `port must be an integer from 1 to 65535, got ${shownValue(host.port)}`);
      }
      return { ...host, group: this };
    });
    const mountPaths = new Set<string>();
    this.mounts = (props.mounts ?? []).map((mount) => {
      if (mountPaths.has(mount.path)) throw errorAt(this.node.path, `two storage mounts use ${mount.path}; give each its own path`);
      mountPaths.add(mount.path);
      return mount.resolve(this.node.path, this.hosts, HOST_ROLES);
    });
    this.node.addValidation({ validate: () => this.problems() });
  }

  /** Instances of the environment placed on this group. */
  public get instances(): Instance[] {
    return Environment.of(this).instances.filter((i) => i.placement.group === this);
  }

  /**
   * Port conflicts (two instances binding one port on one of this group's hosts) and instance
   * names that would clash with inventory groups or hosts. (Host names used twice are the
   * environment's check.)
   */
  private problems(): string[] {
    const path = this.node.path;
    const problems: string[] = [];
    const bound = new Map<string, { readonly instance: Instance; readonly host: Host }>();
    // Another group may list the same machine under another name: every group of the
    // environment is compared, and each conflict is told by the group of its second host.
    const env = Environment.of(this);
    const onVms = env.instances.filter((i) => i.placement.group && env.hostGroups.includes(i.placement.group));
    for (const instance of onVms.sort(byName)) {
      for (const host of instance.hosts) {
        for (const port of instance.service.vm?.ports ?? []) {
          // One machine is one address and SSH port, whatever names the hosts have.
          const key = `${host.address} ${host.port ?? 22} ${port.port}/${port.protocol}`;
          const other = bound.get(key);
          if (!other) {
            bound.set(key, { instance, host });
            continue;
          }
          if (host.group !== this) continue;
          if (other.host === host) {
            problems.push(`${path}: port ${port.port} on host ${host.name} is bound by both ${other.instance.name} and ${instance.name}; place one of them on other hosts (Placement.vm role) or lower its nodes`);
          } else {
            problems.push(`${path}: port ${port.port} on ${host.address} is bound by both ${other.instance.name} (host ${other.host.name}) and ${instance.name} (host ${host.name}), one machine under two names; give the hosts their own addresses, or place one instance on other hosts`);
          }
        }
      }
    }
    const names = new Set<string>([...HOST_ROLES, ...this.hosts.map((h) => h.name), 'all', 'ungrouped']);
    for (const instance of this.instances) {
      if (names.has(instance.name)) {
        problems.push(`${path}: instance ${instance.name} is placed on VMs but its name is also a host role or host name, and both become Ansible inventory names; rename the instance`);
      }
    }
    return problems;
  }

  /** Hosts carrying `role`, or every host when `role` is undefined. */
  public hostsWithRole(role?: string): Host[] {
    return this.hosts.filter((h) => role === undefined || h.roles.includes(role));
  }
}
