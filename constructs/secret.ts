import { receivedValue, shownValue, UserError } from './errors';

/** Options of a generated secret. */
export interface GeneratedSecretOptions {
  /**
   * Number of characters (letters and digits) of the generated value.
   * @default 32
   */
  readonly length?: number;
}

/** Options of a secret read from the site's secret store. */
export interface StoreSecretOptions {
  /**
   * Property inside the store entry (a field of a JSON secret, a key of a Vault KV entry).
   * @default - the whole entry
   */
  readonly property?: string;
}

/** Where the value of a secret comes from. */
export type SecretSource = 'store' | 'generated' | 'env';

const ENV_VARIABLE = /^[A-Z_][A-Z0-9_]*$/;
const STORE_KEY = /^[A-Za-z0-9._/-]+$/;

/**
 * A reference to a secret value (密文). The value itself never lives in a site definition and
 * never reaches an environment repository in plaintext: the environment's secret backend turns
 * the reference into an ExternalSecret, a SealedSecret or an Ansible Vault value.
 */
export class Secret {
  /**
   * A value kept in the site's secret store (External Secrets): the repository holds only the
   * reference `key` (and `property`).
   */
  public static fromStore(key: string, options: StoreSecretOptions = {}): Secret {
    if (typeof key !== 'string' || !STORE_KEY.test(key)) {
      throw new UserError(`Secret.fromStore: key must be letters, digits and "._/-", got ${receivedValue(key)}`);
    }
    if (options.property !== undefined && !STORE_KEY.test(options.property)) {
      throw new UserError(`Secret.fromStore: property must be letters, digits and "._/-", got ${JSON.stringify(options.property)}`);
    }
    return new Secret('store', `store ${key}${options.property ? `#${options.property}` : ''}`, { key, property: options.property });
  }

  /**
   * A random value created once per environment and kept, encrypted, in the environment's
   * repository: synthesizing again does not change it unless asked to rotate secrets.
   */
  public static generated(options: GeneratedSecretOptions = {}): Secret {
    // Plain JavaScript (and a compiled fleet, which is not type-checked) can pass the length itself.
    if (options === null || typeof options !== 'object') {
      throw new UserError(`Secret.generated takes options such as { length: 32 }, got ${shownValue(options)}`);
    }
    const length = options.length ?? 32;
    if (!Number.isInteger(length) || length < 16 || length > 128) {
      throw new UserError(`Secret.generated: length must be an integer from 16 to 128, got ${length}`);
    }
    return new Secret('generated', `generated (${length} characters)`, { length });
  }

  /**
   * A value read from the environment variable `variable` of the process that runs the synth
   * (a CI secret, say). The synth fails, naming the variable, when it is not set.
   */
  public static fromEnv(variable: string): Secret {
    if (!ENV_VARIABLE.test(variable)) {
      // Not shown: a value given in place of the variable's name may be the secret itself.
      throw new UserError(`Secret.fromEnv: variable must be an environment variable name such as ACME_DB_PASSWORD (upper-case letters, digits and "_"), got ${typeof variable === 'string' ? `${variable.length} characters that are not one` : `a ${typeof variable}`} (not shown, in case it is the secret itself)`);
    }
    return new Secret('env', `environment variable ${variable}`, { variable });
  }

  private constructor(
    public readonly source: SecretSource,
    /** Where the value comes from, as errors and READMEs say it (never the value). */
    public readonly description: string,
    private readonly options: { key?: string; property?: string; length?: number; variable?: string },
  ) {}

  /** Store key of a `fromStore` secret. */
  public get storeKey(): string | undefined {
    return this.options.key;
  }

  /** Store property of a `fromStore` secret. */
  public get storeProperty(): string | undefined {
    return this.options.property;
  }

  /** Length of a generated secret. */
  public get length(): number | undefined {
    return this.options.length;
  }

  /** Environment variable of a `fromEnv` secret. */
  public get variable(): string | undefined {
    return this.options.variable;
  }
}
