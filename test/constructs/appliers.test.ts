import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import type { Construct } from 'constructs';
import { Applier, ArgoCdTopology, Placement, Site, SyncPolicy, type Environment } from '../../constructs';
import { applierObjects } from '../../constructs/applier-objects';
import { manifestFolders } from '../../constructs/applier-helpers';
import { parseYaml } from '../../constructs/yaml';
import { buildSite, validateObjects } from '../../engine';
import { fleet } from '../../sites';
import { builtinCatalog, renderWithSecrets } from '../helpers';

const catalog = builtinCatalog();

/** acme/prod-like, applied by the dev-zone Argo CD: owners on two levels, members, portal-admin using mysql and redis. */
function environment(options: { applier?: Applier; sync?: SyncPolicy; chartMirror?: string; argoCd?: ArgoCdTopology; apiServer?: string; gitRemote?: string; gitRemotePublic?: boolean } = {}): Environment {
  const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', owners: ['acme-leads'], argoCd: options.argoCd ?? ArgoCdTopology.devZone(), gitRemote: options.gitRemote, gitRemotePublic: options.gitRemotePublic });
  const env = site.addEnvironment('prod', { owners: ['acme-ops'], members: ['acme-support', 'acme-qa'], sync: options.sync, chartMirror: options.chartMirror });
  env.addCluster({ apiServer: options.apiServer ?? 'https://k8s-prod.acme.internal:6443', applier: options.applier });
  const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
  const redis = env.addInstance('redis', { service: catalog.service('redis') });
  env.addInstance('elasticsearch', { service: catalog.service('elasticsearch') });
  env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
  env.addInstance('kong', { service: catalog.service('kong') });
  return env;
}

function objects(env: Environment, folder = 'apps/'): Record<string, any> {
  return Object.fromEntries(renderWithSecrets(env)
    .filter((f) => f.path.startsWith(folder))
    .map((f) => [f.path, parseYaml(f.content, f.path)]));
}

describe('Argo CD applier', () => {
  it('allows exactly the environment repository and the chart repositories its instances use', () => {
    // GIVEN an environment with charts from bitnami and elastic
    const project = objects(environment())['apps/project.yaml'];
    // THEN the AppProject allows those and nothing else
    expect(project.spec.sourceRepos).toStrictEqual([
      'https://git.acme.example.com/siteforge/acme-prod.git',
      'https://charts.bitnami.com/bitnami',
      'https://helm.elastic.co',
    ]);
  });

  it('allows only the chart mirror when the environment has one', () => {
    const project = objects(environment({ chartMirror: 'https://charts.acme.internal/siteforge' }))['apps/project.yaml'];
    expect(project.spec.sourceRepos).toStrictEqual(['https://git.acme.example.com/siteforge/acme-prod.git', 'https://charts.acme.internal/siteforge']);
  });

  it('allows the instances only the environment cluster and namespace, never Argo CD namespace', () => {
    const apps = objects(environment());
    const project = apps['apps/project.yaml'];
    expect(project.spec.destinations).toStrictEqual([{ server: 'https://k8s-prod.acme.internal:6443', namespace: 'acme-prod' }]);
    expect(project.spec.clusterResourceWhitelist).toStrictEqual([{ group: '', kind: 'Namespace' }]);
    expect(Object.entries(apps).filter(([file]) => file.startsWith('apps/application-')).map(([, app]) => app.spec.project)).toStrictEqual(
      Object.keys(apps).filter((file) => file.startsWith('apps/application-')).map(() => 'acme-prod'),
    );
  });

  it('gives the app-of-apps a project of its own: Applications and AppProjects in Argo CD namespace from this repository, and roles that only see and sync', () => {
    const apps = objects(environment());
    expect(apps['apps/root.yaml'].spec.project).toBe('acme-prod-root');
    const root = apps['apps/root-project.yaml'];
    expect(root.metadata.name).toBe('acme-prod-root');
    expect(root.spec).toMatchObject({
      sourceRepos: [apps['apps/root.yaml'].spec.source.repoURL],
      destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }],
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'Application' }, { group: 'argoproj.io', kind: 'AppProject' }],
    });
    expect(root.spec.roles.flatMap((r: { policies: string[] }) => r.policies)).toStrictEqual([
      'p, proj:acme-prod-root:owner, applications, get, acme-prod-root/*, allow',
      'p, proj:acme-prod-root:owner, applications, sync, acme-prod-root/*, allow',
    ]);
  });

  it('targets the cluster in-cluster when every cluster runs its own Argo CD', () => {
    const apps = objects(environment({ argoCd: ArgoCdTopology.perCluster() }));
    expect(apps['apps/project.yaml'].spec.destinations).toStrictEqual([{ server: 'https://kubernetes.default.svc', namespace: 'acme-prod' }]);
    expect(apps['apps/application-kong.yaml'].spec.destination).toStrictEqual({ server: 'https://kubernetes.default.svc', namespace: 'acme-prod' });
  });

  it('refuses a runtime cluster without API server URL when the site Argo CD runs in the dev zone', () => {
    // GIVEN a dev-zone Argo CD and a runtime environment left on the in-cluster default
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', argoCd: ArgoCdTopology.devZone() });
    site.addEnvironment('prod').addCluster();
    // THEN validation names the cluster and the fix
    expect(site.node.validate()).toStrictEqual([
      "acme/prod/cluster: the site's Argo CD runs in the dev zone and reaches this cluster by URL, but apiServer is the in-cluster default; set apiServer to the cluster's API server URL",
    ]);
  });

  it('gives owners everything and members get and sync only, bound to the site groups', () => {
    const project = objects(environment())['apps/project.yaml'];
    expect(project.spec.roles).toStrictEqual([
      {
        name: 'owner',
        description: 'owners of the site and the environment: everything',
        policies: ['p, proj:acme-prod:owner, applications, *, acme-prod/*, allow'],
        groups: ['acme-leads', 'acme-ops'],
      },
      {
        name: 'member',
        description: 'members of the environment: see and sync',
        policies: ['p, proj:acme-prod:member, applications, get, acme-prod/*, allow', 'p, proj:acme-prod:member, applications, sync, acme-prod/*, allow'],
        groups: ['acme-qa', 'acme-support'],
      },
    ]);
  });

  it('gives a dependency a lower sync wave than the instances that use it', () => {
    const apps = objects(environment());
    const wave = (name: string) => apps[`apps/application-${name}.yaml`].metadata.annotations['argocd.argoproj.io/sync-wave'];
    expect({ namespace: wave('namespace'), mysql: wave('mysql'), redis: wave('redis'), kong: wave('kong'), 'portal-admin': wave('portal-admin') })
      .toStrictEqual({ namespace: '-1', mysql: '0', redis: '0', kong: '0', 'portal-admin': '1' });
  });

  it('points a chart-based Application at the pinned chart and this repository values', () => {
    const app = objects(environment())['apps/application-mysql.yaml'];
    expect(app.spec.sources).toStrictEqual([
      { repoURL: 'https://charts.bitnami.com/bitnami', chart: 'mysql', targetRevision: '9.14.4', helm: { releaseName: 'mysql', valueFiles: ['$values/values/mysql.yaml'] } },
      { repoURL: 'https://git.acme.example.com/siteforge/acme-prod.git', targetRevision: 'main', ref: 'values' },
    ]);
    expect(app.spec.destination).toStrictEqual({ server: 'https://k8s-prod.acme.internal:6443', namespace: 'acme-prod' });
  });

  it('points a native Application at its manifests folder with automated prune and self-heal by default', () => {
    const app = objects(environment())['apps/application-kong.yaml'];
    expect(app.spec.source).toStrictEqual({ repoURL: 'https://git.acme.example.com/siteforge/acme-prod.git', targetRevision: 'main', path: 'manifests/kong' });
    expect(app.spec.syncPolicy).toStrictEqual({
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true'],
      retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
    });
  });

  it('names an OCI chart repository without its scheme, as Argo CD expects', () => {
    const apps = objects(environment({ chartMirror: 'oci://registry.acme.internal/charts' }));
    expect(apps['apps/application-mysql.yaml'].spec.sources[0].repoURL).toBe('registry.acme.internal/charts');
    expect(apps['apps/project.yaml'].spec.sourceRepos).toStrictEqual(['https://git.acme.example.com/siteforge/acme-prod.git', 'registry.acme.internal/charts']);
  });

  it('leaves out automated sync for an environment marked manual', () => {
    const apps = objects(environment({ sync: SyncPolicy.manual() }));
    expect(Object.values(apps).filter((o) => o.kind === 'Application').map((o) => o.spec.syncPolicy.automated)).toStrictEqual(Array(8).fill(undefined)); // root, namespace, secrets and five instances
  });


  it('tells the administrators, before bootstrapping, how to let Argo CD read a private repository over https or ssh', () => {
    const readme = (options: Parameters<typeof environment>[0]) => renderWithSecrets(environment(options)).find((f) => f.path === 'README.md')!.content;
    // GIVEN the default https repository, private by default
    expect(readme({})).toContain([
      "Bootstrap once, as an administrator of the site's Argo CD in the dev zone, once https://k8s-prod.acme.internal:6443 is registered there as a cluster, after letting it read this repository:",
      '',
      '- https://git.acme.example.com/siteforge/acme-prod.git is private: add it with a read-only token, e.g. `argocd repo add https://git.acme.example.com/siteforge/acme-prod.git --username <user> --password <read-only token>` (or create a Secret in `argocd` labelled `argocd.argoproj.io/secret-type: repository` with the keys `type` (`git`), `url`, `username` and `password`)',
      '',
      '```sh',
    ].join('\n'));
    // AND an ssh remote on another port, or an scp-like one, takes a key and the server's host keys
    const ssh = readme({ gitRemote: 'ssh://git@git.acme.internal:2222/delivery/{site}-{env}.git' });
    expect(ssh).toContain('- ssh://git@git.acme.internal:2222/delivery/acme-prod.git is read over ssh: add it with the private key of a read-only deploy key, e.g. `argocd repo add ssh://git@git.acme.internal:2222/delivery/acme-prod.git --ssh-private-key-path ./identity`');
    expect(ssh).toContain("- Argo CD trusts only the ssh host keys it knows: add the server's, after checking their fingerprints, e.g. `ssh-keyscan -p 2222 git.acme.internal | argocd cert add-ssh --batch`");
    expect(readme({ gitRemote: 'git@git.acme.internal:delivery/{site}-{env}.git' })).toContain('`argocd repo add git@git.acme.internal:delivery/acme-prod.git --ssh-private-key-path ./identity`');
    // AND a public https repository, or a plain http one, asks for nothing
    for (const options of [{ gitRemote: 'https://github.com/acme/{site}-{env}.git', gitRemotePublic: true }, { gitRemote: 'http://git.acme.internal/{site}-{env}.git' }]) {
      const text = readme(options);
      expect(text).toContain('registered there as a cluster:\n\n```sh\nkubectl apply -n argocd');
      expect(text).not.toContain('argocd repo add');
    }
  });

  it('refuses an ssh:// repository without a user, which Argo CD cannot read with a key', () => {
    // GIVEN an ssh:// gitRemote that leaves the user to the ssh configuration of whoever publishes
    // THEN an Argo CD environment is refused: Argo CD takes an ssh URL for one only with a user
    // in it (`argocd repo add` refuses --ssh-private-key-path for it, and the repo server would log in as "")
    expect(() => environment({ gitRemote: 'ssh://git.acme.internal:2222/delivery/{site}-{env}.git' }))
      .toThrow('acme/prod: Argo CD reads the environment repository "ssh://git.acme.internal:2222/delivery/acme-prod.git" with a key only when the URL names the ssh user; set the site\'s gitRemote to one that does, e.g. "ssh://git@git.acme.internal:2222/delivery/{site}-{env}.git"');
    // AND a Flux environment of the same site is not concerned: Flux logs in as "git"
    expect(() => environment({ applier: Applier.flux(), gitRemote: 'ssh://git.acme.internal:2222/delivery/{site}-{env}.git' })).not.toThrow();
  });
  it('roots the app-of-apps at apps/ and lists every object in apps/kustomization.yaml', () => {
    const apps = objects(environment());
    expect(apps['apps/root.yaml'].spec.source).toStrictEqual({ repoURL: 'https://git.acme.example.com/siteforge/acme-prod.git', targetRevision: 'main', path: 'apps' });
    expect(apps['apps/kustomization.yaml'].resources).toStrictEqual(Object.keys(apps).filter((p) => p !== 'apps/kustomization.yaml').map((p) => p.slice(5)).sort());
  });
});

describe('every example environment', () => {
  const environments = fleet.flatMap((definition) => buildSite(definition, catalog).environments.filter((e) => e.cluster));

  it('gives every Argo CD Application a later sync wave than the Applications of what it uses', () => {
    const checked: string[] = [];
    for (const env of environments.filter((e) => e.cluster!.applier.name === 'argocd')) {
      const apps = objects(env);
      const wave = (name: string) => Number(apps[`apps/application-${name}.yaml`].metadata.annotations['argocd.argoproj.io/sync-wave']);
      // Instances the cluster applies (VM instances only through their selector-less Service).
      for (const instance of env.instances.filter((i) => apps[`apps/application-${i.name}.yaml`])) {
        for (const dependency of instance.dependencies) {
          expect(wave(dependency.name), `${instance.node.path} uses ${dependency.name}`).toBeLessThan(wave(instance.name));
          checked.push(`${instance.node.path} -> ${dependency.name}`);
        }
        expect(wave('namespace')).toBeLessThan(wave(instance.name));
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(6);
  });

  it('lists in applierObjects, by kind and name, exactly the objects its applier writes under apps/ and the values ConfigMaps', () => {
    const checked: string[] = [];
    for (const env of environments) {
      // GIVEN what the renderers write: the objects under apps/ (not kustomize's own
      // kustomization.yaml) and the ConfigMaps values/kustomization.yaml generates
      const files = renderWithSecrets(env);
      const written = files
        .filter((f) => f.path.startsWith('apps/') && !f.path.endsWith('/kustomization.yaml'))
        .map((f) => parseYaml(f.content, f.path) as any)
        .map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
      const values = files.find((f) => f.path === 'values/kustomization.yaml');
      const generated = values ? (parseYaml(values.content, values.path) as any).configMapGenerator.map((c: { name: string }) => `ConfigMap flux-system/${c.name}`) : [];
      const listed = (folders?: ReadonlySet<string>) => applierObjects(env, folders).map((o) => `${o.kind} ${o.namespace}/${o.name}`);
      // THEN the list for its manifests/ folders is exactly that, and the list the site's check
      // uses (every folder the environment may render) holds all of it
      expect(listed(manifestFolders(files)).sort(), env.node.path).toStrictEqual([...written, ...generated].sort());
      expect(listed(), env.node.path).toEqual(expect.arrayContaining([...written, ...generated]));
      checked.push(...written, ...generated);
    }
    expect(checked).toEqual(expect.arrayContaining([expect.stringMatching(/^Application argocd\//), expect.stringMatching(/^HelmRelease flux-system\//), expect.stringMatching(/^ConfigMap flux-system\//)]));
  });

  it('makes every Flux Kustomization depend on the Kustomizations of what it uses', () => {
    const flux = environments.filter((e) => e.cluster!.applier.name === 'flux');
    expect(flux.map((e) => e.node.path)).toContain('acme/dev');
    for (const env of flux) {
      const apps = objects(env);
      for (const instance of env.instances) {
        const dependsOn = apps[`apps/kustomization-${instance.name}.yaml`].spec.dependsOn.map((d: { name: string }) => d.name);
        expect(dependsOn).toEqual(expect.arrayContaining(instance.dependencies.map((d) => `${Site.of(env).name}-${env.name}-${d.name}`)));
      }
    }
  });
});

/** Site shop with environments dev (instance web-eureka) and dev-web (instance eureka), and `more` in it. */
function clashingSite(applier: Applier, more: (site: Site) => void = () => {}) {
  return {
    name: 'shop',
    build(scope: Construct) {
      const site = new Site(scope, 'shop', { domain: 'shop.example.com' });
      const dev = site.addEnvironment('dev');
      dev.addCluster({ applier });
      dev.addInstance('web-eureka', { service: catalog.service('redis') });
      const devWeb = site.addEnvironment('dev-web');
      devWeb.addCluster({ applier });
      devWeb.addInstance('eureka', { service: catalog.service('redis') });
      more(site);
      return site;
    },
  };
}

describe('applier objects of the environments of one site', () => {
  it('refuses two environments whose Argo CD Applications would have one name', () => {
    // GIVEN dev with instance web-eureka and dev-web with instance eureka, both shop-dev-web-eureka
    // THEN the site is refused, naming both instances, the object and the fix
    expect(() => buildSite(clashingSite(Applier.argoCd()), catalog)).toThrow(
      'shop: environments dev and dev-web would both make Application argocd/shop-dev-web-eureka (for shop/dev/web-eureka and for shop/dev-web/eureka), and one Argo CD would hand it back and forth between them; rename one of the environments or instances (Argo CD objects are named <site>-<env>-<name>)',
    );
  });

  it('refuses an environment whose AppProject is the app-of-apps project of another', () => {
    // GIVEN environments dev and dev-root: dev's app-of-apps is in project shop-dev-root
    const site = {
      name: 'shop',
      build(scope: Construct) {
        const site = new Site(scope, 'shop', { domain: 'shop.example.com' });
        site.addEnvironment('dev').addCluster();
        site.addEnvironment('dev-root').addCluster();
        return site;
      },
    };
    expect(() => buildSite(site, catalog)).toThrow(
      "shop: environments dev and dev-root would both make AppProject argocd/shop-dev-root (for the app-of-apps' project of shop/dev and for the project of shop/dev-root), and one Argo CD would hand it back and forth between them; rename one of the environments or instances (Argo CD objects are named <site>-<env>-<name>)",
    );
  });

  it('refuses two environments whose Flux Kustomizations, HelmReleases and values ConfigMaps would have one name', () => {
    let error: Error | undefined;
    try {
      buildSite(clashingSite(Applier.flux()), catalog);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.split('\n')).toStrictEqual([
      'shop: environments dev and dev-web would both make Kustomization flux-system/shop-dev-web-eureka (for shop/dev/web-eureka and for shop/dev-web/eureka), and one Flux would hand it back and forth between them; rename one of the environments or instances (Flux objects are named <site>-<env>-<name>)',
      'shop: environments dev and dev-web would both make HelmRelease flux-system/shop-dev-web-eureka (for shop/dev/web-eureka and for shop/dev-web/eureka), and one Flux would hand it back and forth between them; rename one of the environments or instances (Flux objects are named <site>-<env>-<name>)',
      'shop: environments dev and dev-web would both make ConfigMap flux-system/shop-dev-web-eureka-values (for the values of shop/dev/web-eureka and for the values of shop/dev-web/eureka), and one Flux would hand it back and forth between them; rename one of the environments or instances (Flux objects are named <site>-<env>-<name>)',
    ]);
  });

  it('refuses the Application of a VM instance that the cluster may come to apply', () => {
    // GIVEN web-eureka on VMs in dev: its Application appears once something on the cluster uses it
    const vmSite = {
      name: 'shop',
      build(scope: Construct) {
        const site = new Site(scope, 'shop', { domain: 'shop.example.com' });
        const dev = site.addEnvironment('dev');
        dev.addCluster();
        const group = dev.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
        dev.addInstance('web-eureka', { service: catalog.service('redis'), placement: Placement.vm({ group }) });
        const devWeb = site.addEnvironment('dev-web');
        devWeb.addCluster();
        devWeb.addInstance('eureka', { service: catalog.service('redis') });
        return site;
      },
    };
    expect(() => buildSite(vmSite, catalog)).toThrow('shop: environments dev and dev-web would both make Application argocd/shop-dev-web-eureka');
  });

  it('accepts environments applied by different appliers, and names that differ', () => {
    // GIVEN dev applied by Argo CD and dev-web by Flux: their objects are of other kinds and namespaces
    const mixed = {
      name: 'shop',
      build(scope: Construct) {
        const site = new Site(scope, 'shop', { domain: 'shop.example.com' });
        const dev = site.addEnvironment('dev');
        dev.addCluster();
        dev.addInstance('web-eureka', { service: catalog.service('redis') });
        const devWeb = site.addEnvironment('dev-web');
        devWeb.addCluster({ applier: Applier.flux() });
        devWeb.addInstance('eureka', { service: catalog.service('redis') });
        return site;
      },
    };
    expect(() => buildSite(mixed, catalog)).not.toThrow();
  });
});

describe('Flux applier', () => {
  it('turns the dependency graph into dependsOn between Kustomizations', () => {
    const apps = objects(environment({ applier: Applier.flux() }));
    expect(apps['apps/kustomization-portal-admin.yaml'].spec.dependsOn).toStrictEqual([{ name: 'acme-prod-namespace' }, { name: 'acme-prod-secrets' }, { name: 'acme-prod-mysql' }, { name: 'acme-prod-redis' }]);
    expect(apps['apps/kustomization-mysql.yaml'].spec.dependsOn).toStrictEqual([{ name: 'acme-prod-namespace' }, { name: 'acme-prod-secrets' }, { name: 'acme-prod-values' }]);
    expect(apps['apps/kustomization-secrets.yaml'].spec).toMatchObject({ path: './manifests/secrets', dependsOn: [{ name: 'acme-prod-namespace' }] });
    expect(apps['apps/kustomization-mysql.yaml'].spec.path).toBe('./apps/releases/mysql');
  });

  it('takes HelmRelease values from a ConfigMap generated from values/<instance>.yaml', () => {
    const env = environment({ applier: Applier.flux() });
    const release = objects(env)['apps/releases/mysql/helmrelease-mysql.yaml'];
    expect(release.spec.valuesFrom).toStrictEqual([{ kind: 'ConfigMap', name: 'acme-prod-mysql-values', valuesKey: 'values.yaml' }]);
    expect(release.spec.chart).toStrictEqual({ spec: { chart: 'mysql', version: '9.14.4', sourceRef: { kind: 'HelmRepository', name: 'acme-prod-charts-bitnami-com-bitnami' } } });
    const generator = objects(env, 'values/')['values/kustomization.yaml'].configMapGenerator;
    expect(generator).toContainEqual({ name: 'acme-prod-mysql-values', files: ['values.yaml=mysql.yaml'] });
  });

  it('makes an OCI HelmRepository for an oci:// mirror, and suspends everything when sync is manual', () => {
    const apps = objects(environment({ applier: Applier.flux(), chartMirror: 'oci://registry.acme.internal/charts', sync: SyncPolicy.manual() }));
    const repositories = Object.values(apps).filter((o) => o.kind === 'HelmRepository');
    expect(repositories.map((r) => r.spec)).toStrictEqual([{ url: 'oci://registry.acme.internal/charts', interval: '1h0m0s', type: 'oci', suspend: true }]);
    expect(Object.values(apps).filter((o) => o.apiVersion !== 'kustomize.config.k8s.io/v1beta1' && o.spec.suspend !== true)).toStrictEqual([]);
  });

  it('names only a kubeconfig Secret for a cluster other than the one Flux runs in', () => {
    const apps = objects(environment({ applier: Applier.flux() }));
    expect(apps['apps/kustomization-kong.yaml'].spec.kubeConfig).toStrictEqual({ secretRef: { name: 'acme-prod-kubeconfig' } });
  });

  it('applies through the kubeconfig only the objects that belong on a remote cluster, and installs each chart remotely from its HelmRelease', () => {
    // GIVEN a Flux environment whose cluster is not the one Flux runs in
    const apps = objects(environment({ applier: Applier.flux() }));
    // THEN the Namespace, secrets and native instances go to that cluster; the root, the values
    // ConfigMaps (read by HelmReleases on Flux's cluster) and the HelmReleases stay with Flux
    const kustomizations = Object.values(apps).filter((o) => o.kind === 'Kustomization' && o.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/'));
    expect(Object.fromEntries(kustomizations.map((k) => [k.metadata.name, k.spec.kubeConfig !== undefined]))).toStrictEqual({
      'acme-prod': false,
      'acme-prod-namespace': true,
      'acme-prod-secrets': true,
      'acme-prod-values': false,
      'acme-prod-elasticsearch': false,
      'acme-prod-kong': true,
      'acme-prod-mysql': false,
      'acme-prod-portal-admin': true,
      'acme-prod-redis': false,
    });
    expect(apps['apps/releases/mysql/helmrelease-mysql.yaml'].spec.kubeConfig).toStrictEqual({ secretRef: { name: 'acme-prod-kubeconfig' } });
  });

  it('applies the objects beside a chart on a remote cluster with a Kustomization of their own, after the release', () => {
    // GIVEN a chart-based instance with a Grafana dashboard beside its chart, on a remote cluster
    const env = environment({ applier: Applier.flux() });
    env.addInstance('mq', { service: catalog.service('rabbitmq') });
    const apps = objects(env);
    // THEN the dashboard goes to the cluster through the kubeconfig, once the release is ready
    expect(apps['apps/kustomization-mq-manifests.yaml'].spec).toMatchObject({
      dependsOn: [{ name: 'acme-prod-mq' }],
      path: './manifests/mq',
      kubeConfig: { secretRef: { name: 'acme-prod-kubeconfig' } },
    });
    // AND the HelmRelease's Kustomization, on Flux's cluster, applies the HelmRelease alone
    expect(apps['apps/releases/mq/kustomization.yaml'].resources).toStrictEqual(['helmrelease-mq.yaml']);
    expect(apps['apps/kustomization-mq.yaml'].spec.kubeConfig).toBeUndefined();
    expect(apps['apps/kustomization.yaml'].resources).toContain('kustomization-mq-manifests.yaml');
  });

  it('keeps the objects beside a chart with its HelmRelease when Flux runs in the cluster', () => {
    const env = environment({ applier: Applier.flux(), apiServer: 'https://kubernetes.default.svc' });
    env.addInstance('mq', { service: catalog.service('rabbitmq') });
    const apps = objects(env);
    expect(apps['apps/releases/mq/kustomization.yaml'].resources).toStrictEqual(['helmrelease-mq.yaml', '../../../manifests/mq']);
    expect(apps['apps/kustomization-mq-manifests.yaml']).toBeUndefined();
    expect(Object.values(apps).filter((o) => o.spec?.kubeConfig !== undefined)).toStrictEqual([]);
  });

  it('refuses an instance named like the Kustomization of the objects beside another instance chart', () => {
    // GIVEN mq (a chart with a dashboard) on a remote cluster, and an instance named mq-manifests
    const env = environment({ applier: Applier.flux() });
    env.addInstance('mq', { service: catalog.service('rabbitmq') });
    env.addInstance('mq-manifests', { service: catalog.service('redis') });
    // THEN rendering names the instance and the fix
    expect(() => objects(env)).toThrow('acme/prod/mq-manifests: instance name "mq-manifests" is taken by Flux\'s Kustomization of the objects beside mq\'s chart (its cluster is remote, so they are applied apart from the HelmRelease) in acme/prod; rename the instance');
  });

  it('reads an scp-like gitRemote as the ssh:// URL Flux takes, with the ssh Secret the administrators create', () => {
    // GIVEN a site whose repositories are git@host:path
    const env = environment({ applier: Applier.flux(), gitRemote: 'git@git.acme.internal:delivery/{site}-{env}.git' });
    // THEN the GitRepository reads the same repository as ssh://, with the Secret holding the key and known hosts
    expect(objects(env)['apps/gitrepository.yaml'].spec).toMatchObject({
      url: 'ssh://git@git.acme.internal/delivery/acme-prod.git',
      secretRef: { name: 'acme-prod-git-ssh' },
    });
    // AND the environment README says which Secrets to create before bootstrapping
    const readme = renderWithSecrets(env).find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('- `acme-prod-git-ssh`: the private key (`identity`) and the host\'s keys (`known_hosts`) with which Flux reads ssh://git@git.acme.internal/delivery/acme-prod.git');
    expect(readme).toContain('- `acme-prod-kubeconfig`: a kubeconfig for https://k8s-prod.acme.internal:6443 under the key `value`');
  });

  it('writes ssh:// and https:// remotes as they are, each with the Secret of its credentials, and http:// with none', () => {
    const url = (gitRemote: string) => objects(environment({ applier: Applier.flux(), gitRemote }))['apps/gitrepository.yaml'].spec;
    expect(url('ssh://git@git.acme.internal:2222/delivery/{site}-{env}.git')).toMatchObject({ url: 'ssh://git@git.acme.internal:2222/delivery/acme-prod.git', secretRef: { name: 'acme-prod-git-ssh' } });
    expect(url('git@git.acme.internal:~/repos/{site}-{env}.git').url).toBe('ssh://git@git.acme.internal/~/repos/acme-prod.git');
    expect(url('https://git.acme.internal/{site}-{env}.git')).toMatchObject({ url: 'https://git.acme.internal/acme-prod.git', secretRef: { name: 'acme-prod-git-https' } });
    expect(url('http://git.acme.internal/{site}-{env}.git').url).toBe('http://git.acme.internal/acme-prod.git');
    expect(url('http://git.acme.internal/{site}-{env}.git').secretRef).toBeUndefined();
  });

  it('reads a private https repository with the credentials of the Secret <site>-<env>-git-https, which the README says how to create', () => {
    // GIVEN a Flux environment whose repository is the default https one (private by default)
    const env = environment({ applier: Applier.flux() });
    const files = renderWithSecrets(env);
    // THEN the GitRepository names the Secret in its own namespace
    const repository = parseYaml(files.find((f) => f.path === 'apps/gitrepository.yaml')!.content, 'gitrepository.yaml');
    expect(repository).toStrictEqual({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'acme-prod', namespace: 'flux-system', labels: { 'app.kubernetes.io/part-of': 'acme', 'app.kubernetes.io/managed-by': 'siteforge' } },
      spec: { url: 'https://git.acme.example.com/siteforge/acme-prod.git', secretRef: { name: 'acme-prod-git-https' }, ref: { branch: 'main' }, interval: '1m0s' },
    });
    // AND it is a valid GitRepository by Flux's CRD schema
    expect(validateObjects('acme/prod', files.filter((f) => f.path === 'apps/gitrepository.yaml')).map((e) => e.message)).toStrictEqual([]);
    // AND the environment README says which Secret to create before bootstrapping, and how
    const readme = files.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('- `acme-prod-git-https`: the user name and password (`username`, `password`; or a token as `bearerToken`) with which Flux reads https://git.acme.example.com/siteforge/acme-prod.git, e.g. `flux create secret git acme-prod-git-https --url=https://git.acme.example.com/siteforge/acme-prod.git --username=<user> --password=<read-only token>`');
  });

  it('reads an https repository without credentials when the site says its repositories are public', () => {
    // GIVEN a site with gitRemotePublic
    const env = environment({ applier: Applier.flux(), gitRemote: 'https://github.com/acme/{site}-{env}.git', gitRemotePublic: true });
    const files = renderWithSecrets(env);
    // THEN the GitRepository names no Secret, and the README asks for none to read it
    expect(objects(env)['apps/gitrepository.yaml'].spec).toStrictEqual({ url: 'https://github.com/acme/acme-prod.git', ref: { branch: 'main' }, interval: '1m0s' });
    expect(files.find((f) => f.path === 'README.md')!.content).not.toContain('git-https');
    // AND an ssh remote still takes its key
    const ssh = environment({ applier: Applier.flux(), gitRemote: 'git@github.com:acme/{site}-{env}.git', gitRemotePublic: true });
    expect(objects(ssh)['apps/gitrepository.yaml'].spec.secretRef).toStrictEqual({ name: 'acme-prod-git-ssh' });
  });

  it('reads a chart mirror that asks for credentials with the Secret <site>-<env>-chart-mirror, which the README says how to create', () => {
    // GIVEN a Flux environment whose chart mirror asks for credentials
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'https://charts.acme.internal/siteforge', chartMirrorCredentials: true });
    const env = site.addEnvironment('prod');
    env.addCluster({ applier: Applier.flux() });
    env.addInstance('redis', { service: catalog.service('redis') });
    const files = renderWithSecrets(env);
    // THEN its HelmRepository names the Secret, valid by Flux's CRD schema
    const repository = files.find((f) => f.path.startsWith('apps/helmrepository-'))!;
    expect((parseYaml(repository.content, repository.path) as { spec: unknown }).spec).toStrictEqual({ url: 'https://charts.acme.internal/siteforge', secretRef: { name: 'acme-prod-chart-mirror' }, interval: '1h0m0s' });
    expect(validateObjects('acme/prod', [repository]).map((e) => e.message)).toStrictEqual([]);
    // AND the README says which Secret to create, and how
    expect(files.find((f) => f.path === 'README.md')!.content).toContain('- `acme-prod-chart-mirror`: the user name and password (`username`, `password`) with which Flux reads the chart mirror https://charts.acme.internal/siteforge, e.g. `flux create secret helm acme-prod-chart-mirror --namespace=flux-system --username=<user> --password=<read-only token>`');
    // AND an environment with a mirror of its own reads it without, unless it says otherwise
    const own = site.addEnvironment('dev', { chartMirror: 'oci://harbor.acme.internal/charts' });
    own.addCluster({ applier: Applier.flux() });
    expect(own.chartMirrorCredentials).toBe(false);
    const argo = site.addEnvironment('test', { chartMirror: 'oci://harbor.acme.internal/charts', chartMirrorCredentials: true });
    argo.addCluster();
    argo.addInstance('redis', { service: catalog.service('redis') });
    // AND Argo CD's administrators are told to add an OCI mirror as Argo CD names it
    expect(renderWithSecrets(argo).find((f) => f.path === 'README.md')!.content).toContain('- the chart mirror oci://harbor.acme.internal/charts asks for credentials: add it with a read-only token, e.g. `argocd repo add harbor.acme.internal/charts --type helm --name acme-test-chart-mirror --enable-oci --username <user> --password <read-only token>`');
  });

  it('trusts a chart mirror signed by a private certificate authority through the Secret <site>-<env>-chart-mirror-ca, which the README says how to create', () => {
    // GIVEN a Flux environment whose chart mirror's certificate a private authority signed
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'oci://harbor.acme.internal:8443/charts', chartMirrorCa: true });
    const env = site.addEnvironment('prod');
    env.addCluster({ applier: Applier.flux() });
    env.addInstance('redis', { service: catalog.service('redis') });
    const files = renderWithSecrets(env);
    // THEN its HelmRepository names the Secret holding the authority's certificate, valid by Flux's CRD schema
    const repository = files.find((f) => f.path.startsWith('apps/helmrepository-'))!;
    expect((parseYaml(repository.content, repository.path) as { spec: unknown }).spec).toStrictEqual({ url: 'oci://harbor.acme.internal:8443/charts', certSecretRef: { name: 'acme-prod-chart-mirror-ca' }, interval: '1h0m0s', type: 'oci' });
    expect(validateObjects('acme/prod', [repository]).map((e) => e.message)).toStrictEqual([]);
    // AND the README says which Secret to create, and how
    expect(files.find((f) => f.path === 'README.md')!.content).toContain('- `acme-prod-chart-mirror-ca`: the certificate (`ca.crt`) of the authority that signed the certificate of the chart mirror oci://harbor.acme.internal:8443/charts, e.g. `flux create secret tls acme-prod-chart-mirror-ca --namespace=flux-system --ca-crt-file=./ca.crt`');
    // AND Argo CD's administrators are told to add the authority for the mirror's host
    const argo = site.addEnvironment('test');
    argo.addCluster();
    argo.addInstance('redis', { service: catalog.service('redis') });
    expect(renderWithSecrets(argo).find((f) => f.path === 'README.md')!.content).toContain('- the chart mirror oci://harbor.acme.internal:8443/charts has a certificate signed by a private authority: add the authority\'s certificate for its host, e.g. `argocd cert add-tls harbor.acme.internal --from ./ca.crt`');
    // AND an environment with a mirror of its own does not inherit it; one without a mirror, or with an http:// one, cannot have it
    expect(site.addEnvironment('dev', { chartMirror: 'https://charts.dev.internal' }).chartMirrorCa).toBe(false);
    expect(() => new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirrorCa: true }))
      .toThrow('acme: chartMirrorCa is for a chart mirror, and there is none: give chartMirror too, or leave chartMirrorCa out');
    expect(() => site.addEnvironment('lab', { chartMirror: 'http://charts.lab.internal', chartMirrorCa: true }))
      .toThrow('acme/lab: chartMirrorCa is for a mirror served over TLS, and http://charts.lab.internal is not: serve it over https:// (or oci://), or leave chartMirrorCa out');
    expect(() => site.addEnvironment('qa', { chartMirrorCa: 'yes' as unknown as boolean }))
      .toThrow('acme/qa: chartMirrorCa must be true or false, got "yes"');
  });

  it('refuses chartMirrorCredentials without a chart mirror, or that is not true or false', () => {
    expect(() => new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirrorCredentials: true }))
      .toThrow('acme: chartMirrorCredentials is for a chart mirror, and there is none: give chartMirror too, or leave chartMirrorCredentials out');
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com' });
    expect(() => site.addEnvironment('prod', { chartMirrorCredentials: 'yes' as unknown as boolean, chartMirror: 'https://charts.acme.internal' }))
      .toThrow('acme/prod: chartMirrorCredentials must be true or false, got "yes"');
  });

  it('refuses chartMirrorCredentials for a mirror read over plain http, where they would cross the network in the clear', () => {
    expect(() => new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'http://charts.acme.internal', chartMirrorCredentials: true }))
      .toThrow('acme: chartMirrorCredentials would cross the network in the clear to http://charts.acme.internal; serve the mirror over https:// (or oci://), or leave chartMirrorCredentials out');
    // AND an environment that reads its own mirror over http does not inherit the site's credentials
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'https://charts.acme.internal', chartMirrorCredentials: true });
    expect(site.addEnvironment('lab', { chartMirror: 'http://charts.lab.internal' }).chartMirrorCredentials).toBe(false);
    expect(() => site.addEnvironment('prod', { chartMirror: 'http://charts.acme.internal', chartMirrorCredentials: true }))
      .toThrow('acme/prod: chartMirrorCredentials would cross the network in the clear to http://charts.acme.internal; serve the mirror over https:// (or oci://), or leave chartMirrorCredentials out');
  });

  it('refuses an oci:// chart mirror whose path has upper-case letters or ~, which OCI repository names cannot hold', () => {
    expect(() => new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'oci://harbor.acme.internal/Charts' }))
      .toThrow('acme: chartMirror must be an https://, http:// or oci:// URL (an oci:// path in lower case: OCI repository names have no upper-case letters or ~), got "oci://harbor.acme.internal/Charts"');
    expect(new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', chartMirror: 'https://charts.acme.internal/Charts~1' }).chartMirror).toBe('https://charts.acme.internal/Charts~1');
  });

  it('refuses a gitRemotePublic that is not true or false', () => {
    expect(() => new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', gitRemotePublic: 'yes' as unknown as boolean }))
      .toThrow('acme: gitRemotePublic must be true or false, got "yes"');
  });

  it.each([
    ['git://git.acme.internal/{site}-{env}.git', 'git://git.acme.internal/acme-prod.git'],
    ['file:///srv/git/{site}-{env}.git', 'file:///srv/git/acme-prod.git'],
  ])('refuses a Flux environment whose repository is %s, which Flux cannot fetch', (gitRemote, url) => {
    expect(() => environment({ applier: Applier.flux(), gitRemote })).toThrow(`acme/prod: Flux cannot fetch the environment repository "${url}" (a GitRepository takes only https://, http:// and ssh:// URLs); set the site's gitRemote to an https://, ssh:// or user@host:path URL`);
    // Argo CD environments of the same site are not concerned
    expect(() => environment({ gitRemote })).not.toThrow();
  });
});
