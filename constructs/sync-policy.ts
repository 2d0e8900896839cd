/** How the applier syncs an environment: on its own, or only when someone asks. */
export class SyncPolicy {
  /**
   * Syncs every change on its own: Argo CD `automated` with prune and self-heal, Flux
   * reconciling on its interval.
   */
  public static automated(): SyncPolicy {
    return new SyncPolicy(true);
  }

  /**
   * Syncs only when an owner or member asks (prod, typically): Argo CD without `automated`,
   * Flux objects created suspended (`flux resume` applies them).
   */
  public static manual(): SyncPolicy {
    return new SyncPolicy(false);
  }

  private constructor(public readonly automated: boolean) {}
}
