/** Which Argo CD applies the Argo CD environments of a site. */
export class ArgoCdTopology {
  /**
   * Every cluster runs its own Argo CD, which applies its environment in-cluster
   * (`https://kubernetes.default.svc`).
   */
  public static perCluster(): ArgoCdTopology {
    return new ArgoCdTopology('per-cluster');
  }

  /**
   * One Argo CD in the dev zone applies every Argo CD environment of the site and reaches each
   * cluster by its `apiServer` URL. The clusters are registered in that Argo CD by its
   * administrators (`argocd cluster add`); no credential is written to any repository.
   */
  public static devZone(): ArgoCdTopology {
    return new ArgoCdTopology('dev-zone');
  }

  private constructor(public readonly name: 'per-cluster' | 'dev-zone') {}
}
