import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { App } from 'cdk8s';
import { Placement, SealingScope, Secret, SecretBackend, SecretStoreRef, Site } from '../../constructs';
import {
  assertNoPlaintextSecrets, assertRepositoryHasNoPlaintextSecrets, readState, sealValue, synth, vaultDecrypt, vaultEncrypt,
} from '../../engine';
import { checkFingerprints, valueFingerprint } from '../../engine/secrets/generate';
import { concurrencyLimit } from '../../engine/pool';
import { fleet, type SiteDefinition } from '../../sites';
import { builtinCatalog, catalogCopy, controllerUnseal, readTree, renderWithSecrets, restoreProcessEnvAfterEach, runCli, tempDir } from '../helpers';
import { loadCatalog } from '../../catalog';
import { plaintextSecretProblems } from '../../engine/secrets/gate';

const catalog = builtinCatalog();
const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const mustRun = process.env.CI === 'true';

restoreProcessEnvAfterEach();

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

/** The controller's label for an object `namespace/name` under `scope`. */
const labels = { strict: 'acme-prod/mysql-credentials', 'namespace-wide': 'acme-prod', 'cluster-wide': '' };

interface SmallSiteOptions {
  readonly secrets?: SecretBackend;
  readonly credentials?: Record<string, Secret>;
  readonly vm?: boolean;
}

function smallSite(options: SmallSiteOptions = {}): SiteDefinition {
  return {
    name: 'acme',
    build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com', secrets: options.secrets });
      const env = site.addEnvironment('prod');
      if (options.vm) {
        const group = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
        env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }), credentials: options.credentials });
      } else {
        env.addCluster();
        env.addInstance('mysql', { service: catalog.service('mysql'), credentials: options.credentials });
      }
      return site;
    },
  };
}

const sealedFile = (outDir: string) => join(outDir, 'acme/prod/manifests/secrets/sealedsecret-mysql-credentials.yaml');
const readSealed = (outDir: string) => parse(readFileSync(sealedFile(outDir), 'utf8')) as {
  metadata: { annotations: Record<string, string> };
  spec: { encryptedData: Record<string, string>; template: { metadata: { annotations?: Record<string, string> } } };
};

describe('Sealed Secrets encryption', () => {
  for (const scope of [SealingScope.STRICT, SealingScope.NAMESPACE_WIDE, SealingScope.CLUSTER_WIDE]) {
    it(`opens with the controller's algorithm under the ${scope.name} label`, () => {
      // GIVEN a value sealed for acme-prod/mysql-credentials under the scope
      const label = scope.label('acme-prod', 'mysql-credentials');
      const sealed = sealValue(keys.publicKey, label, Buffer.from('s3cret-value-1234'));
      // THEN the label is the scope's and the controller opens it
      expect(label).toBe(labels[scope.name]);
      expect(controllerUnseal(keys.privateKey, label, sealed)).toBe('s3cret-value-1234');
    });
  }

  it('cannot be opened under strict scope in another namespace', () => {
    const sealed = sealValue(keys.publicKey, SealingScope.STRICT.label('acme-prod', 'mysql-credentials'), Buffer.from('s3cret-value-1234'));
    expect(() => controllerUnseal(keys.privateKey, SealingScope.STRICT.label('acme-test', 'mysql-credentials'), sealed)).toThrow(/oaep decoding error|decrypt/i);
    expect(() => controllerUnseal(keys.privateKey, SealingScope.STRICT.label('acme-prod', 'other'), sealed)).toThrow(/oaep decoding error|decrypt/i);
  });

  it.skipIf(!hasTool('openssl') && !mustRun)('wraps the session key as openssl decodes RSA-OAEP with SHA-256 and MGF1-SHA-256', () => {
    // GIVEN a sealed value; WHEN openssl unwraps its RSA part with explicit OAEP/MGF1 digests and the label
    const dir = tempDir();
    writeFileSync(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const data = Buffer.from(sealValue(keys.publicKey, 'acme-prod/mysql-credentials', Buffer.from('s3cret-value-1234')), 'base64');
    writeFileSync(join(dir, 'rsa.bin'), data.subarray(2, 2 + data.readUInt16BE(0)));
    const sessionKey = execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'rsa.bin'),
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
      '-pkeyopt', `rsa_oaep_label:${Buffer.from('acme-prod/mysql-credentials').toString('hex')}`]);
    // THEN it is a 32-byte key
    expect(sessionKey.length).toBe(32);
  });
});

describe('secrets backends in synth', () => {
  it('seals every generated credential for the namespace and name, and keeps it on the next synth', async () => {
    // GIVEN a site whose secrets are sealed with a public key
    const outDir = tempDir();
    const definition = smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
    // WHEN it is synthesized twice
    await synth({ fleet: [definition], catalog, outDir });
    const first = readTree(outDir);
    const report = await synth({ fleet: [definition], catalog, outDir });
    // THEN each key opens under the strict label to a 32-character generated value
    const sealed = readSealed(outDir);
    expect(Object.keys(sealed.spec.encryptedData)).toStrictEqual(['mysql-password', 'mysql-root-password']);
    for (const value of Object.values(sealed.spec.encryptedData)) {
      expect(controllerUnseal(keys.privateKey, 'acme-prod/mysql-credentials', value)).toMatch(/^[A-Za-z0-9]{32}$/);
    }
    expect(sealed.metadata.annotations['siteforge.dev/sealing-scope']).toBe('strict');
    // AND the second synth rewrote nothing
    expect(readTree(outDir)).toStrictEqual(first);
    expect(report.environments[0].written).toStrictEqual([]);
  });

  it('rotates from the command line with synth --rotate-secrets', async () => {
    // GIVEN the example fleet synthesized once
    const outDir = tempDir();
    expect((await runCli(['synth', '--out', outDir, '--site', 'acme', '--env', 'prod'])).code).toBe(0);
    const file = join(outDir, 'acme/prod/manifests/secrets/sealedsecret-redis-credentials.yaml');
    const before = readFileSync(file, 'utf8');
    // WHEN synthesized again without and with --rotate-secrets
    expect((await runCli(['synth', '--out', outDir, '--site', 'acme', '--env', 'prod'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const rotated = await runCli(['synth', '--out', outDir, '--site', 'acme', '--env', 'prod', '--rotate-secrets']);
    // THEN only the rotation changed the sealed values
    expect(rotated.code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe(before);
  });

  it('generates new values only when asked to rotate', async () => {
    const outDir = tempDir();
    const definition = smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
    await synth({ fleet: [definition], catalog, outDir });
    const before = readSealed(outDir).spec.encryptedData;
    await synth({ fleet: [definition], catalog, outDir, rotateSecrets: true });
    const after = readSealed(outDir).spec.encryptedData;
    expect(controllerUnseal(keys.privateKey, labels.strict, after['mysql-password']))
      .not.toBe(controllerUnseal(keys.privateKey, labels.strict, before['mysql-password']));
  });

  it('annotates namespace-wide and cluster-wide SealedSecrets and seals under their labels', async () => {
    for (const scope of [SealingScope.NAMESPACE_WIDE, SealingScope.CLUSTER_WIDE]) {
      const outDir = tempDir();
      await synth({ fleet: [smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem, scope }) })], catalog, outDir });
      const sealed = readSealed(outDir);
      const annotation = `sealedsecrets.bitnami.com/${scope.name}`;
      expect(sealed.metadata.annotations[annotation]).toBe('true');
      expect(sealed.spec.template.metadata.annotations).toStrictEqual({ [annotation]: 'true' });
      expect(controllerUnseal(keys.privateKey, labels[scope.name], sealed.spec.encryptedData['mysql-password'])).toMatch(/^[A-Za-z0-9]{32}$/);
    }
  });

  it.skipIf(!hasTool('openssl') && !mustRun)('takes the certificate kubeseal --fetch-cert prints', async () => {
    // GIVEN a self-signed certificate made by openssl, as the controller makes one
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-nodes', '-newkey', 'rsa:2048', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/O=sealed-secret/CN=sealed-secret', '-days', '1'], { stdio: 'ignore' });
    const certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const { createPrivateKey } = await import('node:crypto');
    const privateKey = createPrivateKey(readFileSync(join(dir, 'key.pem'), 'utf8'));
    // WHEN a site seals with it
    const outDir = tempDir();
    await synth({ fleet: [smallSite({ secrets: SecretBackend.sealedSecrets({ certificate }) })], catalog, outDir });
    // THEN the matching private key opens the values
    expect(controllerUnseal(privateKey, labels.strict, readSealed(outDir).spec.encryptedData['mysql-root-password'])).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('refuses to re-seal generated values under another certificate unless asked to rotate', async () => {
    const outDir = tempDir();
    await synth({ fleet: [smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) })], catalog, outDir });
    const before = readTree(outDir);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const definition = smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: other }) });
    await expect(synth({ fleet: [definition], catalog, outDir })).rejects.toThrow(
      'acme/prod/mysql: the generated credentials mysql-password were sealed with another certificate, scope or namespace, and their value is known only to the cluster; run synth with --rotate-secrets to generate and seal new values');
    expect(readTree(outDir)).toStrictEqual(before);
    await synth({ fleet: [definition], catalog, outDir, rotateSecrets: true });
    expect(readTree(outDir)).not.toStrictEqual(before);
  });

  it('seals a value read from the environment, keeps it while it is unchanged and never writes it', async () => {
    const outDir = tempDir();
    const credentials = { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') };
    const definition = smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem }), credentials });
    const value = 'Correct-Horse-Battery-Staple';
    process.env.ACME_DB_PASSWORD = value;
    try {
      await synth({ fleet: [definition], catalog, outDir });
      const first = readTree(outDir);
      expect(controllerUnseal(keys.privateKey, labels.strict, readSealed(outDir).spec.encryptedData['mysql-password'])).toBe(value);
      expect(Object.values(first).some((c) => c.includes(value))).toBe(false);
      await synth({ fleet: [definition], catalog, outDir });
      expect(readTree(outDir)).toStrictEqual(first);
      process.env.ACME_DB_PASSWORD = 'Another-Horse-Battery-Staple';
      await synth({ fleet: [definition], catalog, outDir });
      expect(controllerUnseal(keys.privateKey, labels.strict, readSealed(outDir).spec.encryptedData['mysql-password'])).toBe('Another-Horse-Battery-Staple');
      delete process.env.ACME_DB_PASSWORD;
      await expect(synth({ fleet: [definition], catalog, outDir })).rejects.toThrow(
        'acme/prod/mysql: credentials mysql-password come from the environment variable ACME_DB_PASSWORD, which is not set; export it before synthesizing');
      // AND a variable set to nothing is said to be empty, not unset
      process.env.ACME_DB_PASSWORD = '';
      await expect(synth({ fleet: [definition], catalog, outDir })).rejects.toThrow(
        'acme/prod/mysql: credentials mysql-password come from the environment variable ACME_DB_PASSWORD, which is empty; export it with the value before synthesizing');
    } finally {
      delete process.env.ACME_DB_PASSWORD;
    }
  });

  it('renders an environment that reads a value from the environment again only once the value changed', async () => {
    const outDir = tempDir();
    const definition = smallSite({ secrets: SecretBackend.sealedSecrets({ certificate: publicPem }), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } });
    const rendered = async () => {
      const repos: string[] = [];
      await synth({ fleet: [definition], catalog, outDir, onEnvironment: (e) => (e.rendered ? repos.push(e.repo) : undefined) });
      return repos;
    };
    const inputHash = () => readState(join(outDir, 'acme/prod'))!.inputHash;
    process.env.ACME_DB_PASSWORD = 'Correct-Horse-Battery-Staple';
    expect(await rendered()).toStrictEqual(['acme/prod']);
    const first = { tree: readTree(outDir), inputHash: inputHash() };
    expect(first.inputHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The value made the fingerprint its SealedSecret holds: nothing to render.
    expect(await rendered()).toStrictEqual([]);
    expect(readTree(outDir)).toStrictEqual(first.tree);
    process.env.ACME_DB_PASSWORD = 'Another-Horse-Battery-Staple';
    expect(await rendered()).toStrictEqual(['acme/prod']);
    expect(controllerUnseal(keys.privateKey, labels.strict, readSealed(outDir).spec.encryptedData['mysql-password'])).toBe('Another-Horse-Battery-Staple');
    expect(inputHash()).not.toBe(first.inputHash);
    expect(await rendered()).toStrictEqual([]);
    // The first value again is a change too.
    process.env.ACME_DB_PASSWORD = 'Correct-Horse-Battery-Staple';
    expect(await rendered()).toStrictEqual(['acme/prod']);
    expect(controllerUnseal(keys.privateKey, labels.strict, readSealed(outDir).spec.encryptedData['mysql-password'])).toBe('Correct-Horse-Battery-Staple');
  });

  it('renders External Secrets: store references as data, generated values from Password generators created once', async () => {
    const outDir = tempDir();
    const credentials = { 'mysql-root-password': Secret.fromStore('acme/mysql', { property: 'root' }) };
    await synth({ fleet: [smallSite({ secrets: SecretBackend.externalSecrets({ store: SecretStoreRef.namespaced('vault') }), credentials })], catalog, outDir });
    const folder = join(outDir, 'acme/prod/manifests/secrets');
    expect(parse(readFileSync(join(folder, 'externalsecret-mysql-credentials.yaml'), 'utf8'))).toMatchObject({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'mysql-credentials', namespace: 'acme-prod' },
      spec: {
        refreshInterval: '0s',
        secretStoreRef: { kind: 'SecretStore', name: 'vault' },
        target: { name: 'mysql-credentials', creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: [{ secretKey: 'mysql-root-password', remoteRef: { key: 'acme/mysql', property: 'root' } }],
        dataFrom: [{
          sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'mysql-credentials-mysql-password' } },
          rewrite: [{ regexp: { source: '^password$', target: 'mysql-password' } }],
        }],
      },
    });
    expect(parse(readFileSync(join(folder, 'kustomization.yaml'), 'utf8')).resources).toStrictEqual([
      'externalsecret-mysql-credentials.yaml', 'password-mysql-credentials-mysql-password.yaml',
    ]);
  });

  it.skipIf(!hasTool('kubectl') && !mustRun)('builds manifests/secrets/ of the example environments with the real kubectl kustomize', async () => {
    const outDir = tempDir();
    await synth({ fleet, catalog, outDir });
    const kinds = (repo: string) => execFileSync('kubectl', ['kustomize', join(outDir, repo, 'manifests/secrets')], { encoding: 'utf8' })
      .split('\n').filter((l) => l.startsWith('kind: ')).map((l) => l.slice(6)).sort();
    // MySQL's (on VMs, for the apps on the cluster) and Redis's
    expect(kinds('acme/prod')).toStrictEqual(['SealedSecret', 'SealedSecret']);
    expect(kinds('acme/dev')).toStrictEqual(['ExternalSecret', 'ExternalSecret', 'Password', 'Password', 'Password']);
  });

  it('refuses a value from the environment with External Secrets, and a store reference with Sealed Secrets', () => {
    expect(() => smallSite({ credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } }).build(new App(), catalog)).toThrow(
      'acme/prod/mysql: credentials.mysql-password is read from environment variable ACME_DB_PASSWORD, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...)');
    const sealed = SecretBackend.sealedSecrets({ certificate: publicPem });
    expect(() => smallSite({ secrets: sealed, credentials: { 'mysql-password': Secret.fromStore('acme/mysql') } }).build(new App(), catalog)).toThrow(
      'acme/prod/mysql: credentials.mysql-password is read from a secret store, which works only with SecretBackend.externalSecrets(), not with sealed-secrets; use Secret.fromEnv(...) or Secret.generated()');
  });
});

describe('pods rolling when a sealed credential changes', () => {
  interface RollingSiteOptions {
    readonly secrets?: SecretBackend;
    readonly credentials?: Record<string, Secret>;
  }

  /** MySQL and Redis from their charts, the portal reading both credentials, Eureka reading none. */
  function rollingSite(options: RollingSiteOptions = {}): SiteDefinition {
    return {
      name: 'acme',
      build(scope: Construct) {
        const site = new Site(scope, 'acme', { domain: 'acme.example.com', secrets: options.secrets ?? SecretBackend.sealedSecrets({ certificate: publicPem }) });
        const env = site.addEnvironment('prod');
        env.addCluster();
        const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), credentials: options.credentials });
        const redis = env.addInstance('redis', { service: catalog.service('redis') });
        env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(redis);
        env.addInstance('eureka', { service: catalog.service('eureka') });
        return site;
      },
    };
  }

  const DEPLOYMENT = 'acme/prod/manifests/portal-admin/deployment-portal-admin.yaml';
  const EUREKA = 'acme/prod/manifests/eureka/statefulset-eureka.yaml';
  const MYSQL_VALUES = 'acme/prod/values/mysql.yaml';
  const REDIS_VALUES = 'acme/prod/values/redis.yaml';
  type Tree = Record<string, string>;
  const podAnnotations = (tree: Tree, file: string) => (parse(tree[file]) as { spec: { template: { metadata: { annotations?: Record<string, string> } } } }).spec.template.metadata.annotations;
  const values = (tree: Tree, file: string) => parse(tree[file]) as Record<string, { podAnnotations?: Record<string, string> } | undefined>;
  const encryptedData = (tree: Tree, secret: string) => (parse(tree[`acme/prod/manifests/secrets/sealedsecret-${secret}.yaml`]) as { spec: { encryptedData: Record<string, string> } }).spec.encryptedData;
  /** sha256 of [Secret, key, sealed value] triples, sorted: what the annotation holds. */
  const checksumOf = (triples: [string, string, string][]) => createHash('sha256').update(JSON.stringify(triples)).digest('hex');
  /** The file's YAML without any checksum/secrets annotation. */
  const withoutChecksum = (text: string) => JSON.parse(JSON.stringify(parse(text), (key, value: unknown) => (key === 'checksum/secrets' ? undefined : value)));
  const changedFiles = (before: Tree, after: Tree) => Object.keys(after).filter((path) => before[path] !== after[path]).sort();

  it('gives the pods that read sealed credentials the checksum of the values they read, and a second synth changes no byte', async () => {
    // GIVEN MySQL and Redis with sealed credentials, the portal reading one key of each, Eureka none
    const outDir = tempDir();
    const definition = rollingSite();
    // WHEN synthesized, then rendered again from that output
    await synth({ fleet: [definition], catalog, outDir });
    const first = readTree(outDir);
    await synth({ fleet: [definition], catalog, outDir, renderAll: true });
    // THEN the portal's pods carry the checksum of the two keys they read, beside their config's
    const mysql = encryptedData(first, 'mysql-credentials');
    const redis = encryptedData(first, 'redis-credentials');
    expect(Object.keys(podAnnotations(first, DEPLOYMENT)!)).toStrictEqual(['checksum/config', 'checksum/secrets']);
    expect(podAnnotations(first, DEPLOYMENT)!['checksum/secrets']).toBe(checksumOf([
      ['mysql-credentials', 'mysql-password', mysql['mysql-password']],
      ['redis-credentials', 'redis-password', redis['redis-password']],
    ]));
    // AND each chart's pods, through the values paths its catalog entry declares, that of its whole Secret
    expect(values(first, MYSQL_VALUES).primary!.podAnnotations).toStrictEqual({ 'checksum/secrets': checksumOf([
      ['mysql-credentials', 'mysql-password', mysql['mysql-password']],
      ['mysql-credentials', 'mysql-root-password', mysql['mysql-root-password']],
    ]) });
    const redisChecksum = checksumOf([['redis-credentials', 'redis-password', redis['redis-password']]]);
    expect([values(first, REDIS_VALUES).master!.podAnnotations, values(first, REDIS_VALUES).slave!.podAnnotations])
      .toStrictEqual([{ 'checksum/secrets': redisChecksum }, { 'checksum/secrets': redisChecksum }]);
    // AND a workload that reads no Secret has no such annotation
    expect(podAnnotations(first, EUREKA)?.['checksum/secrets']).toBeUndefined();
    // AND the second synth wrote the same bytes
    expect(readTree(outDir)).toStrictEqual(first);
  });

  it('rolls the pods on --rotate-secrets: only the sealed values and the checksums of the pods reading them change', async () => {
    // GIVEN the environment synthesized once
    const outDir = tempDir();
    const definition = rollingSite();
    await synth({ fleet: [definition], catalog, outDir });
    const before = readTree(outDir);
    // WHEN its secrets are rotated
    await synth({ fleet: [definition], catalog, outDir, rotateSecrets: true });
    const after = readTree(outDir);
    // THEN the files that changed are the SealedSecrets, the pods reading them, and the state file
    expect(changedFiles(before, after)).toStrictEqual([
      'acme/prod/.siteforge/state.json', DEPLOYMENT, 'acme/prod/manifests/secrets/sealedsecret-mysql-credentials.yaml',
      'acme/prod/manifests/secrets/sealedsecret-redis-credentials.yaml', MYSQL_VALUES, REDIS_VALUES,
    ]);
    // AND in the workloads and values only the checksum changed, to that of the new sealed values
    for (const file of [DEPLOYMENT, MYSQL_VALUES, REDIS_VALUES]) expect(withoutChecksum(after[file])).toStrictEqual(withoutChecksum(before[file]));
    expect(podAnnotations(after, DEPLOYMENT)!['checksum/secrets']).toBe(checksumOf([
      ['mysql-credentials', 'mysql-password', encryptedData(after, 'mysql-credentials')['mysql-password']],
      ['redis-credentials', 'redis-password', encryptedData(after, 'redis-credentials')['redis-password']],
    ]));
    expect(podAnnotations(after, DEPLOYMENT)!['checksum/secrets']).not.toBe(podAnnotations(before, DEPLOYMENT)!['checksum/secrets']);
  });

  it('rolls only the pods that read a value set anew from the environment', async () => {
    // GIVEN MySQL's root password read from the environment, which the portal does not read
    const outDir = tempDir();
    const definition = rollingSite({ credentials: { 'mysql-root-password': Secret.fromEnv('ACME_ROOT_PASSWORD') } });
    process.env.ACME_ROOT_PASSWORD = 'Correct-Horse-Battery-Staple';
    await synth({ fleet: [definition], catalog, outDir });
    const before = readTree(outDir);
    // WHEN synthesized with the same value, then with another
    await synth({ fleet: [definition], catalog, outDir });
    const same = readTree(outDir);
    process.env.ACME_ROOT_PASSWORD = 'Another-Horse-Battery-Staple';
    await synth({ fleet: [definition], catalog, outDir });
    const after = readTree(outDir);
    // THEN the same value changed nothing; the new one MySQL's Secret and the pods of its chart only
    expect(same).toStrictEqual(before);
    expect(changedFiles(before, after)).toStrictEqual(['acme/prod/.siteforge/state.json', 'acme/prod/manifests/secrets/sealedsecret-mysql-credentials.yaml', MYSQL_VALUES]);
    expect(withoutChecksum(after[MYSQL_VALUES])).toStrictEqual(withoutChecksum(before[MYSQL_VALUES]));
    expect(values(after, MYSQL_VALUES).primary!.podAnnotations!['checksum/secrets']).not.toBe(values(before, MYSQL_VALUES).primary!.podAnnotations!['checksum/secrets']);
  });

  it('adds no checksum with External Secrets, whose values live in the store', async () => {
    // GIVEN the same instances with External Secrets
    const outDir = tempDir();
    await synth({ fleet: [rollingSite({ secrets: SecretBackend.externalSecrets() })], catalog, outDir });
    // THEN no file carries a secrets checksum
    expect(Object.entries(readTree(outDir)).filter(([, content]) => content.includes('checksum/secrets')).map(([path]) => path)).toStrictEqual([]);
  });

  it('fails naming the instance and the path when a declared pod-annotations path is no mapping in the values', () => {
    // GIVEN a catalog whose MySQL declares image.tag as where its pod annotations go
    const dir = catalogCopy();
    const file = join(dir, 'mysql/service.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('podAnnotations: [primary.podAnnotations]', 'podAnnotations: [image.tag]'));
    const broken = loadCatalog(dir);
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
    const env = site.addEnvironment('prod');
    env.addCluster();
    env.addInstance('mysql', { service: broken.service('mysql') });
    // WHEN its environment renders, THEN it fails
    expect(() => renderWithSecrets(env)).toThrow(
      'acme/prod/mysql: mysql\'s helm.podAnnotations path image.tag must be a mapping in its rendered values, got "5.7.43-debian-11-r73"; fix the service\'s values template or the path in its service.yml');
  });
});

describe('Ansible Vault for VM credentials', () => {
  const password = 'vault-password-for-tests';

  it('seals the vault\'s values into the Secret an instance on the cluster uses, keeps them, and rotates both together', async () => {
    // GIVEN MySQL on VMs, used by the portal on the cluster, with Sealed Secrets
    const definition: SiteDefinition = { name: 'acme', build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com', secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
      const env = site.addEnvironment('prod');
      env.addCluster();
      const group = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
      const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } });
      env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(env.addInstance('redis', { service: catalog.service('redis') }));
      return site;
    } };
    const outDir = tempDir();
    Object.assign(process.env, { SITEFORGE_VAULT_PASSWORD: password, ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple' });
    try {
      const opened = () => {
        const vault = parse(vaultDecrypt(readFileSync(join(outDir, 'acme/prod/ansible/group_vars/mysql/vault.yml'), 'utf8'), password)) as Record<string, string>;
        const sealed = readSealed(outDir).spec.encryptedData;
        const unsealed = Object.fromEntries(Object.entries(sealed).map(([key, value]) => [key, controllerUnseal(keys.privateKey, labels.strict, value)]));
        return { vault, unsealed };
      };
      // WHEN synthesized, THEN the Secret the portal reads holds the vault's values, generated ones included
      await synth({ fleet: [definition], catalog, outDir });
      const first = opened();
      expect(first.unsealed).toStrictEqual({ 'mysql-password': first.vault.mysql_mysql_password, 'mysql-root-password': first.vault.mysql_mysql_root_password });
      expect(first.unsealed['mysql-password']).toBe('Correct-Horse-Battery-Staple');
      expect(readFileSync(join(outDir, 'acme/prod/manifests/portal-admin/deployment-portal-admin.yaml'), 'utf8')).toContain('name: mysql-credentials');
      // AND a second synth writes neither again
      const files = readTree(outDir);
      await synth({ fleet: [definition], catalog, outDir, renderAll: true });
      expect(readTree(outDir)).toStrictEqual(files);
      // AND rotating generates a new root password on both sides, still the same
      await synth({ fleet: [definition], catalog, outDir, rotateSecrets: true });
      const rotated = opened();
      expect(rotated.vault.mysql_mysql_root_password).not.toBe(first.vault.mysql_mysql_root_password);
      expect(rotated.unsealed['mysql-root-password']).toBe(rotated.vault.mysql_mysql_root_password);
    } finally {
      delete process.env.SITEFORGE_VAULT_PASSWORD;
      delete process.env.ACME_DB_PASSWORD;
    }
  });

  it('gives an instance on VMs the credentials of the VM instance it uses in its own vault, keeps them, and rotates them with the other\'s', async () => {
    // GIVEN MySQL on a db host, used by Elasticsearch on a middleware host (Ansible reads
    // group_vars/mysql/ only on db1)
    const definition: SiteDefinition = { name: 'acme', build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
      const env = site.addEnvironment('prod');
      const group = env.addHostGroup('vms', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }, { name: 'mw1', address: '10.0.0.21', roles: ['middleware'] }] });
      const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group, role: 'db' }), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } });
      env.addInstance('logs', { service: catalog.service('elasticsearch'), placement: Placement.vm({ group }) }).uses(mysql);
      return site;
    } };
    const outDir = tempDir();
    Object.assign(process.env, { SITEFORGE_VAULT_PASSWORD: password, ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple' });
    const opened = (instance: string) => parse(vaultDecrypt(readFileSync(join(outDir, `acme/prod/ansible/group_vars/${instance}/vault.yml`), 'utf8'), password)) as Record<string, string>;

    // WHEN synthesized, THEN the vault of logs holds MySQL's variables with MySQL's values
    await synth({ fleet: [definition], catalog, outDir });
    const first = opened('mysql');
    expect(opened('logs')).toStrictEqual(first);
    expect(first.mysql_mysql_password).toBe('Correct-Horse-Battery-Staple');
    // AND a second synth rewrites neither
    const files = readTree(outDir);
    await synth({ fleet: [definition], catalog, outDir, renderAll: true });
    expect(readTree(outDir)).toStrictEqual(files);
    // AND a changed variable reaches both
    process.env.ACME_DB_PASSWORD = 'Another-Horse-Battery-Staple';
    await synth({ fleet: [definition], catalog, outDir });
    const changed = opened('mysql');
    expect(changed).toStrictEqual({ ...first, mysql_mysql_password: 'Another-Horse-Battery-Staple' });
    expect(opened('logs')).toStrictEqual(changed);
    // AND so do rotated values
    await synth({ fleet: [definition], catalog, outDir, rotateSecrets: true });
    const rotated = opened('mysql');
    expect(rotated.mysql_mysql_root_password).not.toBe(first.mysql_mysql_root_password);
    expect(opened('logs')).toStrictEqual(rotated);
  });

  it.skipIf(!hasTool('ansible-vault') && !mustRun)('writes group_vars/<instance>/vault.yml that the real ansible-vault decrypts, and keeps it byte for byte', async () => {
    // GIVEN a MySQL instance on VMs and a vault password
    const outDir = tempDir();
    const definition = smallSite({ vm: true, credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } });
    const variables = { SITEFORGE_VAULT_PASSWORD: password, ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple' };
    Object.assign(process.env, variables);
    try {
      // WHEN synthesized
      await synth({ fleet: [definition], catalog, outDir });
      const file = join(outDir, 'acme/prod/ansible/group_vars/mysql/vault.yml');
      const text = readFileSync(file, 'utf8');
      // THEN the file is a vault and ansible-vault opens it with the password
      expect(text.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
      expect(text.split('\n').slice(1, -1).every((line) => /^[0-9a-f]{1,80}$/.test(line))).toBe(true);
      const dir = tempDir();
      writeFileSync(join(dir, 'password'), password);
      const plain = execFileSync('ansible-vault', ['view', '--vault-password-file', join(dir, 'password'), file], { encoding: 'utf8' });
      const vars = parse(plain) as Record<string, string>;
      expect(Object.keys(vars)).toStrictEqual(['mysql_mysql_password', 'mysql_mysql_root_password']);
      expect(vars.mysql_mysql_password).toBe('Correct-Horse-Battery-Staple');
      expect(vars.mysql_mysql_root_password).toMatch(/^[A-Za-z0-9]{32}$/);
      // AND a second synth keeps the file byte for byte
      await synth({ fleet: [definition], catalog, outDir });
      expect(readFileSync(file, 'utf8')).toBe(text);
      // AND ansible-vault decrypt agrees with siteforge's own decryption
      execFileSync('ansible-vault', ['decrypt', '--vault-password-file', join(dir, 'password'), '--output', join(dir, 'plain.yml'), file]);
      expect(readFileSync(join(dir, 'plain.yml'), 'utf8')).toBe(vaultDecrypt(text, password));
    } finally {
      delete process.env.SITEFORGE_VAULT_PASSWORD;
      delete process.env.ACME_DB_PASSWORD;
    }
  });

  it.skipIf(!hasTool('ansible-vault') && !mustRun)('reads what the real ansible-vault encrypts', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'password'), password);
    writeFileSync(join(dir, 'vars.yml'), 'a: "b"\n');
    execFileSync('ansible-vault', ['encrypt', '--vault-password-file', join(dir, 'password'), join(dir, 'vars.yml')]);
    expect(vaultDecrypt(readFileSync(join(dir, 'vars.yml'), 'utf8'), password)).toBe('a: "b"\n');
    expect(vaultDecrypt(vaultEncrypt('x: 1\n', password), password)).toBe('x: 1\n');
  });

  it('refuses to replace a vault file it cannot decrypt, unless asked to rotate', async () => {
    const outDir = tempDir();
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    try {
      await synth({ fleet: [smallSite({ vm: true })], catalog, outDir });
      const before = readTree(outDir);
      process.env.SITEFORGE_VAULT_PASSWORD = 'another-password';
      await expect(synth({ fleet: [smallSite({ vm: true })], catalog, outDir })).rejects.toThrow(
        'acme/prod/mysql: cannot decrypt the previous ansible/group_vars/mysql/vault.yml with SITEFORGE_VAULT_PASSWORD (HMAC mismatch: wrong vault password or damaged file); set the password it was written with, or run synth with --rotate-secrets to generate new values');
      expect(readTree(outDir)).toStrictEqual(before);
      await synth({ fleet: [smallSite({ vm: true })], catalog, outDir, rotateSecrets: true });
      const text = readFileSync(join(outDir, 'acme/prod/ansible/group_vars/mysql/vault.yml'), 'utf8');
      expect(Object.keys(parse(vaultDecrypt(text, 'another-password')) as object)).toStrictEqual(['mysql_mysql_password', 'mysql_mysql_root_password']);
    } finally {
      delete process.env.SITEFORGE_VAULT_PASSWORD;
    }
  });

  it('fails naming SITEFORGE_VAULT_PASSWORD when a VM instance has credentials and it is not set', async () => {
    const outDir = tempDir();
    delete process.env.SITEFORGE_VAULT_PASSWORD;
    await expect(synth({ fleet: [smallSite({ vm: true })], catalog, outDir })).rejects.toThrow(
      'acme/prod/mysql: SITEFORGE_VAULT_PASSWORD is not set; the credentials of instances on VMs are encrypted with Ansible Vault: export the vault password as SITEFORGE_VAULT_PASSWORD');
    expect(existsSync(join(outDir, 'acme'))).toBe(false);
  });
  it('renders an environment on VMs again only once a value its vault holds changed', async () => {
    const outDir = tempDir();
    const definition = smallSite({ vm: true, credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } });
    const vaultFile = join(outDir, 'acme/prod/ansible/group_vars/mysql/vault.yml');
    const rendered = async () => {
      const repos: string[] = [];
      await synth({ fleet: [definition], catalog, outDir, onEnvironment: (e) => (e.rendered ? repos.push(e.repo) : undefined) });
      return repos;
    };
    Object.assign(process.env, { SITEFORGE_VAULT_PASSWORD: password, ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple' });
    try {
      expect(await rendered()).toStrictEqual(['acme/prod']);
      const tree = readTree(outDir);
      expect(await rendered()).toStrictEqual([]);
      expect(readTree(outDir)).toStrictEqual(tree);
      process.env.ACME_DB_PASSWORD = 'Another-Horse-Battery-Staple';
      expect(await rendered()).toStrictEqual(['acme/prod']);
      expect((parse(vaultDecrypt(readFileSync(vaultFile, 'utf8'), password)) as Record<string, string>).mysql_mysql_password).toBe('Another-Horse-Battery-Staple');
      expect(await rendered()).toStrictEqual([]);
    } finally {
      delete process.env.SITEFORGE_VAULT_PASSWORD;
      delete process.env.ACME_DB_PASSWORD;
    }
  });
});

describe('fingerprints of values read from the environment', () => {
  it('confirms the values that made their fingerprints and no other', async () => {
    const made = valueFingerprint('Correct-Horse-Battery-Staple');
    const other = valueFingerprint('Another-Horse-Battery-Staple');
    const oneAtATime = concurrencyLimit(1);
    const checked = await checkFingerprints([
      { value: 'Correct-Horse-Battery-Staple', fingerprint: made },
      { value: 'Correct-Horse-Battery-Staple', fingerprint: other },
      { value: 'Correct-Horse-Battery-Staple', fingerprint: 'scrypt$c2FsdA==$dG9vIHNob3J0' },
      { value: 'Correct-Horse-Battery-Staple', fingerprint: 'sha256:0000' },
    ], oneAtATime);
    const value = 'Correct-Horse-Battery-Staple';
    expect(checked).toStrictEqual(new Map([
      [made, { value, made: true }], [other, { value, made: false }], ['scrypt$c2FsdA==$dG9vIHNob3J0', { value, made: false }], ['sha256:0000', { value, made: false }],
    ]));
    // A fresh salt each time: the same value makes another fingerprint, which confirms it all the same.
    const again = valueFingerprint(value);
    expect(again).not.toBe(made);
    expect(await checkFingerprints([{ value, fingerprint: again }], oneAtATime)).toStrictEqual(new Map([[again, { value, made: true }]]));
    // Two values checked against one fingerprint: the one that made it is kept, whatever the order.
    for (const order of [[value, 'Another-Horse-Battery-Staple'], ['Another-Horse-Battery-Staple', value]]) {
      expect(await checkFingerprints(order.map((v) => ({ value: v, fingerprint: made })), oneAtATime)).toStrictEqual(new Map([[made, { value, made: true }]]));
    }
  });
});

describe('the plaintext-secret gate', () => {
  it('fails on a plaintext Secret, on a handled value, raw or base64, and on credential shapes, naming file and finding only', () => {
    const value = 'Correct-Horse-Battery-Staple';
    const files = [
      { path: 'manifests/x/secret-db.yaml', content: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: x\n' },
      { path: 'values/a.yaml', content: `password: ${value}\n` },
      { path: 'values/b.yaml', content: `password: ${Buffer.from(value).toString('base64')}\n` },
      { path: 'notes/key.pem', content: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n' },
      { path: 'notes/token.txt', content: `token ghp_${'a'.repeat(36)}\n` },
      { path: 'notes/url.txt', content: 'mysql://app:hunter22@db:3306/app\n' },
    ];
    expect(() => assertNoPlaintextSecrets('acme/prod', files, [{ value, description: 'environment variable ACME_DB_PASSWORD' }])).toThrow([
      'acme/prod/manifests/x/secret-db.yaml: Secret db holds plaintext data; credentials must be SealedSecrets, ExternalSecrets or Ansible Vault values (see the instance\'s credentials)',
      'acme/prod/values/a.yaml: contains the value of environment variable ACME_DB_PASSWORD in plaintext',
      'acme/prod/values/b.yaml: contains the value of environment variable ACME_DB_PASSWORD, base64-encoded in plaintext',
      'acme/prod/notes/key.pem: contains what looks like a PEM private key; remove it or reference it as a Secret',
      'acme/prod/notes/token.txt: contains what looks like a GitHub token; remove it or reference it as a Secret',
      'acme/prod/notes/url.txt: contains what looks like a password in a URL; remove it or reference it as a Secret',
    ].join('\n'));
  });

  it.each([
    ['http://admin:Sup3r$ecret@upstream:8080', true],
    ['http://admin:{pass}word@upstream:8080', true],
    ['http://admin:${ADMIN_PASSWORD}@upstream:8080', false],
    ['http://admin:$ADMIN_PASSWORD@upstream:8080', false],
    ['http://admin:$(ADMIN_PASSWORD)@upstream:8080', false],
    ['http://admin:{{admin_password}}@upstream:8080', false],
  ])('finds a password in the URL %s: %s (one only a reference is none)', (url, found) => {
    const problems = plaintextSecretProblems('acme/prod', [{ path: 'values/kong.yaml', content: `url: "${url}"\n` }]);
    expect(problems).toStrictEqual(found ? ['acme/prod/values/kong.yaml: contains what looks like a password in a URL; remove it or reference it as a Secret'] : []);
  });

  it.each([
    ['https://tok3nSecretXYZ0123456789abc@git.example.com/x/acme-prod.git', true],
    ['https://deploy-bot@git.example.com/x/acme-prod.git', false],
    ['https://siteforge-deploy-robot-of-acme@git.example.com/x/acme-prod.git', false],
    ['ssh://git@git.example.com/x/acme-prod.git', false],
  ])('finds a token used as the user name of the URL %s: %s', (url, found) => {
    const problems = plaintextSecretProblems('acme/prod', [{ path: 'apps/application-mysql.yaml', content: `repoURL: ${url}\n` }]);
    expect(problems).toStrictEqual(found ? ['acme/prod/apps/application-mysql.yaml: contains what looks like a token in a URL; remove it or reference it as a Secret'] : []);
  });

  it('finds a handled value escaped into a quoted string or URL-encoded, as writers put it', () => {
    const value = 'Tr0ub4dor"Secret/@\\x';
    const problems = plaintextSecretProblems('acme/prod', [
      { path: 'values/portal.yaml', content: `title: ${JSON.stringify(value)}\n` },
      { path: 'values/link.yaml', content: `url: https://x.example.com/?p=${encodeURIComponent(value)}\n` },
      { path: 'values/other.yaml', content: 'title: "Tr0ub4dor"\n' },
    ], [{ value, description: 'environment variable ACME_DB_PASSWORD' }]);
    expect(problems).toStrictEqual([
      'acme/prod/values/portal.yaml: contains the value of environment variable ACME_DB_PASSWORD, escaped in plaintext',
      'acme/prod/values/link.yaml: contains the value of environment variable ACME_DB_PASSWORD, URL-encoded in plaintext',
    ]);
  });

  it('checks a repository folder as publish is about to commit it, skipping .git', () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'config'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
    expect(() => assertRepositoryHasNoPlaintextSecrets(dir, 'acme/prod')).not.toThrow();
    mkdirSync(join(dir, 'manifests'));
    writeFileSync(join(dir, 'manifests', 'secret-db.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n');
    expect(() => assertRepositoryHasNoPlaintextSecrets(dir, 'acme/prod')).toThrow(
      "acme/prod/manifests/secret-db.yaml: Secret db holds plaintext data; credentials must be SealedSecrets, ExternalSecrets or Ansible Vault values (see the instance's credentials)");
  });

  it('finds a Secret whose first key shares its line with the document start marker', () => {
    // GIVEN a Secret written as `--- kind: Secret`, which YAML readers read as the key kind
    const content = '--- kind: Secret\napiVersion: v1\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n';
    // THEN the gate finds it
    expect(plaintextSecretProblems('acme/prod', [{ path: 'manifests/secret-db.yaml', content }])).toStrictEqual([
      "acme/prod/manifests/secret-db.yaml: Secret db holds plaintext data; credentials must be SealedSecrets, ExternalSecrets or Ansible Vault values (see the instance's credentials)",
    ]);
  });

  it('finds no plaintext secret in any file of any example site', async () => {
    // GIVEN the example fleet synthesized
    const outDir = tempDir();
    await synth({ fleet, catalog, outDir });
    const repos = Object.keys(readTree(outDir)).map((p) => p.split('/').slice(0, 2).join('/'));
    // THEN every repository passes the gate, and no file holds a Kubernetes Secret
    for (const repo of new Set(repos)) expect(() => assertRepositoryHasNoPlaintextSecrets(join(outDir, repo), repo)).not.toThrow();
    for (const [path, content] of Object.entries(readTree(outDir))) {
      expect({ path, secret: /^kind: Secret$/m.test(content) }).toStrictEqual({ path, secret: false });
    }
    expect(new Set(repos).size).toBeGreaterThanOrEqual(4);
  });
});
