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

/**
 * The data of an environment ConfigMap or Secret (`kind`), keys in code-point order, once
 * every key is one Kubernetes takes, `checkValue` (which throws) took every value, and there is
 * at least one.
 */
export function sortedData<T>(path: string, kind: 'ConfigMap' | 'Secret', data: Readonly<Record<string, T>>, checkValue: (key: string, value: unknown) => void): Record<string, T> {
  for (const [key, value] of Object.entries(data)) {
    const problem = dataKeyProblem(key);
    if (problem) throw errorAt(path, `data ${problem}`);
    checkValue(key, value);
  }
  if (Object.keys(data).length === 0) throw errorAt(path, `data is empty; give the ${kind} at least one key, or leave it out`);
  return Object.fromEntries(Object.keys(data).sort().map((key) => [key, data[key]]));
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
    this.data = sortedData(path, 'ConfigMap', props.data, (key, value) => {
      if (typeof value !== 'string') {
        throw errorAt(path, `data.${key} must be text (numbers and booleans written as strings, as Kubernetes stores them), got ${shownValue(value)}`);
      }
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    });
    if (bytes > MAX_CONFIG_MAP_BYTES) {
      throw errorAt(path, `data holds ${bytes} bytes, more than the ${MAX_CONFIG_MAP_BYTES} bytes Kubernetes stores in one ConfigMap; split it, or mount large files another way`);
    }
  }
}
