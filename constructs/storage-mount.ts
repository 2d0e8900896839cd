import { isIPv6 } from 'node:net';
import { errorAt } from './errors';
import type { Host } from './host-group';
import { byName } from './names';

/** Options of a GlusterFS volume mounted on the hosts of a host group (Rainbond's shared storage). */
export interface GlusterFsMountOptions {
  /** Name of the GlusterFS volume, e.g. `gv0`. */
  readonly volume: string;
  /**
   * Mount point on the hosts.
   * @default '/grdata'
   */
  readonly path?: string;
  /**
   * Host roles that mount the volume.
   * @default ['manage', 'compute']
   */
  readonly roles?: readonly string[];
  /**
   * Names of the hosts serving the volume; the first is mounted from, the others are backup
   * volfile servers.
   * @default - every host of the group with role storage
   */
  readonly servers?: readonly string[];
}

/** A storage mount resolved against its host group: what the `mount` task writes. */
export interface ResolvedMount {
  readonly path: string;
  readonly fstype: string;
  /** `server:/volume`. */
  readonly src: string;
  readonly opts: string;
  /** Host roles that mount it. */
  readonly roles: readonly string[];
  /** Hosts that mount it, sorted by name. */
  readonly hosts: readonly Host[];
  /** Debian packages the mounting hosts need (the distribution's version: nothing pins it). */
  readonly packages: readonly string[];
}

/** A shared volume mounted on hosts of a group, by role. */
export class StorageMount {
  /** A GlusterFS volume, mounted like Rainbond mounts `/grdata` on manage and compute nodes. */
  public static glusterfs(options: GlusterFsMountOptions): StorageMount {
    return new StorageMount(options.volume, options.path ?? '/grdata', options.roles ?? ['manage', 'compute'], options.servers);
  }

  private constructor(
    public readonly volume: string,
    public readonly path: string,
    public readonly roles: readonly string[],
    public readonly servers: readonly string[] | undefined,
  ) {}

  /** Resolves servers and mounting hosts among `hosts`; `at` is the group's construct path. */
  public resolve(at: string, hosts: readonly Host[], knownRoles: readonly string[]): ResolvedMount {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(this.volume)) throw errorAt(at, `glusterfs volume must be a volume name such as gv0, got ${JSON.stringify(this.volume)}`);
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(this.path)) throw errorAt(at, `glusterfs mount path must be an absolute path such as /grdata, got ${JSON.stringify(this.path)}`);
    for (const role of this.roles) {
      if (!knownRoles.includes(role)) throw errorAt(at, `glusterfs mount ${this.path}: unknown host role ${JSON.stringify(role)}; roles are ${knownRoles.join(', ')}`);
    }
    const servers = this.servers
      ? this.servers.map((name) => hosts.find((h) => h.name === name) ?? this.failServer(at, name, hosts))
      : hosts.filter((h) => h.roles.includes('storage'));
    if (servers.length === 0) {
      throw errorAt(at, `glusterfs mount ${this.path} needs a server: no host of the group has role storage; add a storage host or name servers`);
    }
    // mount.glusterfs reads `<server>:/<volume>` and a `:`-separated list of backup servers,
    // where an IPv6 address cannot stand.
    const ipv6 = servers.find((s) => isIPv6(s.address));
    if (ipv6) {
      throw errorAt(at, `glusterfs mount ${this.path}: server ${ipv6.name} has the IPv6 address ${ipv6.address}, which mount.glusterfs cannot take (it separates servers with ":"); give the host a DNS name or an IPv4 address as its address`);
    }
    const mounting = hosts.filter((h) => h.roles.some((r) => this.roles.includes(r))).sort(byName);
    if (mounting.length === 0) {
      throw errorAt(at, `glusterfs mount ${this.path}: no host carries role ${this.roles.join(' or ')}; give hosts one of these roles or change roles`);
    }
    const backup = servers.slice(1).map((s) => s.address);
    const opts = [
      '_netdev',
      ...(backup.length > 0 ? [`backup-volfile-servers=${backup.join(':')}`] : []),
      'use-readdirp=no',
      'log-level=WARNING',
      'log-file=/var/log/gluster.log',
    ].join(',');
    return { path: this.path, fstype: 'glusterfs', src: `${servers[0].address}:/${this.volume}`, opts, roles: this.roles, hosts: mounting, packages: ['glusterfs-client'] };
  }

  private failServer(at: string, name: string, hosts: readonly Host[]): never {
    const storage = hosts.filter((h) => h.roles.includes('storage')).map((h) => h.name);
    throw errorAt(at, `glusterfs mount ${this.path}: server ${JSON.stringify(name)} is not a host of the group; its storage hosts are ${storage.join(', ') || 'none'}`);
  }
}
