/** The engine in a cluster that applies an environment repository. */
export class Applier {
  /** Argo CD, with an app-of-apps root Application. */
  public static argoCd(): Applier {
    return new Applier('argocd');
  }

  /** Flux, with a GitRepository and Kustomizations/HelmReleases. */
  public static flux(): Applier {
    return new Applier('flux');
  }

  private constructor(public readonly name: 'argocd' | 'flux') {}
}
