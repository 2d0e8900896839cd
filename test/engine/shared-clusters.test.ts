import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import type { Construct } from 'constructs';
import { Applier, ArgoCdTopology, Site, Zone } from '../../constructs';
import { argoCdCluster, clusterIdentity, clusterObjects } from '../../constructs/cluster-objects';
import { buildSite, loadFleet, synth } from '../../engine';
import { UserErrors } from '../../engine/errors';
import { sharedClusterErrors, clusterObjectsOf } from '../../engine/shared-clusters';
import { fleet as exampleFleet, type SiteDefinition } from '../../sites';
import { builtinCatalog, runCli, tempDir } from '../helpers';

const catalog = builtinCatalog();
const SHARED = 'https://k8s.shared.example.com:6443';

interface Options {
  readonly apiServer?: string;
  readonly namespace?: string;
  readonly applier?: Applier;
  readonly argoCd?: ArgoCdTopology;
}

/**
 * Site `name` with environment `env` running Redis on the cluster `apiServer`, publishing to a
 * git server of its own (so two sites never share a repository, whatever their names).
 */
function site(name: string, env: string, options: Options = {}): SiteDefinition {
  return {
    name,
    build(scope: Construct) {
      const site = new Site(scope, name, { domain: `${name}.example.com`, gitRemote: `https://git.${name}.example.com/{site}-{env}.git`, argoCd: options.argoCd });
      const environment = site.addEnvironment(env);
      environment.addCluster({ apiServer: options.apiServer, namespace: options.namespace, applier: options.applier });
      environment.addInstance('redis', { service: catalog.service('redis') });
      return site;
    },
  };
}

/** The messages of the user errors `promise` rejects with. */
async function messagesOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error instanceof UserErrors ? error.errors.map((e) => e.message) : [(error as Error).message];
}

const NAMESPACE_CLASH = `a/b-c and a-b/c would both use namespace a-b-c on the cluster ${SHARED}, and each would prune the other's objects there; give one of them another namespace (addCluster({ namespace })), or rename a site or an environment (the namespace is <site>-<env> by default)`;
const ARGOCD_CLASH = `a/b-c and a-b/c would both make AppProject argocd/a-b-c (for the project of a/b-c and for the project of a-b/c), AppProject argocd/a-b-c-root, Application argocd/a-b-c and 3 more in the Argo CD of the cluster ${SHARED}, which would hand them back and forth between the two; rename a site or an environment (Argo CD objects are named <site>-<env>[-<name>])`;

describe('environments of two sites on one cluster', () => {
  it('refuses a/b-c and a-b/c on one cluster, each with an Argo CD of its own, naming both, the objects and the fix, and writes nothing', async () => {
    // GIVEN sites a (env b-c) and a-b (env c) on one API server, each with its own repository
    const fleet = [site('a', 'b-c', { apiServer: SHARED }), site('a-b', 'c', { apiServer: SHARED })];
    const outDir = tempDir();
    // WHEN the fleet is synthesized
    const messages = await messagesOf(synth({ fleet, catalog, outDir }));
    // THEN the namespace and the Argo CD objects they would both make are refused
    expect(messages).toStrictEqual([NAMESPACE_CLASH, ARGOCD_CLASH]);
    // AND nothing is written
    expect(readdirSync(outDir)).toStrictEqual([]);
  });

  it.each([
    ['--site a', { site: 'a' }, 'a/b-c'],
    ['--env b-c', { env: 'b-c' }, 'a/b-c'],
    ['--site a-b --env c', { site: 'a-b', env: 'c' }, 'a-b/c'],
  ])('refuses the clash also when only one of the two is selected (%s), naming the selected one first', async (_what, selection: { site?: string; env?: string }, first) => {
    const fleet = [site('a', 'b-c', { apiServer: SHARED }), site('a-b', 'c', { apiServer: SHARED })];
    const messages = await messagesOf(synth({ fleet, catalog, outDir: tempDir(), ...selection }));
    const swap = (message: string) => (first === 'a/b-c' ? message : message.replace('a/b-c and a-b/c', 'a-b/c and a/b-c').replace('the project of a/b-c and for the project of a-b/c', 'the project of a-b/c and for the project of a/b-c'));
    expect(messages).toStrictEqual([swap(NAMESPACE_CLASH), swap(ARGOCD_CLASH)]);
  });

  it('leaves a clash of two environments it did not select to their own synth', async () => {
    // GIVEN a/b-c and a-b/c on one cluster, and z/prod on that cluster too
    const fleet = [site('a', 'b-c', { apiServer: SHARED }), site('a-b', 'c', { apiServer: SHARED }), site('z', 'prod', { apiServer: SHARED })];
    // WHEN only z is synthesized, THEN it is, as it meets neither
    expect((await synth({ fleet, catalog, outDir: tempDir(), site: 'z', dryRun: true })).environments.map((e) => e.repo)).toStrictEqual(['z/prod']);
    // AND a synth of the whole fleet refuses the two
    expect(await messagesOf(synth({ fleet, catalog, outDir: tempDir(), dryRun: true }))).toStrictEqual([NAMESPACE_CLASH, ARGOCD_CLASH]);
  });

  it('accepts a/b-c and a-b/c on two clusters, or on clusters the model does not name (the in-cluster default)', async () => {
    // GIVEN the same names on two API servers
    const apart = [site('a', 'b-c', { apiServer: SHARED }), site('a-b', 'c', { apiServer: 'https://k8s.other.example.com:6443' })];
    // THEN both synthesize
    expect((await synth({ fleet: apart, catalog, outDir: tempDir() })).environments.map((e) => e.repo)).toStrictEqual(['a/b-c', 'a-b/c']);
    // AND so do both on the in-cluster default, which names no cluster in particular
    const unnamed = [site('a', 'b-c'), site('a-b', 'c')];
    expect((await synth({ fleet: unnamed, catalog, outDir: tempDir(), dryRun: true })).environments.map((e) => e.repo)).toStrictEqual(['a/b-c', 'a-b/c']);
  });

  it('knows one API server however its URL is written', async () => {
    // GIVEN two sites that give one namespace on the same API server written two ways
    const fleet = [site('x', 'prod', { apiServer: 'https://K8S.Shared.example.com:6443/', namespace: 'shop' }), site('y', 'prod', { apiServer: SHARED, namespace: 'shop' })];
    // THEN the namespace is refused, and nothing else (their Argo CD objects have other names)
    expect(await messagesOf(synth({ fleet, catalog, outDir: tempDir(), dryRun: true }))).toStrictEqual([
      `x/prod and y/prod would both use namespace shop on the cluster ${SHARED}, and each would prune the other's objects there; give one of them another namespace (addCluster({ namespace })), or rename a site or an environment (the namespace is <site>-<env> by default)`,
    ]);
    expect(clusterIdentity('https://k8s.shared.example.com:443/')).toBe('https://k8s.shared.example.com');
    expect(clusterIdentity('https://kubernetes.default.svc.cluster.local:443')).toBeUndefined();
  });

  it('refuses one namespace of one cluster for two environments applied by Flux, whose own objects it cannot place', async () => {
    // GIVEN two Flux environments on one remote cluster: Flux runs in a cluster the model does not name
    const fleet = [site('a', 'b-c', { apiServer: SHARED, applier: Applier.flux() }), site('a-b', 'c', { apiServer: SHARED, applier: Applier.flux() })];
    // THEN only their namespace on that cluster is refused
    expect(await messagesOf(synth({ fleet, catalog, outDir: tempDir(), dryRun: true }))).toStrictEqual([NAMESPACE_CLASH]);
  });

  it('refuses two environments of one site in one namespace of one cluster', async () => {
    // GIVEN prod and test of one site both given the namespace shop on one API server
    const definition: SiteDefinition = {
      name: 'one',
      build(scope: Construct) {
        const site = new Site(scope, 'one', { domain: 'one.example.com' });
        for (const name of ['prod', 'test']) site.addEnvironment(name).addCluster({ apiServer: SHARED, namespace: 'shop' });
        return site;
      },
    };
    expect(await messagesOf(synth({ fleet: [definition], catalog, outDir: tempDir(), dryRun: true }))).toStrictEqual([
      `one/prod and one/test would both use namespace shop on the cluster ${SHARED}, and each would prune the other's objects there; give one of them another namespace (addCluster({ namespace })), or rename a site or an environment (the namespace is <site>-<env> by default)`,
    ]);
  });

  it('places the Argo CD of a dev-zone site in the cluster of its dev zone, where an Argo CD of another site may be', async () => {
    // GIVEN site a, whose one Argo CD runs in its dev zone on SHARED and applies b-c on a runtime cluster
    const devZone: SiteDefinition = {
      name: 'a',
      build(scope: Construct) {
        const site = new Site(scope, 'a', { domain: 'a.example.com', gitRemote: 'https://git.a.example.com/{site}-{env}.git', argoCd: ArgoCdTopology.devZone() });
        site.addEnvironment('dev', { zone: Zone.DEV }).addCluster({ apiServer: SHARED });
        const runtime = site.addEnvironment('b-c');
        runtime.addCluster({ apiServer: 'https://k8s-runtime.a.example.com:6443' });
        runtime.addInstance('redis', { service: catalog.service('redis') });
        return site;
      },
    };
    // AND site a-b, whose env c runs on SHARED with an Argo CD of its own
    const fleet = [devZone, site('a-b', 'c', { apiServer: SHARED })];
    // THEN their Argo CD objects meet in SHARED's argocd namespace (their namespaces are on two clusters)
    expect(await messagesOf(synth({ fleet, catalog, outDir: tempDir(), dryRun: true }))).toStrictEqual([ARGOCD_CLASH]);
  });

  it('is checked by siteforge validate, which exits 1 naming both environments', async () => {
    // GIVEN a fleet module with a/b-c and a-b/c on one cluster
    const file = clashingFleetModule();
    // WHEN validated
    const result = await runCli(['validate', '--fleet', file]);
    // THEN it fails with both clashes
    expect(result.code).toBe(1);
    expect(result.err).toContain(NAMESPACE_CLASH);
    expect(result.err).toContain(ARGOCD_CLASH);
  });

  it('is found when worker threads render the sites', async () => {
    // GIVEN the same fleet, every site rendered by a worker thread
    const file = clashingFleetModule();
    const { fleet } = await loadFleet(file);
    // THEN the objects they report meet as in this thread
    expect(await messagesOf(synth({ fleet, catalog, outDir: tempDir(), workers: 2, fleetModule: file, renderInThisThread: false, dryRun: true }))).toStrictEqual([NAMESPACE_CLASH, ARGOCD_CLASH]);
  });

  it('finds no clash in the example fleet, whose clusters it can name', () => {
    // GIVEN every environment of the example fleet
    const objects = exampleFleet.flatMap((definition) => {
      const built = buildSite(definition, catalog);
      return built.environments.map((env) => clusterObjectsOf(built, env));
    });
    // THEN some of them are on named clusters (the check is not empty) and none clash
    expect(objects.filter((e) => e.objects.length > 0).map((e) => `${e.site}/${e.env}`)).toContain('koca/prod');
    expect(sharedClusterErrors(exampleFleet, catalog, {}, objects)).toStrictEqual([]);
  });
});

/** A fleet module in a temporary folder with sites a (env b-c) and a-b (env c) on the cluster SHARED. */
function clashingFleetModule(): string {
  const root = join(import.meta.dirname, '..', '..');
  const file = join(tempDir(), 'fleet.mts');
  writeFileSync(file, `import { Site } from '${root}/constructs';
import type { SiteDefinition } from '${root}/sites';
const site = (name: string, env: string): SiteDefinition => ({
  name,
  build(scope, catalog) {
    const site = new Site(scope, name, { domain: name + '.example.com', gitRemote: 'https://git.' + name + '.example.com/{site}-{env}.git' });
    const e = site.addEnvironment(env);
    e.addCluster({ apiServer: '${SHARED}' });
    e.addInstance('redis', { service: catalog.service('redis') });
    return site;
  },
});
export const fleet: SiteDefinition[] = [site('a', 'b-c'), site('a-b', 'c')];
`);
  return file;
}

describe('where the model places an environment on a cluster', () => {
  /** Site acme with a dev-zone Argo CD, dev zones on `devClusters` and prod applied by `applier` on SHARED. */
  function devZoneSite(devClusters: readonly string[], applier = Applier.argoCd()): Site {
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', argoCd: ArgoCdTopology.devZone() });
    devClusters.forEach((apiServer, i) => site.addEnvironment(`dev${i}`, { zone: Zone.DEV }).addCluster({ apiServer }));
    site.addEnvironment('prod').addCluster({ apiServer: SHARED, applier });
    return site;
  }
  const prodOf = (site: Site) => site.environments.find((e) => e.name === 'prod')!;

  it('puts a dev-zone Argo CD in the one cluster of the site dev zone, and nowhere when the dev zone has several or the in-cluster default', () => {
    expect(argoCdCluster(prodOf(devZoneSite(['https://k8s-dev.acme.internal:6443', 'https://k8s-dev.acme.internal:6443/'])))).toBe('https://k8s-dev.acme.internal:6443');
    expect(argoCdCluster(prodOf(devZoneSite(['https://k8s-dev.acme.internal:6443', 'https://k8s-dev2.acme.internal:6443'])))).toBeUndefined();
    expect(argoCdCluster(prodOf(devZoneSite(['https://kubernetes.default.svc'])))).toBeUndefined();
    expect(argoCdCluster(prodOf(devZoneSite([])))).toBeUndefined();
  });

  it('lists the namespace of a Flux environment on a named cluster, but none of its Flux objects', () => {
    const objects = clusterObjects(prodOf(devZoneSite(['https://k8s-dev.acme.internal:6443'], Applier.flux())));
    expect(objects).toStrictEqual([{ kind: 'Namespace', namespace: '', name: 'acme-prod', purpose: 'the namespace of acme/prod', cluster: SHARED, owner: 'namespace' }]);
  });
});
