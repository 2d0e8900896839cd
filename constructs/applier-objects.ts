import type { Environment } from './environment';
import { Site } from './site';
import { appliedInstances, chartSourceOf, clusterInstances, qualifiedName } from './applier-helpers';
import { ARGOCD_NAMESPACE, ROOT_PROJECT_SUFFIX } from './argocd/applications';
import { FLUX_NAMESPACE, MANIFESTS_SUFFIX, fluxKubeconfigSecret, repositoryName, valuesConfigMap } from './flux/apps';

/**
 * An object that an environment's applier keeps in its own namespace (`argocd` or
 * `flux-system`), where the objects of every environment of the site may meet.
 */
export interface ApplierObject {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** What the object is for, as an error names it: `acme/dev/web`, `the app-of-apps of acme/dev`. */
  readonly purpose: string;
}

/**
 * Every object the applier of `env` puts in its own namespace, by kind, with the names the
 * renderers give them (`<site>-<env>[-<suffix>]`): AppProjects and Applications for Argo CD;
 * GitRepository, HelmRepositories, Kustomizations, HelmReleases and values ConfigMaps for
 * Flux. Which of them exist depends on the `manifests/` folders the environment renders
 * (`folders`, as the renderers take them); without them, every folder that may be rendered
 * is counted (the secrets, one per instance), so a check sees each name the environment may
 * come to use. test/constructs/appliers.test.ts holds this list to what the renderers write.
 */
export function applierObjects(env: Environment, folders: ReadonlySet<string> = possibleFolders(env)): ApplierObject[] {
  const applier = env.cluster?.applier.name;
  if (applier === 'argocd') return argoCdObjects(env, folders);
  if (applier === 'flux') return fluxObjects(env, folders);
  return [];
}

/** Every `manifests/` folder `env` may render: the namespace, the secrets and one per instance. */
function possibleFolders(env: Environment): Set<string> {
  return new Set(['namespace', 'secrets', ...env.instances.map((i) => i.name)]);
}

function argoCdObjects(env: Environment, folders: ReadonlySet<string>): ApplierObject[] {
  const object = (kind: string, suffix: string | undefined, purpose: string): ApplierObject => ({ kind, namespace: ARGOCD_NAMESPACE, name: qualifiedName(env, suffix), purpose });
  const path = env.node.path;
  return [
    object('AppProject', undefined, `the project of ${path}`),
    object('AppProject', ROOT_PROJECT_SUFFIX, `the app-of-apps' project of ${path}`),
    object('Application', undefined, `the app-of-apps of ${path}`),
    object('Application', 'namespace', `the namespace of ${path}`),
    ...(folders.has('secrets') ? [object('Application', 'secrets', `the secrets of ${path}`)] : []),
    ...appliedInstances(env, folders).map((i) => object('Application', i.name, i.node.path)),
  ];
}

function fluxObjects(env: Environment, folders: ReadonlySet<string>): ApplierObject[] {
  const object = (kind: string, suffix: string | undefined, purpose: string): ApplierObject => ({ kind, namespace: FLUX_NAMESPACE, name: qualifiedName(env, suffix), purpose });
  const path = env.node.path;
  const charts = clusterInstances(env).filter((i) => i.service.helm);
  const remote = fluxKubeconfigSecret(env) !== undefined;
  const objects = [
    object('GitRepository', undefined, `the repository of ${path}`),
    object('Kustomization', undefined, `the root of ${path}`),
    object('Kustomization', 'namespace', `the namespace of ${path}`),
    ...(folders.has('secrets') ? [object('Kustomization', 'secrets', `the secrets of ${path}`)] : []),
    ...(charts.length > 0 ? [object('Kustomization', 'values', `the values of ${path}`)] : []),
  ];
  const repositories = new Set<string>();
  for (const instance of charts) {
    const { url } = chartSourceOf(instance);
    if (repositories.has(url)) continue;
    repositories.add(url);
    objects.push(object('HelmRepository', repositoryName(url), `chart repository ${url} of ${path}`));
  }
  for (const instance of appliedInstances(env, folders)) {
    objects.push(object('Kustomization', instance.name, instance.node.path));
    if (!charts.includes(instance)) continue;
    objects.push(object('HelmRelease', instance.name, instance.node.path));
    objects.push({ kind: 'ConfigMap', namespace: FLUX_NAMESPACE, name: valuesConfigMap(instance), purpose: `the values of ${instance.node.path}` });
    if (remote && folders.has(instance.name)) objects.push(object('Kustomization', `${instance.name}${MANIFESTS_SUFFIX}`, `the objects beside the chart of ${instance.node.path}`));
  }
  return objects;
}

/**
 * Two environments of `site` whose appliers would make one object (one kind, namespace and
 * name): `<site>-<env>-<instance>` of env `dev` with instance `web-eureka` is that of env
 * `dev-web` with instance `eureka`. One Argo CD or Flux holding both would hand the object back
 * and forth between the two environments, each sync undoing the other.
 */
export function applierNameClashes(site: Site): string[] {
  const claimed = new Map<string, { env: Environment; object: ApplierObject }>();
  const problems: string[] = [];
  for (const env of site.environments) {
    for (const object of applierObjects(env)) {
      const key = `${object.kind} ${object.namespace}/${object.name}`;
      const other = claimed.get(key);
      if (!other) {
        claimed.set(key, { env, object });
        continue;
      }
      // Within one environment the renderers refuse or cannot make two such objects.
      if (other.env === env) continue;
      const applier = object.namespace === ARGOCD_NAMESPACE ? 'Argo CD' : 'Flux';
      problems.push(`${site.node.path}: environments ${other.env.name} and ${env.name} would both make ${key} (for ${other.object.purpose} and for ${object.purpose}), and one ${applier} would hand it back and forth between them; rename one of the environments or instances (${applier} objects are named <site>-<env>-<name>)`);
    }
  }
  return problems;
}

/** The longest label value Kubernetes takes. */
const MAX_LABEL_VALUE = 63;

/**
 * The Flux Kustomizations of `env` whose names are too long to work: kustomize-controller
 * labels every object it applies with `kustomize.toolkit.fluxcd.io/name: <Kustomization>`, and
 * a label value holds at most 63 characters, so the API server would refuse every object
 * (fluxcd/flux2#2004). A HelmRelease is named as its instance's Kustomization.
 */
export function fluxNameLengthProblems(env: Environment): string[] {
  if (env.cluster?.applier.name !== 'flux') return [];
  return applierObjects(env).filter((o) => o.kind === 'Kustomization' && o.name.length > MAX_LABEL_VALUE).map((o) => {
    const why = `would be ${o.name.length} characters, and Flux labels every object it applies with the Kustomization's name, which a label value holds only up to ${MAX_LABEL_VALUE}: nothing would be applied`;
    const instance = env.instances.find((i) => i.node.path === o.purpose);
    if (instance) {
      return `${o.purpose}: its Flux Kustomization ${o.name} ${why}; shorten the instance name (to at most ${instance.name.length - (o.name.length - MAX_LABEL_VALUE)} characters), or the site or environment name`;
    }
    return `${env.node.path}: the Flux Kustomization ${o.name} (${o.purpose}) ${why}; shorten the site or environment name, or the instance's`;
  });
}
