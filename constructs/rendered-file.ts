import { toYaml } from './yaml';

/** A file of an environment repository, rendered in memory. */
export interface RenderedFile {
  /** Path inside the environment repository, `/`-separated. */
  readonly path: string;
  readonly content: string;
  /**
   * The data `content` was written from, for files rendered from data (Kubernetes objects), so
   * the checks after rendering need not parse the text back.
   * @default - the file was rendered from text (a template); checks parse it
   */
  readonly object?: unknown;
}

/** A YAML file written from `object`, which it keeps for the checks. */
export function yamlFile(path: string, object: unknown): RenderedFile {
  return { path, content: toYaml(object), object };
}
