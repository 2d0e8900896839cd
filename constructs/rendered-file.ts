/** A file of an environment repository, rendered in memory. */
export interface RenderedFile {
  /** Path inside the environment repository, `/`-separated. */
  readonly path: string;
  readonly content: string;
}
