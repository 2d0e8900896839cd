import type { HostGroup } from './host-group';
import { shownValue, UserError } from './errors';

/** Options of a VM placement. */
export interface VmPlacementOptions {
  /** The host group whose hosts run the instance. */
  readonly group: HostGroup;
  /**
   * Only hosts carrying this role run the instance.
   * @default - every host of the group
   */
  readonly role?: string;
}

/** Where an instance runs: on the environment's Kubernetes cluster or on VM hosts. */
export class Placement {
  /** On the environment's Kubernetes cluster. */
  public static kubernetes(): Placement {
    return new Placement('kubernetes');
  }

  /** On the hosts of a host group, installed by Ansible. */
  public static vm(options: VmPlacementOptions): Placement {
    if (options === null || typeof options !== 'object') {
      throw new UserError(`Placement.vm takes options such as { group } with a group addHostGroup returned, got ${shownValue(options)}`);
    }
    return new Placement('vm', options.group, options.role);
  }

  private constructor(
    public readonly kind: 'kubernetes' | 'vm',
    public readonly group?: HostGroup,
    public readonly role?: string,
  ) {}
}
