import { Construct } from 'constructs';
import { errorAt } from './errors';
import { sortedData } from './environment-config-map';
import { Secret } from './secret';

export interface EnvironmentSecretProps {
  /**
   * The Secret's data: key → where its value comes from (Choerodon's 密文). The environment's
   * secret backend writes it: `Secret.fromStore(...)` with External Secrets,
   * `Secret.fromEnv(...)` with Sealed Secrets, `Secret.generated()` with either.
   */
  readonly data: Readonly<Record<string, Secret>>;
}

/**
 * A Secret of the environment's namespace that belongs to no instance: credentials shared by
 * several instances, or read by software deployed there by other means. Written to
 * `manifests/secrets/` by the environment's secret backend (an ExternalSecret or a
 * SealedSecret), never in plaintext.
 */
export class EnvironmentSecret extends Construct {
  /** The Secret's name: the construct's id. */
  public readonly name: string;
  /** Key → value reference, keys in code-point order. */
  public readonly data: Readonly<Record<string, Secret>>;

  constructor(scope: Construct, id: string, props: EnvironmentSecretProps) {
    super(scope, id);
    const path = this.node.path;
    this.name = id;
    if (props === null || typeof props !== 'object' || props.data === null || typeof props.data !== 'object' || Array.isArray(props.data)) {
      const given = props === null ? 'null' : typeof props !== 'object' ? `a ${typeof props}` : 'data that is not a mapping of keys';
      throw errorAt(path, `addSecret takes { data: { key: Secret.fromEnv(...) } }, got ${given} (not shown)`);
    }
    this.data = sortedData(path, 'Secret', props.data, (key, value) => {
      if (!(value instanceof Secret)) {
        // Not shown: a string here is likely the secret itself.
        throw errorAt(path, `data.${key} must be a Secret (Secret.fromEnv(...), Secret.fromStore(...) or Secret.generated()), got ${value === null ? 'null' : `a ${typeof value}`} (not shown)`);
      }
    });
  }
}
