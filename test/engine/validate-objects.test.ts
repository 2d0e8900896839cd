import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toYaml } from '../../constructs/yaml';
import { UserErrors } from '../../constructs/errors';
import { assertValidObjects, problemsOf, synth, validateObjects, validateOutput } from '../../engine';
import { fleet, type SiteDefinition } from '../../sites';
import { Site } from '../../constructs';
import type { Construct } from 'constructs';
import { builtinCatalog, readTree, runCli } from '../helpers';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'kong', namespace: 'acme-prod' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'kong' } },
    template: { metadata: { labels: { app: 'kong' } }, spec: { containers: [{ name: 'kong', image: 'kong:2.1.4' }] } },
  },
});

describe('the object validator', () => {
  it('accepts a valid Deployment', () => {
    expect(problemsOf(deployment())).toStrictEqual([]);
  });

  it('rejects an unknown field, naming the object and the JSON path', () => {
    // GIVEN a Deployment with a misspelled field deep in its pod template
    const d = deployment();
    (d.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolicyy = 'Always';
    // THEN the path points at the field
    expect(problemsOf(d)).toStrictEqual(['Deployment acme-prod/kong: .spec.template.spec.containers[0].imagePullPolicyy: unknown field "imagePullPolicyy"']);
  });

  it('rejects a wrong type, saying what was expected and what was found', () => {
    const d = deployment();
    (d.spec as Record<string, unknown>).replicas = '2';
    expect(problemsOf(d)).toStrictEqual(['Deployment acme-prod/kong: .spec.replicas: must be number, got string "2"']);
  });

  it('rejects a missing required field', () => {
    const d = deployment();
    delete (d.spec as Record<string, unknown>).selector;
    expect(problemsOf(d)).toStrictEqual(['Deployment acme-prod/kong: .spec.selector: missing required field "selector"']);
  });

  it('rejects a kind it has no schema for', () => {
    expect(problemsOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toStrictEqual([
      'Widget w: no schema for example.com/v1 Widget; siteforge checks Kubernetes 1.28 kinds and the CRDs of Argo CD, Flux, cert-manager, the Prometheus operator, Sealed Secrets and External Secrets',
    ]);
  });

  it('knows the CRDs of cert-manager, the Prometheus operator, Sealed Secrets and External Secrets', () => {
    const objects = [
      {
        apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'admin-tls', namespace: 'acme-prod' },
        spec: { secretName: 'admin-tls', dnsNames: ['admin.acme.example.com'], issuerRef: { name: 'acme-ca', kind: 'ClusterIssuer' } },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'kong', namespace: 'acme-prod' },
        spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'kong' } }, endpoints: [{ port: 'status', path: '/metrics', interval: '30s' }] },
      },
      {
        apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'mysql-credentials', namespace: 'acme-prod' },
        spec: { encryptedData: { 'mysql-password': 'AgBy3i4OJSWK+PiTySYZZA==' }, template: { metadata: { name: 'mysql-credentials' } } },
      },
      {
        apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', metadata: { name: 'mysql-credentials', namespace: 'acme-prod' },
        spec: { secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' }, target: { name: 'mysql-credentials' }, data: [{ secretKey: 'mysql-password', remoteRef: { key: 'acme/prod/mysql', property: 'password' } }] },
      },
    ];
    expect(objects.map(problemsOf)).toStrictEqual([[], [], [], []]);
    const monitor = objects[1] as { spec: { endpoints: Record<string, unknown>[] } };
    monitor.spec.endpoints[0].scrapeEvery = '30s';
    expect(problemsOf(monitor)).toStrictEqual(['ServiceMonitor acme-prod/kong: .spec.endpoints[0].scrapeEvery: unknown field "scrapeEvery"']);
  });

  it('names the file of each problem and reports every problem at once', () => {
    const bad = deployment();
    (bad.spec as Record<string, unknown>).replicas = true;
    const files = [
      { path: 'manifests/kong/deployment-kong.yaml', content: toYaml(bad) },
      { path: 'manifests/kong/service-kong.yaml', content: toYaml({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kong' }, spec: { port: 80 } }) },
      { path: 'values/kong.yaml', content: 'anything: goes\n' },
    ];
    expect(validateObjects('acme/prod', files).map((e) => e.message)).toStrictEqual([
      'acme/prod/manifests/kong/deployment-kong.yaml: Deployment acme-prod/kong: .spec.replicas: must be number, got boolean true',
      'acme/prod/manifests/kong/service-kong.yaml: Service kong: .spec.port: unknown field "port"',
    ]);
    expect(() => assertValidObjects('acme/prod', files)).toThrow(UserErrors);
  });
});

describe('synth', () => {
  it('fails on an invalid object before writing anything, naming the file, the object and the JSON path', async () => {
    // GIVEN a site from an untyped fleet module whose members list gets a number once the
    // model has checked it (what the model misses, the objects' schemas catch)
    const broken: SiteDefinition = {
      name: 'acme',
      build(scope: Construct) {
        const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
        const members = ['ops'];
        site.addEnvironment('prod', { members }).addCluster();
        members.push(42 as unknown as string);
        return site;
      },
    };
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-invalid-'));
    try {
      // WHEN it is synthesized THEN the AppProject fails the schema check and nothing is written
      await expect(synth({ fleet: [broken], catalog: builtinCatalog(), outDir })).rejects.toThrow(
        'acme/prod/apps/project.yaml: AppProject argocd/acme-prod: .spec.roles[1].groups[0]: must be string, got number 42',
      );
      expect(readdirSync(outDir)).toStrictEqual([]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});

const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('the whole output of the example fleet', async () => {
  // GIVEN the example fleet synthesized once into a folder kept for the whole group
  const outDir = mkdtempSync(join(tmpdir(), 'siteforge-fleet-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
  await synth({ fleet, catalog: builtinCatalog(), outDir });
  const folders = Object.keys(readTree(outDir)).filter((p) => p.endsWith('/kustomization.yaml')).map((p) => dirname(p)).sort();

  it('passes the strict schema check', () => {
    expect(validateOutput(outDir)).toMatchObject({ repositories: 13 });
    expect(validateOutput(outDir).objects).toBeGreaterThan(60);
  });

  it('has an apps/ folder in every environment, for Argo CD and for Flux', () => {
    const withCluster = ['acme/dev', 'acme/prod', 'acme/test', 'blueking/prod', 'blueking/stag', 'choerodon/dev', 'choerodon/runtime', 'choerodon/single-cluster', 'demo/all-in-one', 'koca/prod', 'koca/test'];
    expect(folders.filter((f) => f.endsWith('/apps'))).toStrictEqual(withCluster.map((repo) => `${repo}/apps`));
    expect(existsSync(join(outDir, 'acme/dev/apps/gitrepository.yaml'))).toBe(true);
    expect(existsSync(join(outDir, 'acme/prod/apps/project.yaml'))).toBe(true);
  });

  it.skipIf(!hasKubectl && process.env.CI !== 'true')('builds every kustomization folder with the real kubectl kustomize', () => {
    const built: Record<string, number> = {};
    for (const folder of folders) {
      const output = execFileSync('kubectl', ['kustomize', join(outDir, folder)], { encoding: 'utf8' });
      built[folder] = output.split(/^---$/m).filter((d) => d.trim() !== '').length;
    }
    // every object file of a folder ends up in its build (values/ generates one ConfigMap per values file)
    for (const folder of folders) {
      const dir = join(outDir, folder);
      const expected = folder.endsWith('/values')
        ? readdirSync(dir).filter((f) => f !== 'kustomization.yaml').length
        : readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').length;
      expect({ folder, objects: built[folder] }).toStrictEqual({ folder, objects: expected });
    }
    expect(folders.length).toBeGreaterThanOrEqual(20);
  });

  it('makes `siteforge validate --output` fail on a hand-edited object, naming the file, object and path', async () => {
    const file = join(outDir, 'demo/all-in-one/manifests/kong/deployment-kong.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 1', 'replicas: "1"'));
    const result = await runCli(['validate', '--output', outDir]);
    expect(result).toMatchObject({ code: 1, err: 'error: demo/all-in-one/manifests/kong/deployment-kong.yaml: Deployment demo-all-in-one/kong: .spec.replicas: must be number, got string "1"\n' });
  });

  it('makes `siteforge validate --output` check only the environments --site and --env select, and refuse a selection that matches none', async () => {
    // GIVEN the output with demo's Kong hand-edited
    const file = join(outDir, 'demo/all-in-one/manifests/kong/deployment-kong.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 1', 'replicas: "1"'));
    // WHEN another site's repositories are checked, THEN demo's object is not, and they are valid
    expect(await runCli(['validate', '--output', outDir, '--site', 'acme'])).toMatchObject({ code: 0, out: expect.stringMatching(/^\d+ objects in 3 environment repositories under .* valid\n$/) });
    expect(await runCli(['validate', '--output', outDir, '--site', 'acme', '--env', 'prod'])).toMatchObject({ code: 0, out: expect.stringMatching(/ in 1 environment repository under /) });
    expect(await runCli(['validate', '--output', outDir, '--env', 'all-in-one'])).toMatchObject({ code: 1, err: expect.stringContaining('demo/all-in-one/manifests/kong/deployment-kong.yaml') });
    // WHEN the selection names no repository of the folder, THEN it says so rather than check nothing
    expect(await runCli(['validate', '--output', outDir, '--site', 'acmee'])).toMatchObject({
      code: 1, err: `error: ${outDir} holds no environment repository of site acmee (did you mean "acme"?); it holds acme, blueking, choerodon, demo, koca, rainbond\n`,
    });
    expect(await runCli(['validate', '--output', outDir, '--site', 'acme', '--env', 'prd'])).toMatchObject({
      code: 1, err: `error: ${outDir} holds no environment repository acme/prd (did you mean "prod"?); acme has dev, prod, test\n`,
    });
    expect(await runCli(['validate', '--output', outDir, '--env', 'prd'])).toMatchObject({
      code: 1, err: `error: ${outDir} holds no environment repository of an environment named prd (did you mean "prod"?); the environments there are all-in-one, demo, dev, prod, runtime, single-cluster, stag, test\n`,
    });
    // AND options about the fleet, which --output does not read, are refused
    expect(await runCli(['validate', '--output', outDir, '--fleet', 'sites/index.ts'])).toMatchObject({ code: 2, err: expect.stringContaining("option '--output [dir]' cannot be used with option '--fleet <module>'") });
  });
});
