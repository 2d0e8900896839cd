import { Environment } from '../environment';
import { fluxGitUrl } from '../flux/git-url';
import { Site } from '../site';

/**
 * What the Argo CD applying an environment needs before it can read the environment's
 * repository: credentials, which its administrators add (siteforge never writes them), and
 * over ssh the server's host keys too, since Argo CD checks them against its own known hosts.
 */
export type ArgoCdRepositoryAccess =
  | { readonly transport: 'https'; readonly url: string }
  | { readonly transport: 'ssh'; readonly url: string; readonly host: string; readonly port?: string };

/**
 * How Argo CD reads `env`'s repository when it needs credentials: over ssh always, over
 * https unless the site says its repositories are public (`gitRemotePublic`). Undefined
 * otherwise: plain `http://` and `git://` are read without (credentials would cross the
 * network in the clear).
 */
export function argoCdRepositoryAccess(env: Environment): ArgoCdRepositoryAccess | undefined {
  const url = env.repoUrl;
  if (url.startsWith('https://')) return Site.of(env).gitRemotePublic ? undefined : { transport: 'https', url };
  // An scp-like `git@host:path` is an ssh URL too; Argo CD takes it as it is.
  const ssh = fluxGitUrl(url);
  if (!ssh.startsWith('ssh://')) return undefined;
  const { hostname, port } = new URL(ssh);
  return { transport: 'ssh', url, host: hostname, ...(port ? { port } : {}) };
}

/**
 * Whether Argo CD can read `url` with an ssh key: not an `ssh://` URL without a user. Argo CD
 * takes an ssh URL for one only with a user in it (`IsSSHURL` in argo-cd's util/git,
 * `^(ssh://)?([^/:]*?)@[^@]+$`): for `ssh://host/path`, `argocd repo add` refuses
 * `--ssh-private-key-path`, and the repo server would log in as the empty user. Flux logs in
 * as `git` instead, and an scp-like URL always names its user.
 */
export function argoCdCanReadWithKey(url: string): boolean {
  return !url.startsWith('ssh://') || new URL(url).username !== '';
}
