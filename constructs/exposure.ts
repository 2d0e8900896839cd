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
}

/** How an instance is reached from outside its cluster (Choerodon's 域名, a domain). */
export class Exposure {
  /** Not reachable from outside the cluster. */
  public static none(): Exposure {
    return new Exposure(false);
  }

  /** Through an Ingress on a host name of the site's domain. */
  public static ingress(options: IngressExposureOptions = {}): Exposure {
    return new Exposure(true, options.host, options.path ?? '/');
  }

  private constructor(
    public readonly ingress: boolean,
    public readonly host?: string,
    public readonly path?: string,
  ) {}
}
