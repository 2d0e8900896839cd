import type { ServiceImage } from './service-definition';

/** An image as it is pulled at a site, after rewriting to the site's mirror. */
export interface ResolvedImage {
  /** Registry host, e.g. `docker.io` or the mirror. */
  readonly registry: string;
  /** Path inside the registry, e.g. `bitnami/mysql`. */
  readonly repository: string;
  /** `<registry>/<repository>`, without tag. */
  readonly image: string;
  readonly tag: string;
  readonly digest?: string;
  /** What a container's `image` field holds: `<image>:<tag>[@<digest>]`. */
  readonly ref: string;
}

/**
 * Where `image` is pulled from at a site: its own registry, or `mirror` (`host[:port][/path]`)
 * with the image's path kept, so that `docker.io/bitnami/mysql` becomes
 * `<mirror>/bitnami/mysql`.
 */
export function resolveImage(image: ServiceImage, mirror?: string): ResolvedImage {
  const slash = image.repository.indexOf('/');
  const ownRegistry = image.repository.slice(0, slash);
  const path = image.repository.slice(slash + 1);
  const [registry, ...prefix] = (mirror ?? ownRegistry).split('/');
  const repository = [...prefix, path].join('/');
  const full = `${registry}/${repository}`;
  return {
    registry,
    repository,
    image: full,
    tag: image.tag,
    digest: image.digest,
    ref: `${full}:${image.tag}${image.digest ? `@${image.digest}` : ''}`,
  };
}
