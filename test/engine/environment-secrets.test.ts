import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Applier, Exposure, IngressTls, Secret, SecretBackend, Site, type EnvironmentSecretProps } from '../../constructs';
import { synth } from '../../engine';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, catalogCopy, controllerUnseal, readTree, restoreProcessEnvAfterEach, sealingController, siteWithEnvironment, tempDir } from '../helpers';
import { loadCatalog } from '../../catalog';

const catalog = builtinCatalog();
const { privateKey: controllerKey, backend: sealedSecrets } = sealingController();

restoreProcessEnvAfterEach();

interface ShopOptions {
  readonly secrets?: SecretBackend;
  readonly applier?: Applier;
  /** The environment's Secrets. */
  readonly environmentSecrets: Record<string, EnvironmentSecretProps>;
  /** The cluster's tls. @default IngressTls.none() */
  readonly tls?: IngressTls;
  /** Also run Grafana, from its chart. @default false */
  readonly grafana?: boolean;
}

/** Site shop, environment prod on a cluster: a website (no credentials), and the Secrets given. */
function shop(options: ShopOptions): SiteDefinition {
  return {
    name: 'shop',
    build(scope: Construct) {
      const site = new Site(scope, 'shop', { domain: 'shop.example.com', secrets: options.secrets });
      const env = site.addEnvironment('prod');
      const cluster = env.addCluster({ applier: options.applier, tls: options.tls });
      env.addInstance('www', { service: catalog.service('koca-website'), exposure: Exposure.ingress(), settings: { portalUrl: 'https://api.shop.example.com/admin' } });
      if (options.grafana) env.addInstance('grafana', { service: catalog.service('grafana'), withDependencies: true });
      for (const [name, props] of Object.entries(options.environmentSecrets)) cluster.addSecret(name, props);
      return site;
    },
  };
}

/** A Kubernetes name of 238 characters. */
const longName = `${['a', 'b', 'c'].map((c) => c.repeat(60)).join('.')}.${'d'.repeat(55)}`;
const partnerApi = { 'partner-api': { data: { token: Secret.fromEnv('PARTNER_TOKEN'), 'signing-key': Secret.generated({ length: 40 }) } } };
const secretsFolder = (outDir: string) => join(outDir, 'shop/prod/manifests/secrets');
const readObject = (file: string) => parse(readFileSync(file, 'utf8')) as Record<string, any>;

describe('Secrets of the environment (cluster.addSecret)', () => {
  it('seals each into an Opaque SealedSecret labelled for the site, keeps its generated values, lists its keys in the README and writes no value', async () => {
    // GIVEN an environment with a Secret of its own: one value from a variable, one generated
    process.env.PARTNER_TOKEN = 'partner-token-0123456789';
    const outDir = tempDir();
    const definition = shop({ secrets: sealedSecrets, environmentSecrets: partnerApi });
    // WHEN synthesized
    await synth({ fleet: [definition], catalog, outDir });
    // THEN a SealedSecret the controller opens to the values
    const sealed = readObject(join(secretsFolder(outDir), 'sealedsecret-partner-api.yaml'));
    expect(sealed).toMatchObject({
      kind: 'SealedSecret',
      metadata: { name: 'partner-api', namespace: 'shop-prod', labels: { 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'siteforge' } },
      spec: { template: { type: 'Opaque' } },
    });
    expect(Object.keys(sealed.metadata.labels).sort()).toStrictEqual(['app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of']);
    expect(controllerUnseal(controllerKey, 'shop-prod/partner-api', sealed.spec.encryptedData.token)).toBe('partner-token-0123456789');
    const signingKey = controllerUnseal(controllerKey, 'shop-prod/partner-api', sealed.spec.encryptedData['signing-key']);
    expect(signingKey).toMatch(/^[A-Za-z0-9]{40}$/);
    // ... the Argo CD Application of the secrets folder applies it, though no instance has credentials
    expect(readObject(join(outDir, 'shop/prod/apps/application-secrets.yaml')).spec.source.path).toBe('manifests/secrets');
    // ... the README names its keys and their sources, and no file holds a value
    const tree = readTree(outDir);
    expect(tree['shop/prod/README.md']).toContain('| Secret | key | value from |\n|---|---|---|\n| partner-api | signing-key | generated (40 characters) |\n| partner-api | token | environment variable PARTNER_TOKEN |\n');
    for (const content of Object.values(tree)) {
      expect(content).not.toContain('partner-token-0123456789');
      expect(content).not.toContain(signingKey);
    }
    // WHEN synthesized again THEN nothing is rendered and no byte changes: the generated value
    // is kept, the token matches its fingerprint
    const rendered = async () => {
      const repos: string[] = [];
      await synth({ fleet: [definition], catalog, outDir, onEnvironment: (e) => (e.rendered ? repos.push(e.repo) : undefined) });
      return repos;
    };
    expect(await rendered()).toStrictEqual([]);
    expect(readTree(outDir)).toStrictEqual(tree);
    // WHEN the token changes THEN the environment is rendered, and the Secret opens to the new one
    process.env.PARTNER_TOKEN = 'partner-token-9876543210';
    expect(await rendered()).toStrictEqual(['shop/prod']);
    const resealed = readObject(join(secretsFolder(outDir), 'sealedsecret-partner-api.yaml'));
    expect(controllerUnseal(controllerKey, 'shop-prod/partner-api', resealed.spec.encryptedData.token)).toBe('partner-token-9876543210');
    expect(resealed.spec.encryptedData['signing-key']).toBe(sealed.spec.encryptedData['signing-key']);
  });

  it('makes an ExternalSecret reading store keys, with a Password generator for a generated value, applied by Flux', async () => {
    const outDir = tempDir();
    const environmentSecrets = { 'partner-api': { data: { token: Secret.fromStore('shop/partner', { property: 'token' }), 'signing-key': Secret.generated() } } };
    await synth({ fleet: [shop({ applier: Applier.flux(), environmentSecrets })], catalog, outDir });
    expect(readObject(join(secretsFolder(outDir), 'externalsecret-partner-api.yaml')).spec).toStrictEqual({
      refreshInterval: '0s',
      secretStoreRef: { kind: 'ClusterSecretStore', name: 'siteforge' },
      target: { name: 'partner-api', creationPolicy: 'Owner', deletionPolicy: 'Retain' },
      data: [{ secretKey: 'token', remoteRef: { key: 'shop/partner', property: 'token' } }],
      dataFrom: [{
        sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'partner-api-signing-key' } },
        rewrite: [{ regexp: { source: '^password$', target: 'signing-key' } }],
      }],
    });
    expect(readObject(join(outDir, 'shop/prod/apps/kustomization-secrets.yaml')).spec.path).toBe('./manifests/secrets');
  });

  it('asks Argo CD to apply server-side a SealedSecret too large for client-side apply\'s annotation; Flux always does', async () => {
    // GIVEN a Secret of three values of 120,000 characters each (a variable holds at most 128 KiB), sealed
    const keys = ['part-1', 'part-2', 'part-3'];
    keys.forEach((_, i) => (process.env[`PART_${i}`] = randomBytes(90_000).toString('base64')));
    const large = { bundle: { data: Object.fromEntries(keys.map((key, i) => [key, Secret.fromEnv(`PART_${i}`)])) } };
    const syncOptions = async (applier: Applier, environmentSecrets: ShopOptions['environmentSecrets']) => {
      const outDir = tempDir();
      await synth({ fleet: [shop({ secrets: sealedSecrets, applier, environmentSecrets })], catalog, outDir });
      const name = Object.keys(environmentSecrets)[0];
      const sealed = readObject(join(secretsFolder(outDir), `sealedsecret-${name}.yaml`));
      if (name === 'bundle') keys.forEach((key, i) => expect(controllerUnseal(controllerKey, 'shop-prod/bundle', sealed.spec.encryptedData[key])).toBe(process.env[`PART_${i}`]));
      return sealed.metadata.annotations['argocd.argoproj.io/sync-options'];
    };
    // WHEN synthesized for Argo CD THEN the large one asks for server-side apply, a small one does not
    process.env.PARTNER_TOKEN = 'partner-token-0123456789';
    expect(await syncOptions(Applier.argoCd(), large)).toBe('ServerSideApply=true');
    expect(await syncOptions(Applier.argoCd(), partnerApi)).toBeUndefined();
    // AND for Flux, which applies server-side anyway, neither does
    expect(await syncOptions(Applier.flux(), large)).toBeUndefined();
  });

  it('refuses a sealed Secret whose keys and values would pass the 1 MiB Kubernetes stores in one, naming it, and writes nothing', async () => {
    const data = Object.fromEntries(Array.from({ length: 9 }, (_, i) => {
      process.env[`PART_${i}`] = randomBytes(90_000).toString('base64');
      return [`part-${i}`, Secret.fromEnv(`PART_${i}`)];
    }));
    const outDir = tempDir();
    const failed = await synth({ fleet: [shop({ secrets: sealedSecrets, environmentSecrets: { bundle: { data } } })], catalog, outDir }).catch((e: Error) => e);
    expect((failed as Error).message).toBe('shop/prod/cluster/bundle: the Secret bundle would hold 1080054 bytes, more than the 1048576 bytes Kubernetes stores in one Secret; split its values over several Secrets, or mount large files another way');
    expect(readTree(outDir)).toStrictEqual({});
  });

  describe('refuses, naming the Secret and what to change, without showing a value', () => {
    const cluster = () => siteWithEnvironment().env.cluster!;
    it.each([
      { name: 'a value given as a string', add: () => cluster().addSecret('partner-api', { data: { token: 'hunter2-secret-token' as never } }),
        message: 'acme/prod/cluster/partner-api: data.token must be a Secret (Secret.fromEnv(...), Secret.fromStore(...) or Secret.generated()), got a string (not shown)' },
      { name: 'data given as a string', add: () => cluster().addSecret('partner-api', 'hunter2-secret-token' as never),
        message: 'acme/prod/cluster/partner-api: addSecret takes { data: { key: Secret.fromEnv(...) } }, got a string (not shown)' },
      { name: 'a key Kubernetes refuses', add: () => cluster().addSecret('partner-api', { data: { 'api token': Secret.generated() } }),
        message: 'acme/prod/cluster/partner-api: data key "api token" must be letters, digits, "-", "_" and "." (at most 253, not "." nor starting with "..")' },
      { name: 'a name too long for its file (externalsecret-<name>.yaml, at most 255 bytes)', add: () => cluster().addSecret(longName, { data: { token: Secret.generated() } }),
        message: `acme/prod/cluster/${longName}: Secret name has 238 characters, too many for its file externalsecret-<name>.yaml or sealedsecret-<name>.yaml (file systems take 255 bytes); give it a name of at most 235 characters` },
      { name: 'no data', add: () => cluster().addSecret('partner-api', { data: {} }),
        message: 'acme/prod/cluster/partner-api: data is empty; give the Secret at least one key, or leave it out' },
      { name: 'a ConfigMap of the same name', add: () => { const c = cluster(); c.addConfigMap('partner-api', { data: { url: 'https://partner.example.com' } }); c.addSecret('partner-api', { data: { token: Secret.generated() } }); },
        message: 'acme/prod/cluster/partner-api: acme/prod/cluster already has a ConfigMap or Secret named "partner-api"; give each its own name' },
    ])('$name', ({ add, message }) => {
      expect(add).toThrow(message);
      expect(() => add()).not.toThrow(/hunter2/);
    });

    it.each<{ name: string; options: ShopOptions; message: string }>([
      { name: 'a value from the environment with External Secrets', options: { environmentSecrets: { 'partner-api': { data: { token: Secret.fromEnv('PARTNER_TOKEN') } } } },
        message: 'shop/prod/cluster/partner-api: data.token is read from environment variable PARTNER_TOKEN, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...) for shop/prod' },
      { name: 'a store reference with Sealed Secrets', options: { secrets: sealedSecrets, environmentSecrets: { 'partner-api': { data: { token: Secret.fromStore('shop/partner') } } } },
        message: 'shop/prod/cluster/partner-api: data.token is read from a secret store, which works only with SecretBackend.externalSecrets(), not with sealed-secrets (shop/prod); use Secret.fromEnv(...) or Secret.generated()' },
      { name: 'a name like the objects of a chart-based instance', options: { environmentSecrets: { 'grafana-partner': { data: { token: Secret.generated() } } }, grafana: true },
        message: 'shop/prod/cluster/grafana-partner: Secret grafana-partner is named like the objects of instance grafana (grafana-…), which its chart may make; give it a name that starts otherwise' },
      { name: 'the name of a TLS Secret an Ingress serves', options: { tls: IngressTls.secret('shop-wildcard'), environmentSecrets: { 'shop-wildcard': { data: { token: Secret.generated() } } } },
        message: 'shop/prod/cluster/shop-wildcard: Secret shop-wildcard is the TLS Secret www\'s Ingress serves, and one would replace the other; give it another name' },
      { name: 'two generated keys whose Password generators would have one name (Secret app, key db-password; Secret app-db, key password)',
        options: { environmentSecrets: { app: { data: { 'db-password': Secret.generated() } }, 'app-db': { data: { password: Secret.generated() } } } },
        message: 'shop/prod/cluster/app-db: the generated key password of Secret app-db would be made by the Password generator app-db-password, as the generated key db-password of Secret app is (shop/prod/cluster/app); rename one of the keys or Secrets' },
      { name: 'two generated keys of one Secret that differ only in case', options: { environmentSecrets: { app: { data: { PASSWORD: Secret.generated(), password: Secret.generated() } } } },
        message: 'shop/prod/cluster/app: the generated key password of Secret app would be made by the Password generator app-password, as the generated key PASSWORD of Secret app is (shop/prod/cluster/app); rename one of the keys or Secrets' },
      { name: 'a generated key whose Password generator\'s name would be too long for its file', options: { environmentSecrets: { [`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}`]: { data: { ['k'.repeat(80)]: Secret.generated() } } } },
        message: `shop/prod/cluster/${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}: the generated key ${'k'.repeat(80)} of Secret ${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)} would be made by the Password generator ${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}-${'k'.repeat(80)}, whose name of 263 characters is more than the 241 that fit its file (password-<name>.yaml); shorten the Secret's name or the key` },
      { name: 'an unset variable', options: { secrets: sealedSecrets, environmentSecrets: partnerApi },
        message: 'shop/prod/cluster/partner-api: key token of Secret partner-api comes from the environment variable PARTNER_TOKEN, which is not set; export it before synthesizing' },
    ])('$name, when the site is synthesized', async ({ options, message }) => {
      await expect(synth({ fleet: [shop(options)], catalog, outDir: tempDir() })).rejects.toThrow(message);
    });

    it('the name of an instance\'s credentials Secret, when its catalog names it otherwise than after the instance', () => {
      // GIVEN a catalog whose Redis keeps its credentials in the Secret shared-redis
      const dir = catalogCopy();
      const file = join(dir, 'redis/service.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('secretName: "{{instance.name}}-credentials"', 'secretName: shared-redis'));
      const { env } = siteWithEnvironment();
      env.addInstance('redis', { service: loadCatalog(dir).service('redis') });
      // WHEN the environment has a Secret of that name THEN it is refused
      env.cluster!.addSecret('shared-redis', { data: { token: Secret.generated() } });
      expect(env.node.validate()).toStrictEqual([
        'acme/prod/cluster/shared-redis: Secret shared-redis has the name of the credentials Secret of redis, and one would replace the other; give it another name',
      ]);
    });
  });
});
