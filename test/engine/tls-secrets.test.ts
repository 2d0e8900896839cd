import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Applier, Exposure, IngressTls, IssuerRef, Placement, Secret, SecretBackend, Site } from '../../constructs';
import { synth } from '../../engine';
import { resolveSecrets } from '../../engine/secrets/resolve';
import { App } from 'cdk8s';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, controllerUnseal, readTree, restoreProcessEnvAfterEach, sealingController, tempDir } from '../helpers';

const catalog = builtinCatalog();
const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const mustRun = process.env.CI === 'true';

const { privateKey: controllerKey, backend: sealedSecrets } = sealingController();

restoreProcessEnvAfterEach();

/**
 * A self-signed certificate and its key, made by the real openssl, for the DNS names `names`
 * (the first also its subject's CN); with `cnOnly`, only the CN names a host, as old CAs did.
 */
function certificateFor(names: readonly string[], cnOnly = false, rsaBits = 2048): { certificate: string; key: string } {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-nodes', '-newkey', `rsa:${rsaBits}`, '-days', '30', '-subj', `/CN=${names[0]}`,
    ...(cnOnly ? [] : ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`]),
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/**
 * A certificate chain for the DNS names `names`, made by the real openssl with EC keys: the
 * server's certificate, signed by a CA, then the CA's certificate; and the server's key.
 */
function ecChainFor(names: readonly string[]): { certificate: string; key: string } {
  const dir = tempDir();
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync('openssl', ['req', '-x509', '-nodes', ...ec, '-days', '30', '-subj', '/CN=Shop CA', '-keyout', join(dir, 'ca-key.pem'), '-out', join(dir, 'ca.pem')], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-nodes', ...ec, '-subj', `/CN=${names[0]}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'server.csr')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  execFileSync('openssl', ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca-key.pem'), '-set_serial', '2',
    '-days', '30', '-extfile', join(dir, 'ext'), '-out', join(dir, 'server.pem')], { stdio: 'ignore' });
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { certificate: read('server.pem') + read('ca.pem'), key: read('key.pem') };
}

interface ShopOptions {
  readonly secrets?: SecretBackend;
  /** The cluster's tls. */
  readonly tls: IngressTls;
  /** The tls of the second website's exposure. @default - the cluster's */
  readonly secondTls?: IngressTls;
  /** Name of the second website. @default "www2" */
  readonly secondName?: string;
  /** The cluster's applier. @default Applier.argoCd() */
  readonly applier?: Applier;
}

/** Site shop, environment prod on a cluster: two websites exposed on www. and www2.shop.example.com. */
function shop(options: ShopOptions): SiteDefinition {
  return {
    name: 'shop',
    build(scope: Construct) {
      const site = new Site(scope, 'shop', { domain: 'shop.example.com', secrets: options.secrets });
      const env = site.addEnvironment('prod');
      env.addCluster({ tls: options.tls, applier: options.applier });
      const settings = { portalUrl: 'https://api.shop.example.com/admin' };
      env.addInstance('www', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.shop.example.com' }), settings });
      env.addInstance(options.secondName ?? 'www2', {
        service: catalog.service('koca-website'),
        exposure: Exposure.ingress({ host: 'www2.shop.example.com', tls: options.secondTls }),
        settings,
      });
      return site;
    },
  };
}

const fromEnv = IngressTls.secret('shop-tls', { certificate: Secret.fromEnv('SHOP_TLS_CRT'), privateKey: Secret.fromEnv('SHOP_TLS_KEY') });
/** A Kubernetes name of 242 characters, which a Secret may have but its object's file name may not hold. */
const LONG_NAME = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(59)}`;
const secretsFolder = (outDir: string) => join(outDir, 'shop/prod/manifests/secrets');
const readObject = (file: string) => parse(readFileSync(file, 'utf8')) as Record<string, any>;

describe.skipIf(!hasTool('openssl') && !mustRun)('TLS Secrets siteforge writes (IngressTls.secret with contents)', () => {
  let wildcard: { certificate: string; key: string };
  let other: { certificate: string; key: string };
  let cnOnly: { certificate: string; key: string };
  let partialWildcard: { certificate: string; key: string };
  let weak: { certificate: string; key: string };
  beforeAll(() => {
    wildcard = certificateFor(['*.shop.example.com']);
    other = certificateFor(['www.other.example.org']);
    cnOnly = certificateFor(['*.shop.example.com'], true);
    partialWildcard = certificateFor(['w*.shop.example.com']);
    weak = certificateFor(['*.shop.example.com'], false, 1024);
  });

  it('seals the certificate and key into one kubernetes.io/tls SealedSecret both Ingresses serve, writes neither in plaintext, and a second synth changes no byte', async () => {
    // GIVEN the customer's wildcard certificate in two variables, and a cluster with Sealed Secrets
    process.env.SHOP_TLS_CRT = wildcard.certificate;
    process.env.SHOP_TLS_KEY = wildcard.key;
    const outDir = tempDir();
    const definition = shop({ secrets: sealedSecrets, tls: fromEnv });
    // WHEN synthesized
    await synth({ fleet: [definition], catalog, outDir });
    // THEN one SealedSecret, whose template makes a TLS Secret, labelled for the site (two instances serve it)
    const sealed = readObject(join(secretsFolder(outDir), 'sealedsecret-shop-tls.yaml'));
    expect(sealed).toMatchObject({
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: { name: 'shop-tls', namespace: 'shop-prod', labels: { 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'siteforge' } },
      spec: { template: { type: 'kubernetes.io/tls', metadata: { name: 'shop-tls', namespace: 'shop-prod' } } },
    });
    expect(Object.keys(sealed.metadata.labels).sort()).toStrictEqual(['app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of']);
    expect(Object.keys(sealed.spec.encryptedData).sort()).toStrictEqual(['tls.crt', 'tls.key']);
    // ... which the controller opens, with the strict scope's label, to the certificate and key
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', sealed.spec.encryptedData['tls.crt'])).toBe(wildcard.certificate);
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', sealed.spec.encryptedData['tls.key'])).toBe(wildcard.key);
    expect(readObject(join(secretsFolder(outDir), 'kustomization.yaml')).resources).toStrictEqual(['sealedsecret-shop-tls.yaml']);
    // ... both Ingresses serve it
    for (const [instance, host] of [['www', 'www.shop.example.com'], ['www2', 'www2.shop.example.com']]) {
      const ingress = readObject(join(outDir, `shop/prod/manifests/${instance}/ingress-${instance}.yaml`));
      expect(ingress.spec.tls).toStrictEqual([{ hosts: [host], secretName: 'shop-tls' }]);
    }
    // ... no file holds the key, raw or base64, nor the certificate
    const tree = readTree(outDir);
    const body = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('\n');
    for (const content of Object.values(tree)) {
      expect(content).not.toContain(body(wildcard.key).split('\n')[1]);
      expect(content).not.toContain(Buffer.from(wildcard.key).toString('base64').slice(0, 40));
      expect(content).not.toContain(body(wildcard.certificate).split('\n')[1]);
    }
    // ... the README says where the certificate comes from
    // ... with what the certificate is for and when it expires, as the real openssl reads it (UTC)
    const notAfter = execFileSync('openssl', ['x509', '-noout', '-enddate', '-dateopt', 'iso_8601'], { input: wildcard.certificate, encoding: 'utf8' });
    const validUntil = /^notAfter=(\d{4}-\d{2}-\d{2}) /.exec(notAfter)![1];
    expect(tree['shop/prod/README.md']).toContain(`| www | www.shop.example.com | the Secret \`shop-tls\`, held in this repository (certificate from environment variable SHOP_TLS_CRT, key from environment variable SHOP_TLS_KEY); for *.shop.example.com, valid until ${validUntil} |`);
    // ... and that the administrators provide only the controller, no Secret
    expect(tree['shop/prod/README.md']).toContain('- the Sealed Secrets controller, whose certificate sealed the TLS Secret `shop-tls` in `manifests/secrets/`');
    // ... and how the controller takes over the Secret the administrators made before (bitnami/sealed-secrets#331)
    expect(tree['shop/prod/README.md']).toContain('in `manifests/secrets/`; the controller replaces a Secret of that name the administrators made earlier only once it is annotated `sealedsecrets.bitnami.com/managed: "true"`, or deleted');
    expect(tree['shop/prod/README.md']).not.toContain('kubectl create secret tls');
    // WHEN synthesized again with the same variables THEN no byte changes (nothing is sealed anew)
    await synth({ fleet: [definition], catalog, outDir });
    expect(readTree(outDir)).toStrictEqual(tree);
  });

  it.skipIf(!hasTool('kubectl') && !mustRun)('builds manifests/secrets/ with the real kubectl kustomize', async () => {
    process.env.SHOP_TLS_CRT = wildcard.certificate;
    process.env.SHOP_TLS_KEY = wildcard.key;
    const outDir = tempDir();
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv })], catalog, outDir });
    const built = execFileSync('kubectl', ['kustomize', secretsFolder(outDir)], { encoding: 'utf8' });
    expect(parse(built)).toMatchObject({ kind: 'SealedSecret', metadata: { name: 'shop-tls' }, spec: { template: { type: 'kubernetes.io/tls' } } });
  });

  it('makes an ExternalSecret whose template gives the Secret its TLS type, reading the certificate and key from the store', async () => {
    const outDir = tempDir();
    const tls = IngressTls.secret('shop-tls', { certificate: Secret.fromStore('shop/tls', { property: 'crt' }), privateKey: Secret.fromStore('shop/tls', { property: 'key' }) });
    await synth({ fleet: [shop({ tls })], catalog, outDir });
    expect(readObject(join(secretsFolder(outDir), 'externalsecret-shop-tls.yaml'))).toStrictEqual({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'shop-tls', namespace: 'shop-prod', labels: { 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'siteforge' } },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: 'siteforge' },
        target: { name: 'shop-tls', creationPolicy: 'Owner', deletionPolicy: 'Retain', template: { type: 'kubernetes.io/tls' } },
        data: [
          { secretKey: 'tls.crt', remoteRef: { key: 'shop/tls', property: 'crt' } },
          { secretKey: 'tls.key', remoteRef: { key: 'shop/tls', property: 'key' } },
        ],
      },
    });
    expect(readFileSync(join(outDir, 'shop/prod/README.md'), 'utf8')).toContain('- External Secrets, and the keys read in the ClusterSecretStore `siteforge` for the TLS Secret `shop-tls` in `manifests/secrets/`');
  });

  it('applies manifests/secrets in an environment whose only Secret is a TLS Secret: Argo CD\'s Application before the instances, Flux\'s Kustomization they depend on', async () => {
    // GIVEN koca-website instances, which have no credentials, and the TLS Secret held in the repository
    process.env.SHOP_TLS_CRT = wildcard.certificate;
    process.env.SHOP_TLS_KEY = wildcard.key;
    const argoOut = tempDir();
    const fluxOut = tempDir();
    // WHEN synthesized for Argo CD and for Flux
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv })], catalog, outDir: argoOut });
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv, applier: Applier.flux() })], catalog, outDir: fluxOut });
    // THEN Argo CD applies manifests/secrets in the wave before the instances
    expect(readObject(join(argoOut, 'shop/prod/apps/application-secrets.yaml'))).toMatchObject({
      metadata: { name: 'shop-prod-secrets', annotations: { 'argocd.argoproj.io/sync-wave': '-1' } },
      spec: { source: { path: 'manifests/secrets' }, destination: { namespace: 'shop-prod' } },
    });
    expect(readObject(join(argoOut, 'shop/prod/apps/kustomization.yaml')).resources).toContain('application-secrets.yaml');
    // ... and Flux applies it before each instance
    expect(readObject(join(fluxOut, 'shop/prod/apps/kustomization-secrets.yaml'))).toMatchObject({ metadata: { name: 'shop-prod-secrets' }, spec: { path: './manifests/secrets' } });
    expect(readObject(join(fluxOut, 'shop/prod/apps/kustomization-www.yaml')).spec.dependsOn).toContainEqual({ name: 'shop-prod-secrets' });
  });

  it('writes one SealedSecret for each TLS Secret name, each checked against the hosts of the Ingresses that serve it', async () => {
    // GIVEN the cluster's certificate for www only, and www2's own Secret with a certificate for www2 only
    const www = certificateFor(['www.shop.example.com']);
    const www2 = certificateFor(['www2.shop.example.com']);
    Object.assign(process.env, { SHOP_TLS_CRT: www.certificate, SHOP_TLS_KEY: www.key, WWW2_TLS_CRT: www2.certificate, WWW2_TLS_KEY: www2.key });
    const secondTls = IngressTls.secret('www2-tls', { certificate: Secret.fromEnv('WWW2_TLS_CRT'), privateKey: Secret.fromEnv('WWW2_TLS_KEY') });
    const outDir = tempDir();
    // WHEN synthesized
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv, secondTls })], catalog, outDir });
    // THEN each Secret holds its own certificate, and each Ingress serves its own Secret
    expect(readObject(join(secretsFolder(outDir), 'kustomization.yaml')).resources).toStrictEqual(['sealedsecret-shop-tls.yaml', 'sealedsecret-www2-tls.yaml']);
    for (const [secret, pem] of [['shop-tls', www], ['www2-tls', www2]] as const) {
      const sealed = readObject(join(secretsFolder(outDir), `sealedsecret-${secret}.yaml`));
      expect(controllerUnseal(controllerKey, `shop-prod/${secret}`, sealed.spec.encryptedData['tls.crt'])).toBe(pem.certificate);
    }
    expect(readObject(join(outDir, 'shop/prod/manifests/www2/ingress-www2.yaml')).spec.tls).toStrictEqual([{ hosts: ['www2.shop.example.com'], secretName: 'www2-tls' }]);
  });

  it('checks a certificate against every host a chart\'s Ingresses serve: GitLab\'s and its bundled MinIO\'s, whose values name the Secret for both', async () => {
    // GIVEN GitLab exposed on git.shop.example.com, served the cluster's TLS Secret
    const withGitlab = (definition: SiteDefinition): SiteDefinition => ({
      name: definition.name,
      build(scope, c) {
        const site = definition.build(scope, c);
        site.environments[0].addInstance('gitlab', { service: catalog.service('gitlab'), exposure: Exposure.ingress({ host: 'git.shop.example.com' }) });
        return site;
      },
    });
    const definition = withGitlab(shop({ secrets: sealedSecrets, tls: fromEnv }));
    // WHEN its certificate names the websites and GitLab's host only THEN synth refuses it, naming MinIO's host
    const narrow = certificateFor(['www.shop.example.com', 'www2.shop.example.com', 'git.shop.example.com']);
    Object.assign(process.env, { SHOP_TLS_CRT: narrow.certificate, SHOP_TLS_KEY: narrow.key });
    const outDir = tempDir();
    await expect(synth({ fleet: [definition], catalog, outDir })).rejects.toThrow('the certificate in SHOP_TLS_CRT is not valid for minio-git.shop.example.com (it names DNS:www.shop.example.com, DNS:www2.shop.example.com, DNS:git.shop.example.com)');
    expect(readTree(outDir)).toStrictEqual({});
    // WHEN it names MinIO's host too THEN GitLab's values give it to every Ingress of the chart
    const whole = certificateFor(['www.shop.example.com', 'www2.shop.example.com', 'git.shop.example.com', 'minio-git.shop.example.com']);
    Object.assign(process.env, { SHOP_TLS_CRT: whole.certificate, SHOP_TLS_KEY: whole.key });
    await synth({ fleet: [definition], catalog, outDir });
    expect(readObject(join(outDir, 'shop/prod/values/gitlab.yaml')).global).toMatchObject({
      hosts: { https: true, gitlab: { name: 'git.shop.example.com' }, minio: { name: 'minio-git.shop.example.com' } },
      ingress: { tls: { enabled: true, secretName: 'shop-tls' } },
    });
  });

  it('seals a changed certificate again, and removes the SealedSecret and its Application when the administrators create the Secret instead', async () => {
    // GIVEN the output of a synth with the wildcard certificate
    process.env.SHOP_TLS_CRT = wildcard.certificate;
    process.env.SHOP_TLS_KEY = wildcard.key;
    const outDir = tempDir();
    const rendered = async () => {
      const repos: string[] = [];
      await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv })], catalog, outDir, onEnvironment: (e) => (e.rendered ? repos.push(e.repo) : undefined) });
      return repos;
    };
    expect(await rendered()).toStrictEqual(['shop/prod']);
    const file = join(secretsFolder(outDir), 'sealedsecret-shop-tls.yaml');
    const first = readObject(file);
    // AND the same certificate again renders nothing: both values match their fingerprints
    expect(await rendered()).toStrictEqual([]);
    // WHEN the certificate is renewed (a new key with it)
    const renewed = certificateFor(['*.shop.example.com']);
    process.env.SHOP_TLS_CRT = renewed.certificate;
    process.env.SHOP_TLS_KEY = renewed.key;
    expect(await rendered()).toStrictEqual(['shop/prod']);
    // THEN both values are sealed again, and open to the new ones
    const second = readObject(file);
    expect(second.spec.encryptedData['tls.crt']).not.toBe(first.spec.encryptedData['tls.crt']);
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', second.spec.encryptedData['tls.crt'])).toBe(renewed.certificate);
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', second.spec.encryptedData['tls.key'])).toBe(renewed.key);
    // WHEN the administrators create the Secret instead
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: IngressTls.secret('shop-tls') })], catalog, outDir });
    // THEN the repository holds no Secret, nor the Application that applied it
    expect(Object.keys(readTree(outDir)).filter((path) => /manifests\/secrets\/|application-secrets/.test(path))).toStrictEqual([]);
  });

  it('accepts an EC key and a chain with its CA after the server\'s certificate, with CRLF line ends, and seals them as given', async () => {
    // GIVEN a chain and key as a Windows editor saved them
    const chain = ecChainFor(['*.shop.example.com']);
    const crlf = (pem: string) => pem.replace(/\n/g, '\r\n');
    process.env.SHOP_TLS_CRT = crlf(chain.certificate);
    process.env.SHOP_TLS_KEY = crlf(chain.key);
    expect(chain.key).toContain('PRIVATE KEY');
    const outDir = tempDir();
    // WHEN synthesized
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv })], catalog, outDir });
    // THEN the SealedSecret opens to both, byte for byte
    const sealed = readObject(join(secretsFolder(outDir), 'sealedsecret-shop-tls.yaml'));
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', sealed.spec.encryptedData['tls.crt'])).toBe(crlf(chain.certificate));
    expect(controllerUnseal(controllerKey, 'shop-prod/shop-tls', sealed.spec.encryptedData['tls.key'])).toBe(crlf(chain.key));
  });

  it('needs no variable and writes no Secret when no Ingress serves the cluster\'s TLS Secret (an instance not exposed, one on VMs)', async () => {
    // GIVEN the cluster's TLS Secret held in the repository, an instance on the cluster with no exposure, one on VMs, and no variable set
    delete process.env.SHOP_TLS_CRT;
    delete process.env.SHOP_TLS_KEY;
    const definition: SiteDefinition = {
      name: 'shop',
      build(scope: Construct) {
        const site = new Site(scope, 'shop', { domain: 'shop.example.com', secrets: sealedSecrets });
        const env = site.addEnvironment('prod');
        env.addCluster({ tls: fromEnv });
        const vms = env.addHostGroup('vms', { hosts: [{ name: 'shop-es-1', address: '10.20.0.21', roles: ['middleware'], user: 'ops' }] });
        env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://api.shop.example.com/admin' } });
        env.addInstance('search', { service: catalog.service('elasticsearch'), settings: { heapSize: '1g' }, placement: Placement.vm({ group: vms, role: 'middleware' }) });
        return site;
      },
    };
    const outDir = tempDir();
    // WHEN synthesized
    await synth({ fleet: [definition], catalog, outDir });
    // THEN nothing is sealed, and no Application applies a secrets folder
    expect(Object.keys(readTree(outDir)).filter((path) => /manifests\/secrets\/|application-secrets/.test(path))).toStrictEqual([]);
  });

  it('hands the plaintext-secret gate the certificate and the key once each, though both are read twice (to check, to seal)', () => {
    const site = shop({ secrets: sealedSecrets, tls: fromEnv }).build(new App({ outdir: '/nonexistent' }), catalog) as Site;
    const { handled } = resolveSecrets(site.environments[0], { repoDir: tempDir(), variables: { SHOP_TLS_CRT: wildcard.certificate, SHOP_TLS_KEY: wildcard.key } });
    expect(handled.map((h) => h.value)).toStrictEqual([wildcard.certificate, wildcard.key]);
    expect(handled.map((h) => h.description)).toStrictEqual([
      'environment variable SHOP_TLS_CRT (shop/prod/cluster the TLS certificate of Secret shop-tls)',
      'environment variable SHOP_TLS_KEY (shop/prod/cluster the TLS private key of Secret shop-tls)',
    ]);
  });

  it('writes nothing for a TLS Secret the administrators create', async () => {
    const outDir = tempDir();
    await synth({ fleet: [shop({ secrets: sealedSecrets, tls: IngressTls.secret('shop-tls') })], catalog, outDir });
    expect(Object.keys(readTree(outDir)).filter((path) => path.includes('manifests/secrets/'))).toStrictEqual([]);
    expect(readFileSync(join(outDir, 'shop/prod/README.md'), 'utf8')).toContain('- the TLS Secret `shop-tls` in `shop-prod` (type `kubernetes.io/tls`: `kubectl create secret tls <name> --cert=<file> --key=<file> -n shop-prod`)');
  });

  describe('refuses, naming where the certificate was given and what to change, and leaves the previous output as it was', () => {
    const cases: { name: string; options: () => ShopOptions; variables?: () => Record<string, string>; message: string | RegExp }[] = [
      {
        name: 'a generated certificate',
        options: () => ({ secrets: sealedSecrets, tls: IngressTls.secret('shop-tls', { certificate: Secret.generated(), privateKey: Secret.fromEnv('SHOP_TLS_KEY') }) }),
        message: 'shop/prod/cluster: tls certificate is Secret.generated(), but a certificate is issued, not generated: give Secret.fromEnv(...) (with sealed secrets) or Secret.fromStore(...) (with External Secrets), or use IngressTls.certManager({ issuer })',
      },
      {
        name: 'a key given as a string, without showing it',
        options: () => ({ secrets: sealedSecrets, tls: IngressTls.secret('shop-tls', { certificate: Secret.fromEnv('SHOP_TLS_CRT'), privateKey: '-----BEGIN PRIVATE KEY-----' as unknown as Secret }) }),
        message: 'shop/prod/cluster: tls privateKey must be a Secret (Secret.fromEnv(...) or Secret.fromStore(...)), got a string (not shown)',
      },
      {
        name: 'a value from the environment with External Secrets',
        options: () => ({ tls: fromEnv }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls\'s certificate is read from environment variable SHOP_TLS_CRT, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...) for shop/prod',
      },
      {
        name: 'a store reference with Sealed Secrets',
        options: () => ({ secrets: sealedSecrets, tls: IngressTls.secret('shop-tls', { certificate: Secret.fromStore('shop/tls'), privateKey: Secret.fromEnv('SHOP_TLS_KEY') }) }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls\'s certificate is read from a secret store, which works only with SecretBackend.externalSecrets(), not with sealed-secrets (shop/prod); use Secret.fromEnv(...)',
      },
      {
        name: 'one Secret name served with other contents',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv, secondTls: IngressTls.secret('shop-tls') }),
        message: 'shop/prod/www2: www2\'s Ingress serves the TLS Secret shop-tls with what the administrators create, but www\'s serves it with the certificate from environment variable SHOP_TLS_CRT and the key from environment variable SHOP_TLS_KEY; give both the same IngressTls.secret(...)',
      },
      {
        name: 'one Secret name that cert-manager fills for another instance',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv, secondName: 'shop', secondTls: IngressTls.certManager({ issuer: IssuerRef.cluster('letsencrypt-prod') }) }),
        variables: () => ({ SHOP_TLS_CRT: wildcard.certificate, SHOP_TLS_KEY: wildcard.key }),
        message: 'shop/prod/cluster: www\'s Ingress serves the TLS Secret shop-tls, which cert-manager fills with shop\'s certificate (Certificate shop, from the ClusterIssuer letsencrypt-prod), and one would replace the other; give the TLS Secret another name',
      },
      {
        name: 'a TLS Secret with the name of a credentials Secret',
        options: () => ({ secrets: sealedSecrets, tls: IngressTls.secret('mysql-credentials', { certificate: Secret.fromEnv('SHOP_TLS_CRT'), privateKey: Secret.fromEnv('SHOP_TLS_KEY') }) }),
        message: /the TLS Secret mysql-credentials that www's Ingress serves has the name of the credentials Secret of mysql, and one would replace the other; give the TLS Secret another name/,
      },
      {
        name: 'an unset variable',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_KEY: wildcard.key }),
        message: 'shop/prod/cluster: the TLS certificate of Secret shop-tls comes from the environment variable SHOP_TLS_CRT, which is not set; export it before synthesizing',
      },
      {
        name: 'a variable that holds no certificate',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: 'certainly-not-a-certificate', SHOP_TLS_KEY: wildcard.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the environment variable SHOP_TLS_CRT holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the certificate chain, the server\'s certificate first',
      },
      {
        name: 'a variable that holds no private key',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: wildcard.certificate, SHOP_TLS_KEY: wildcard.certificate }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the environment variable SHOP_TLS_KEY holds no unencrypted PEM private key; export the key (openssl pkey -in <key file> removes a passphrase)',
      },
      {
        name: 'the key of another certificate',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: wildcard.certificate, SHOP_TLS_KEY: other.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the key in SHOP_TLS_KEY does not belong to the certificate in SHOP_TLS_CRT (CN=*.shop.example.com); export the certificate\'s own key',
      },
      {
        name: 'a held Secret name too long for its file',
        options: () => ({ secrets: sealedSecrets, tls: IngressTls.secret(LONG_NAME, { certificate: Secret.fromEnv('SHOP_TLS_CRT'), privateKey: Secret.fromEnv('SHOP_TLS_KEY') }) }),
        message: `shop/prod/cluster: tls names the Secret "${LONG_NAME}" of 242 characters, too many for the file that holds it (sealedsecret-<name>.yaml or externalsecret-<name>.yaml; file systems take 255 bytes); give it a name of at most 235 characters`,
      },
      {
        name: 'a certificate with a 1024-bit RSA key',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: weak.certificate, SHOP_TLS_KEY: weak.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the key in SHOP_TLS_KEY is a 1024-bit RSA key, too weak for TLS (certificate authorities issue none under 2048 bits); export a certificate with an RSA key of at least 2048 bits, or an EC key',
      },
      {
        name: 'a certificate for other hosts',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: other.certificate, SHOP_TLS_KEY: other.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the certificate in SHOP_TLS_CRT is not valid for www.shop.example.com, www2.shop.example.com (it names DNS:www.other.example.org); export a certificate for those hosts, or serve them another IngressTls',
      },
      {
        // A combined PEM file: the key would be in tls.crt, which is read as public.
        name: 'a certificate variable that holds the key as well',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: wildcard.certificate + wildcard.key, SHOP_TLS_KEY: wildcard.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the environment variable SHOP_TLS_CRT holds a private key as well as certificates, and tls.crt is read as public; export the certificate chain alone, and the key in SHOP_TLS_KEY',
      },
      {
        // The ingress controller serves the first certificate (ingress-nginx refuses a tls.crt not starting with one).
        name: 'a chain that does not start with the server\'s certificate',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: other.certificate + wildcard.certificate, SHOP_TLS_KEY: wildcard.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the key in SHOP_TLS_KEY belongs to certificate 2 of the chain in SHOP_TLS_CRT (CN=*.shop.example.com), not to the first (CN=www.other.example.org); export the chain with the server\'s certificate first',
      },
      {
        // Browsers (and Go's TLS clients) ignore the CN: the hosts must be in subjectAltName.
        name: 'a certificate that names the hosts only in its subject\'s CN',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: cnOnly.certificate, SHOP_TLS_KEY: cnOnly.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the certificate in SHOP_TLS_CRT is not valid for www.shop.example.com, www2.shop.example.com (it has no subjectAltName, and browsers ignore its CN=*.shop.example.com); export a certificate for those hosts, or serve them another IngressTls',
      },
      {
        // A wildcard is a whole label for browsers and Go's TLS clients: w*.shop.example.com matches no host.
        name: 'a certificate whose wildcard is part of a label',
        options: () => ({ secrets: sealedSecrets, tls: fromEnv }),
        variables: () => ({ SHOP_TLS_CRT: partialWildcard.certificate, SHOP_TLS_KEY: partialWildcard.key }),
        message: 'shop/prod/cluster: the TLS Secret shop-tls: the certificate in SHOP_TLS_CRT is not valid for www.shop.example.com, www2.shop.example.com (it names DNS:w*.shop.example.com); export a certificate for those hosts, or serve them another IngressTls',
      },
    ];
    it.each(cases)('$name', async ({ options, variables, message }) => {
      // GIVEN the output of a good synth
      process.env.SHOP_TLS_CRT = wildcard.certificate;
      process.env.SHOP_TLS_KEY = wildcard.key;
      const outDir = tempDir();
      await synth({ fleet: [shop({ secrets: sealedSecrets, tls: fromEnv })], catalog, outDir });
      const before = readTree(outDir);
      // WHEN the site changes to the bad input
      delete process.env.SHOP_TLS_CRT;
      delete process.env.SHOP_TLS_KEY;
      Object.assign(process.env, variables?.() ?? {});
      const bad = options();
      const definition = bad.tls.secretNameOf('') === 'mysql-credentials' ? withMysql(shop(bad)) : shop(bad);
      const failure = synth({ fleet: [definition], catalog, outDir });
      // THEN it is refused with the message, and the output is as it was
      await expect(failure).rejects.toThrow(message);
      expect(readTree(outDir)).toStrictEqual(before);
    });
  });
});

/** `definition` with a MySQL on the cluster too, whose credentials Secret is mysql-credentials. */
function withMysql(definition: SiteDefinition): SiteDefinition {
  return {
    name: definition.name,
    build(scope, given) {
      const site = definition.build(scope, given) as Site;
      site.environments[0].addInstance('mysql', { service: catalog.service('mysql') });
      return site;
    },
  };
}
