/**
 * The environment repository's URL as Flux's GitRepository takes it. Its CRD admits only
 * `^(http|https|ssh)://.*$` (source-controller `GitRepositorySpec.URL`), so an scp-like
 * `user@host:path`, which git and siteforge's publish accept, is written `ssh://user@host/path`;
 * any other URL is returned as it is.
 *
 * In scp form a path not starting with `/` is relative to the user's home on the server, while
 * an `ssh://` path is absolute. Forges (GitLab, GitHub, Gitea…) serve both from one repository,
 * and Flux's documentation gives this very rewrite; a path starting with `~` keeps git's home
 * expansion (`/~/path`). A plain sshd serving repositories from the git user's home needs a
 * gitRemote written `ssh://` with the full path.
 */
export function fluxGitUrl(url: string): string {
  const scp = /^([^/:@]+@[^/:@]+):(.+)$/.exec(url);
  if (url.includes('://') || !scp) return url;
  const [, userAtHost, path] = scp;
  return `ssh://${userAtHost}${path.startsWith('/') ? '' : '/'}${path}`;
}

/** Whether Flux can fetch `url` at all: `git://` and `file://` it cannot. */
export function fluxCanFetch(url: string): boolean {
  return /^(https?|ssh):\/\//.test(fluxGitUrl(url));
}
