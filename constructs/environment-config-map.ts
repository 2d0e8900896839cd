import { Construct } from 'constructs';
import { errorAt, shownValue } from './errors';

/** Largest ConfigMap the API server stores (etcd's limit on one object). */
const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

/** A key of a ConfigMap's or Secret's data, as the API server takes it. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Why `key` cannot be a key of a ConfigMap's or Secret's data, or undefined: as the API server's
 * IsConfigMapKey, which also refuses a key starting with ".." (the kubelet's own files in a volume).
 */
export function dataKeyProblem(key: string): string | undefined {
  if (!DATA_KEY.test(key) || key === '.' || key.startsWith('..') || key.length > 253) {
    return `key ${JSON.stringify(key)} must be letters, digits, "-", "_" and "." (at most 253, not "." nor starting with "..")`;
  }
  return undefined;
}

export interface EnvironmentConfigMapProps {
  /**
   * The ConfigMap's data: key → text (Choerodon's 配置映射). Nothing secret: credentials go in
   * an environment Secret (`cluster.addSecret`), which the secret backend keeps encrypted.
   */
  readonly data: Readonly<Record<string, string>>;
}

/**
 * A ConfigMap of the environment's namespace that belongs to no instance: settings shared by
 * several instances, or read by software deployed there by other means. Written to
 * `manifests/namespace/`, applied with the Namespace before any instance.
 */
export class EnvironmentConfigMap extends Construct {
  /** The ConfigMap's name: the construct's id. */
  public readonly name: string;
  /** Key → text, keys in code-point order (as in its file). */
  public readonly data: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: EnvironmentConfigMapProps) {
    super(scope, id);
    const path = this.node.path;
    this.name = id;
    if (props === null || typeof props !== 'object' || props.data === null || typeof props.data !== 'object' || Array.isArray(props.data)) {
      throw errorAt(path, `addConfigMap takes { data: { key: 'text' } }, got ${shownValue(props)}`);
    }
    let bytes = 0;
    for (const [key, value] of Object.entries(props.data)) {
      const problem = dataKeyProblem(key);
      if (problem) throw errorAt(path, `data ${problem}`);
      if (typeof value !== 'string') {
        throw errorAt(path, `data.${key} must be text (numbers and booleans written as strings, as Kubernetes stores them), got ${shownValue(value)}`);
      }
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
    if (Object.keys(props.data).length === 0) throw errorAt(path, 'data is empty; give the ConfigMap at least one key, or leave it out');
    if (bytes > MAX_CONFIG_MAP_BYTES) {
      throw errorAt(path, `data holds ${bytes} bytes, more than the ${MAX_CONFIG_MAP_BYTES} bytes Kubernetes stores in one ConfigMap; split it, or mount large files another way`);
    }
    this.data = Object.fromEntries(Object.keys(props.data).sort().map((key) => [key, props.data[key]]));
  }
}
