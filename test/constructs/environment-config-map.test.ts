import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Applier, Site, type EnvironmentConfigMapProps } from '../../constructs';
import { synth } from '../../engine';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, readTree, siteWithEnvironment, tempDir } from '../helpers';

const catalog = builtinCatalog();
const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const mustRun = process.env.CI === 'true';

/** Site acme, environment prod on a cluster (with `applier`), running Redis, with the ConfigMaps `configMaps`. */
function acme(configMaps: Record<string, EnvironmentConfigMapProps>, applier = Applier.argoCd()): SiteDefinition {
  return {
    name: 'acme',
    build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
      const env = site.addEnvironment('prod');
      const cluster = env.addCluster({ applier });
      env.addInstance('redis', { service: catalog.service('redis') });
      for (const [name, props] of Object.entries(configMaps)) cluster.addConfigMap(name, props);
      return site;
    },
  };
}

/** A Kubernetes name of 243 characters. */
const longName = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('.');
const shared = { 'shared-settings': { data: { 'log.level': 'INFO', TZ: 'Asia/Shanghai' } } };

describe('ConfigMaps of the environment (cluster.addConfigMap)', () => {
  it('writes each into manifests/namespace/ beside the Namespace, keys in code-point order, labelled for the site, and lists it in the README', async () => {
    // GIVEN an environment with a ConfigMap of its own
    const outDir = tempDir();
    // WHEN synthesized
    await synth({ fleet: [acme(shared)], catalog, outDir });
    // THEN it is in the namespace folder, in the environment's namespace
    const folder = join(outDir, 'acme/prod/manifests/namespace');
    expect(readFileSync(join(folder, 'configmap-shared-settings.yaml'), 'utf8')).toBe([
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  labels:',
      '    app.kubernetes.io/managed-by: siteforge',
      '    app.kubernetes.io/part-of: acme',
      '  name: shared-settings',
      '  namespace: acme-prod',
      'data:',
      '  TZ: Asia/Shanghai',
      '  log.level: INFO',
      'immutable: false',
      '',
    ].join('\n'));
    expect(parse(readFileSync(join(folder, 'kustomization.yaml'), 'utf8')).resources).toStrictEqual(['configmap-shared-settings.yaml', 'namespace-acme-prod.yaml']);
    // ... the README names it and its keys
    expect(readFileSync(join(outDir, 'acme/prod/README.md'), 'utf8')).toContain('## Config maps\n\nIn `acme-prod`, applied with the namespace (`manifests/namespace/`); they belong to no instance.\n\n| ConfigMap | keys |\n|---|---|\n| shared-settings | TZ, log.level |\n');
  });

  it('is part of the environment\'s inputs: an unchanged ConfigMap renders nothing again, a changed one renders the environment', async () => {
    const outDir = tempDir();
    const rendered = async (data: Record<string, string>) => {
      const environments: boolean[] = [];
      await synth({ fleet: [acme({ 'shared-settings': { data } })], catalog, outDir, onEnvironment: (e) => environments.push(e.rendered) });
      return environments;
    };
    expect(await rendered({ TZ: 'UTC' })).toStrictEqual([true]);
    expect(await rendered({ TZ: 'UTC' })).toStrictEqual([false]);
    expect(await rendered({ TZ: 'Asia/Shanghai' })).toStrictEqual([true]);
    expect(readFileSync(join(outDir, 'acme/prod/manifests/namespace/configmap-shared-settings.yaml'), 'utf8')).toContain('TZ: Asia/Shanghai');
  });

  it('asks Argo CD to apply one too large for kubectl\'s last-applied-configuration annotation (256 KiB, as Go escapes it) server-side, and no other', async () => {
    // GIVEN ConfigMaps of 300 KiB of text, of a 100 KiB XML file (<, > and & are 6 bytes each in Go's JSON), and a small one
    const configMaps = {
      'big-text': { data: { 'big.txt': 'x'.repeat(300 * 1024) } },
      'big-xml': { data: { 'config.xml': '<a>x</a>'.repeat(100 * 1024 / 8) } },
      'shared-settings': shared['shared-settings'],
    };
    const annotationsOf = async (applier: Applier) => {
      const outDir = tempDir();
      await synth({ fleet: [acme(configMaps, applier)], catalog, outDir });
      const folder = join(outDir, 'acme/prod/manifests/namespace');
      return Object.fromEntries(Object.keys(configMaps).map((name) => [name, parse(readFileSync(join(folder, `configmap-${name}.yaml`), 'utf8')).metadata.annotations]));
    };
    // WHEN applied by Argo CD (client-side apply by default) THEN the two large ones are applied server-side
    expect(await annotationsOf(Applier.argoCd())).toStrictEqual({
      'big-text': { 'argocd.argoproj.io/sync-options': 'ServerSideApply=true' },
      'big-xml': { 'argocd.argoproj.io/sync-options': 'ServerSideApply=true' },
      'shared-settings': undefined,
    });
    // WHEN applied by Flux (server-side always) THEN none is annotated
    expect(await annotationsOf(Applier.flux())).toStrictEqual({ 'big-text': undefined, 'big-xml': undefined, 'shared-settings': undefined });
  });

  it('writes nothing more for an environment without any', async () => {
    const outDir = tempDir();
    await synth({ fleet: [acme({})], catalog, outDir });
    const tree = readTree(outDir);
    expect(Object.keys(tree).filter((path) => path.includes('manifests/namespace/'))).toStrictEqual([
      'acme/prod/manifests/namespace/kustomization.yaml', 'acme/prod/manifests/namespace/namespace-acme-prod.yaml',
    ]);
    expect(tree['acme/prod/README.md']).not.toContain('## Config maps');
  });

  it.skipIf(!hasTool('kubectl') && !mustRun)('is applied with the Namespace by Argo CD and by Flux: the real kubectl kustomize builds both from the folder they apply', async () => {
    for (const applier of [Applier.argoCd(), Applier.flux()]) {
      // GIVEN the environment applied by Argo CD, then by Flux
      const outDir = tempDir();
      await synth({ fleet: [acme(shared, applier)], catalog, outDir });
      // THEN the object that applies the namespace folder exists
      const repo = join(outDir, 'acme/prod');
      const applied = applier.name === 'argocd'
        ? parse(readFileSync(join(repo, 'apps/application-namespace.yaml'), 'utf8')).spec.source.path
        : parse(readFileSync(join(repo, 'apps/kustomization-namespace.yaml'), 'utf8')).spec.path;
      expect(applied.replace(/^\.\//, '')).toBe('manifests/namespace');
      // ... and the folder builds to the Namespace and the ConfigMap
      const built = execFileSync('kubectl', ['kustomize', join(repo, 'manifests/namespace')], { encoding: 'utf8' });
      expect(built.split('\n').filter((l) => l.startsWith('kind: '))).toStrictEqual(['kind: Namespace', 'kind: ConfigMap']);
    }
  });

  it('is refused by the plaintext-secret gate when it holds a credential', async () => {
    const outDir = tempDir();
    const leaking = { 'tls-files': { data: { 'server.key': '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----\n' } } };
    await expect(synth({ fleet: [acme(leaking)], catalog, outDir })).rejects.toThrow(/acme\/prod\/manifests\/namespace\/configmap-tls-files\.yaml: .*private key/i);
  });

  describe('refuses, naming the ConfigMap and what to change', () => {
    const cluster = () => siteWithEnvironment().env.cluster!;
    it.each([
      { name: 'a name that is not a Kubernetes name', add: () => cluster().addConfigMap('Shared_Settings', { data: { a: 'b' } }),
        message: /^acme\/prod\/cluster\/Shared_Settings: ConfigMap name must be .*, got "Shared_Settings"$/ },
      { name: 'a name too long for its file (configmap-<name>.yaml, at most 255 bytes)', add: () => cluster().addConfigMap(longName, { data: { a: 'b' } }),
        message: `acme/prod/cluster/${longName}: ConfigMap name has 243 characters, too many for its file configmap-<name>.yaml (file systems take 255 bytes); give it a name of at most 240 characters` },
      { name: 'the name of the ConfigMap Kubernetes publishes its root CA in, in every namespace', add: () => cluster().addConfigMap('kube-root-ca.crt', { data: { 'ca.crt': 'x' } }),
        message: 'acme/prod/cluster/kube-root-ca.crt: ConfigMap kube-root-ca.crt is in every namespace already: the controller manager publishes the cluster\'s root CA in it for service account tokens, and would replace the data given; give it another name' },
      { name: 'a second ConfigMap of one name', add: () => { const c = cluster(); c.addConfigMap('shared', { data: { a: 'b' } }); c.addConfigMap('shared', { data: { c: 'd' } }); },
        message: 'acme/prod/cluster/shared: acme/prod/cluster already has a ConfigMap or Secret named "shared"; give each its own name' },
      { name: 'data given as a string', add: () => cluster().addConfigMap('shared', 'TZ=UTC' as never),
        message: 'acme/prod/cluster/shared: addConfigMap takes { data: { key: \'text\' } }, got "TZ=UTC"' },
      { name: 'a key Kubernetes refuses', add: () => cluster().addConfigMap('shared', { data: { 'log level': 'INFO' } }),
        message: 'acme/prod/cluster/shared: data key "log level" must be letters, digits, "-", "_" and "." (at most 253, not "." nor starting with "..")' },
      { name: 'a key starting with "..", which the API server refuses (the kubelet names its own files so in a volume)', add: () => cluster().addConfigMap('shared', { data: { '..data': 'x' } }),
        message: 'acme/prod/cluster/shared: data key "..data" must be letters, digits, "-", "_" and "." (at most 253, not "." nor starting with "..")' },
      { name: 'a value that is not text', add: () => cluster().addConfigMap('shared', { data: { replicas: 3 as never } }),
        message: 'acme/prod/cluster/shared: data.replicas must be text (numbers and booleans written as strings, as Kubernetes stores them), got 3' },
      { name: 'no data', add: () => cluster().addConfigMap('shared', { data: {} }),
        message: 'acme/prod/cluster/shared: data is empty; give the ConfigMap at least one key, or leave it out' },
      { name: 'more than Kubernetes stores in one ConfigMap', add: () => cluster().addConfigMap('shared', { data: { big: 'x'.repeat(1024 * 1024) } }),
        message: 'acme/prod/cluster/shared: data holds 1048579 bytes, more than the 1048576 bytes Kubernetes stores in one ConfigMap; split it, or mount large files another way' },
    ])('$name', ({ add, message }) => {
      expect(add).toThrow(message);
    });

    it('a ConfigMap named like the objects of an instance, when the site is checked', async () => {
      const outDir = tempDir();
      await expect(synth({ fleet: [acme({ 'redis-settings': { data: { a: 'b' } } })], catalog, outDir })).rejects.toThrow(
        'acme/prod/cluster/redis-settings: ConfigMap redis-settings is named like the objects of instance redis (redis-…), which its chart may make; give it a name that starts otherwise');
    });

    it('a ConfigMap siteforge makes for a native instance (its config files, its dashboard), and no other name of its', () => {
      const { env } = siteWithEnvironment();
      env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://api.acme.example.com' } });
      env.addInstance('amo', { service: catalog.service('amo'), withDependencies: true });
      const cluster = env.cluster!;
      // www has no dashboard: www-dashboard is free, as are names siteforge gives no ConfigMap
      for (const name of ['www-config', 'amo-dashboard', 'www-dashboard', 'www-settings', 'www']) cluster.addConfigMap(name, { data: { a: 'b' } });
      expect(cluster.node.validate()).toStrictEqual([
        'acme/prod/cluster/amo-dashboard: ConfigMap amo-dashboard is one siteforge makes for instance amo (its config files or its dashboard); give it another name',
        'acme/prod/cluster/www-config: ConfigMap www-config is one siteforge makes for instance www (its config files or its dashboard); give it another name',
      ]);
    });
  });
});
