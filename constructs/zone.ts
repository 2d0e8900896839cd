/**
 * Where an environment sits in the Choerodon split: the dev zone (plan, code, build, test)
 * or the runtime zone (deploy, run, operate).
 */
export class Zone {
  /** The dev zone (开发区): development tools and services. */
  public static readonly DEV = new Zone('dev');
  /** The runtime zone (运行区): where applications are deployed and run. */
  public static readonly RUNTIME = new Zone('runtime');

  private constructor(public readonly name: 'dev' | 'runtime') {}
}
