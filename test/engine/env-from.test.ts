import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Placement, Secret, Site } from '../../constructs';
import { synth } from '../../engine';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, readTree, restoreProcessEnvAfterEach, sealingController, siteWithEnvironment, tempDir } from '../helpers';

const catalog = builtinCatalog();
const sealedSecrets = sealingController().backend;

restoreProcessEnvAfterEach();

/** Site shop, environment prod with Sealed Secrets: a website reading the environment's ConfigMap and Secret whole. */
function shop(settings: Record<string, string>): SiteDefinition {
  return {
    name: 'shop',
    build(scope: Construct) {
      const site = new Site(scope, 'shop', { domain: 'shop.example.com', secrets: sealedSecrets });
      const env = site.addEnvironment('prod');
      const cluster = env.addCluster();
      const sharedSettings = cluster.addConfigMap('shared-settings', { data: settings });
      const partnerApi = cluster.addSecret('partner-api', { data: { PARTNER_TOKEN: Secret.fromEnv('PARTNER_TOKEN') } });
      env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://api.shop.example.com/admin' }, envFrom: [sharedSettings, partnerApi] });
      return site;
    },
  };
}

const deployment = (outDir: string) => parse(readFileSync(join(outDir, 'shop/prod/manifests/www/deployment-www.yaml'), 'utf8')) as {
  spec: { template: { metadata: { annotations: Record<string, string> }; spec: { containers: { envFrom?: unknown[] }[] } } };
};

describe('an instance reading the environment\'s ConfigMaps and Secrets whole (envFrom)', () => {
  it('lists them in its container\'s envFrom, in order, and rolls its pods when a value of either changes, not otherwise', async () => {
    // GIVEN the website reading the environment's ConfigMap and Secret
    process.env.PARTNER_TOKEN = 'partner-token-0123456789';
    const outDir = tempDir();
    // WHEN synthesized
    await synth({ fleet: [shop({ TZ: 'UTC' })], catalog, outDir });
    // THEN its container reads both, the ConfigMap first
    const first = deployment(outDir);
    expect(first.spec.template.spec.containers[0].envFrom).toStrictEqual([{ configMapRef: { name: 'shared-settings' } }, { secretRef: { name: 'partner-api' } }]);
    const annotations = first.spec.template.metadata.annotations;
    expect(Object.keys(annotations).sort()).toStrictEqual(['checksum/config', 'checksum/environment-config', 'checksum/secrets']);
    // WHEN synthesized again THEN nothing changes
    const tree = readTree(outDir);
    await synth({ fleet: [shop({ TZ: 'UTC' })], catalog, outDir });
    expect(readTree(outDir)).toStrictEqual(tree);
    // WHEN the ConfigMap's data changes THEN only its checksum changes
    await synth({ fleet: [shop({ TZ: 'Asia/Shanghai' })], catalog, outDir });
    const second = deployment(outDir).spec.template.metadata.annotations;
    expect(second['checksum/environment-config']).not.toBe(annotations['checksum/environment-config']);
    expect(second['checksum/secrets']).toBe(annotations['checksum/secrets']);
    // WHEN the Secret's value changes THEN only its checksum changes
    process.env.PARTNER_TOKEN = 'partner-token-9876543210';
    await synth({ fleet: [shop({ TZ: 'Asia/Shanghai' })], catalog, outDir });
    const third = deployment(outDir).spec.template.metadata.annotations;
    expect(third['checksum/environment-config']).toBe(second['checksum/environment-config']);
    expect(third['checksum/secrets']).not.toBe(second['checksum/secrets']);
  });

  describe('refuses, naming the instance and what to change', () => {
    it.each([
      { name: 'a chart-based instance', add: () => {
        const { env } = siteWithEnvironment();
        const settings = env.cluster!.addConfigMap('shared-settings', { data: { TZ: 'UTC' } });
        env.addInstance('grafana', { service: catalog.service('grafana'), envFrom: [settings] });
      }, message: 'acme/prod/grafana: envFrom gives a container the keys of ConfigMaps and Secrets, but grafana is rendered from its Helm chart, whose values decide what its pods read; leave envFrom out' },
      { name: 'an instance on VMs', add: () => {
        const { env } = siteWithEnvironment();
        const settings = env.cluster!.addConfigMap('shared-settings', { data: { TZ: 'UTC' } });
        const group = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
        env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }), envFrom: [settings] });
      }, message: 'acme/prod/mysql: envFrom gives a container the keys of ConfigMaps and Secrets, but mysql is placed on VMs; leave envFrom out' },
      { name: 'a ConfigMap of another environment', add: () => {
        const { site, env } = siteWithEnvironment();
        const other = site.addEnvironment('test');
        const settings = other.addCluster().addConfigMap('shared-settings', { data: { TZ: 'UTC' } });
        env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://x.example.com' }, envFrom: [settings] });
      }, message: 'acme/prod/www: envFrom names acme/test/cluster/shared-settings, which belongs to another environment; add it to acme/prod\'s cluster' },
      { name: 'a ConfigMap named by its name', add: () => {
        const { env } = siteWithEnvironment();
        env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://x.example.com' }, envFrom: ['shared-settings' as never] });
      }, message: 'acme/prod/www: envFrom takes what cluster.addConfigMap and cluster.addSecret return, got "shared-settings"' },
      { name: 'a Secret with a key starting with a digit, which the kubelet of Kubernetes 1.28 skips (not a variable name)', add: () => {
        const { env } = siteWithEnvironment();
        const otp = env.cluster!.addSecret('otp', { data: { '2fa-seed': Secret.generated() } });
        env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://x.example.com' }, envFrom: [otp] });
      }, message: 'acme/prod/www: envFrom reads acme/prod/cluster/otp, whose key "2fa-seed" starts with a digit: the kubelet of Kubernetes 1.28 leaves such a key out of the environment (a variable name may not start with a digit until 1.32); rename the key' },
      { name: 'one ConfigMap twice', add: () => {
        const { env } = siteWithEnvironment();
        const settings = env.cluster!.addConfigMap('shared-settings', { data: { TZ: 'UTC' } });
        env.addInstance('www', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://x.example.com' }, envFrom: [settings, settings] });
      }, message: 'acme/prod/www: envFrom names acme/prod/cluster/shared-settings twice; name it once' },
    ])('$name', ({ add, message }) => {
      expect(add).toThrow(message);
    });
  });
});
