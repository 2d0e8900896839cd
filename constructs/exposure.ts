import type { IngressTls } from './ingress-tls';
import { shownValue, UserError } from './errors';

/** Options of an Ingress exposure. */
export interface IngressExposureOptions {
  /**
   * Host name the Ingress answers on.
   * @default - `<instance>.<site domain>`
   */
  readonly host?: string;
  /**
   * Path prefix routed to the instance.
   * @default "/"
   */
  readonly path?: string;
  /**
   * How this Ingress gets its certificate, in place of the cluster's choice.
   * @default - the cluster's `tls`
   */
  readonly tls?: IngressTls;
}

/** How an instance is reached from outside its cluster (Choerodon's 域名, a domain). */
export class Exposure {
  /** Not reachable from outside the cluster. */
  public static none(): Exposure {
    return new Exposure(false);
  }

  /** Through an Ingress on a host name of the site's domain. */
  public static ingress(options: IngressExposureOptions = {}): Exposure {
    if (options === null || typeof options !== 'object') {
      throw new UserError(`Exposure.ingress takes options such as { host: 'www.acme.example.com' }, got ${shownValue(options)}`);
    }
    return new Exposure(true, options.host, options.path ?? '/', options.tls);
  }

  private constructor(
    public readonly ingress: boolean,
    public readonly host?: string,
    public readonly path?: string,
    /** The exposure's own TLS choice, when it overrides the cluster's. */
    public readonly tls?: IngressTls,
  ) {}
}
