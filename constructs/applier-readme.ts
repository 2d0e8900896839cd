import { Environment } from './environment';
import { Site } from './site';
import { qualifiedName } from './applier-helpers';
import { ARGOCD_NAMESPACE, argoRepoUrl } from './argocd/applications';
import { argoCdRepositoryAccess, type ArgoCdRepositoryAccess } from './argocd/repository-access';
import { FLUX_NAMESPACE, fluxChartMirrorCaSecret, fluxChartMirrorSecret, fluxGitHttpsSecret, fluxGitSshSecret, fluxKubeconfigSecret } from './flux/apps';
import { fluxGitUrl } from './flux/git-url';

/** The environment README's section on how its cluster applies the repository. */
export function applierReadmeLines(env: Environment): string[] {
  const cluster = env.cluster;
  if (!cluster) return [];
  const sync = env.sync.automated
    ? 'Sync is automated: every change on `main` is applied, and removed objects are pruned.'
    : 'Sync is manual: nothing is applied until an owner or member syncs.';
  if (cluster.applier.name === 'argocd') {
    const who = Site.of(env).argoCd.name === 'dev-zone'
      ? `as an administrator of the site's Argo CD in the dev zone, once ${cluster.apiServer} is registered there as a cluster`
      : 'as an administrator of the Argo CD in this cluster';
    const repository = argoCdAccessLines(argoCdRepositoryAccess(env));
    const mirror = argoCdChartMirrorLines(env);
    const access = [...repository, ...mirror];
    const reads = [...(repository.length > 0 ? ['this repository'] : []), ...(mirror.length > 0 ? ['its chart mirror'] : [])].join(' and ');
    return [
      '## Applying',
      '',
      `Argo CD applies this repository: \`apps/\` holds the instances' AppProject, the app-of-apps and its own AppProject, and one Application per instance, ordered by sync waves. ${sync} Bootstrap once, ${who}${reads ? `, after letting it read ${reads}` : ''}:`,
      '',
      ...(access.length > 0 ? [...access, ''] : []),
      '```sh',
      `kubectl apply -n ${ARGOCD_NAMESPACE} -f apps/project.yaml -f apps/root-project.yaml -f apps/root.yaml`,
      '```',
      '',
    ];
  }
  // Secrets Flux reads and siteforge never writes: the administrators create them first.
  const ssh = fluxGitSshSecret(env);
  const https = fluxGitHttpsSecret(env);
  const kubeconfig = fluxKubeconfigSecret(env);
  const mirror = fluxChartMirrorSecret(env);
  const mirrorCa = fluxChartMirrorCaSecret(env);
  const secrets = [
    ...(ssh ? [`- \`${ssh}\`: the private key (\`identity\`) and the host's keys (\`known_hosts\`) with which Flux reads ${fluxGitUrl(env.repoUrl)}, e.g. \`flux create secret git ${ssh} --url=${fluxGitUrl(env.repoUrl)} --private-key-file=./identity\``] : []),
    ...(https ? [`- \`${https}\`: the user name and password (\`username\`, \`password\`; or a token as \`bearerToken\`) with which Flux reads ${env.repoUrl}, e.g. \`flux create secret git ${https} --url=${env.repoUrl} --username=<user> --password=<read-only token>\``] : []),
    ...(kubeconfig ? [`- \`${kubeconfig}\`: a kubeconfig for ${cluster.apiServer} under the key \`value\``] : []),
    ...(mirror ? [`- \`${mirror}\`: the user name and password (\`username\`, \`password\`) with which Flux reads the chart mirror ${env.chartMirror}, e.g. \`flux create secret helm ${mirror} --namespace=${FLUX_NAMESPACE} --username=<user> --password=<read-only token>\``] : []),
    ...(mirrorCa ? [`- \`${mirrorCa}\`: the certificate (\`ca.crt\`) of the authority that signed the certificate of the chart mirror ${env.chartMirror}, e.g. \`flux create secret tls ${mirrorCa} --namespace=${FLUX_NAMESPACE} --ca-crt-file=./ca.crt\``] : []),
  ];
  return [
    '## Applying',
    '',
    `Flux applies this repository: \`apps/\` holds the GitRepository, the root Kustomization and one Kustomization per instance, ordered by \`dependsOn\`. ${env.sync.automated ? sync : 'Sync is manual: every Flux object is suspended until an owner resumes it (`flux resume`).'} Bootstrap once, as a Flux administrator${secrets.length > 0 ? `, after creating these Secrets in \`${FLUX_NAMESPACE}\`` : ''}:`,
    '',
    ...(secrets.length > 0 ? [...secrets, ''] : []),
    '```sh',
    `kubectl apply -n ${FLUX_NAMESPACE} -f apps/gitrepository.yaml -f apps/root.yaml`,
    '```',
    '',
  ];
}

/** What Argo CD's administrators give it to read the repository (see ArgoCdRepositoryAccess). */
function argoCdAccessLines(access: ArgoCdRepositoryAccess | undefined): string[] {
  if (!access) return [];
  if (access.transport === 'https') {
    return [`- ${access.url} is private: add it with a read-only token, e.g. \`argocd repo add ${access.url} --username <user> --password <read-only token>\` (or create a Secret in \`${ARGOCD_NAMESPACE}\` labelled \`argocd.argoproj.io/secret-type: repository\` with the keys \`type\` (\`git\`), \`url\`, \`username\` and \`password\`)`];
  }
  const keyscan = `ssh-keyscan ${access.port ? `-p ${access.port} ` : ''}${access.host}`;
  return [
    `- ${access.url} is read over ssh: add it with the private key of a read-only deploy key, e.g. \`argocd repo add ${access.url} --ssh-private-key-path ./identity\` (or create a Secret in \`${ARGOCD_NAMESPACE}\` labelled \`argocd.argoproj.io/secret-type: repository\` with the keys \`url\` and \`sshPrivateKey\`)`,
    `- Argo CD trusts only the ssh host keys it knows: add the server's, after checking their fingerprints, e.g. \`${keyscan} | argocd cert add-ssh --batch\``,
  ];
}

/**
 * What Argo CD's administrators give it to read a chart mirror that asks for credentials, or
 * whose certificate a private authority signed (Argo CD keeps such authorities by host name).
 */
function argoCdChartMirrorLines(env: Environment): string[] {
  const mirror = env.chartMirror;
  if (mirror === undefined) return [];
  const oci = mirror.startsWith('oci://');
  const add = `argocd repo add ${argoRepoUrl(mirror)} --type helm --name ${qualifiedName(env, 'chart-mirror')}${oci ? ' --enable-oci' : ''} --username <user> --password <read-only token>`;
  return [
    ...(env.chartMirrorCa ? [`- the chart mirror ${mirror} has a certificate signed by a private authority: add the authority's certificate for its host, e.g. \`argocd cert add-tls ${new URL(mirror).hostname} --from ./ca.crt\``] : []),
    ...(env.chartMirrorCredentials ? [`- the chart mirror ${mirror} asks for credentials: add it with a read-only token, e.g. \`${add}\``] : []),
  ];
}
