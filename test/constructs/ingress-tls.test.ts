import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import type { Construct } from 'constructs';
import { Applier, Exposure, IngressTls, IssuerRef, Site, type Environment, type KubernetesClusterProps } from '../../constructs';
import { templateContext } from '../../constructs/template-context';
import { parseYaml } from '../../constructs/yaml';
import { buildSite, problemsOf, synth } from '../../engine';
import { fleet, type SiteDefinition } from '../../sites';
import { builtinCatalog, readTree, renderWithSecrets, runCli, tempDir } from '../helpers';

const catalog = builtinCatalog();
const letsEncrypt = IngressTls.certManager({ issuer: IssuerRef.cluster('letsencrypt-prod') });

/** acme/prod on a cluster with `cluster` props: the portal (native) and Kibana (a chart), both exposed. */
function environment(cluster: KubernetesClusterProps = {}, scope: Construct = new App({ outdir: '/nonexistent' })): Environment {
  const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
  const env = site.addEnvironment('prod');
  env.addCluster(cluster);
  const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
  const redis = env.addInstance('redis', { service: catalog.service('redis') });
  env.addInstance('portal-admin', { service: catalog.service('portal-admin'), exposure: Exposure.ingress({ host: 'admin.acme.example.com' }) }).uses(mysql).uses(redis);
  const elasticsearch = env.addInstance('elasticsearch', { service: catalog.service('elasticsearch') });
  env.addInstance('kibana', { service: catalog.service('kibana'), exposure: Exposure.ingress({ host: 'kibana.acme.example.com' }) }).uses(elasticsearch);
  return env;
}

/** The environment's files, YAML ones parsed. */
function files(env: Environment): Record<string, any> {
  return Object.fromEntries(renderWithSecrets(env).map((f) => [f.path, f.path.endsWith('.yaml') ? parseYaml(f.content, f.path) : f.content]));
}

function instance(env: Environment, name: string) {
  return env.instances.find((i) => i.name === name)!;
}

describe('TLS of exposed instances', () => {
  it('is plain HTTP by default: no TLS on the Ingress, no Certificate, and http:// URLs everywhere', () => {
    // GIVEN a cluster that says nothing about TLS
    const env = environment();
    const out = files(env);
    // THEN the Ingress has no tls section and nothing asks cert-manager for a certificate
    expect(out['manifests/portal-admin/ingress-portal-admin.yaml'].spec.tls).toBeUndefined();
    expect(Object.keys(out).filter((path) => path.includes('certificate-'))).toStrictEqual([]);
    // AND the URL the app, the instances using it and the README see says http
    expect((templateContext(instance(env, 'portal-admin')).instance as any)).toMatchObject({ url: 'http://admin.acme.example.com', tls: { enabled: false, secretName: '' } });
    expect(out['manifests/portal-admin/configmap-portal-admin-config.yaml'].data['application.yml']).toContain('url: "http://admin.acme.example.com"');
    expect(out['README.md']).toContain('| mysql, redis | http://admin.acme.example.com |');
    expect(out['README.md']).toContain('No Ingress has TLS: every URL above is `http://`.');
    // AND the Ingress siteforge writes for the chart has none either
    expect(out['manifests/kibana/ingress-kibana.yaml'].spec.tls).toBeUndefined();
  });

  it('says in the README that the exposures turned TLS off, not that the cluster lacks it, when the cluster gives TLS and every exposure says none', () => {
    // GIVEN a cluster with cert-manager, whose one exposed instance says IngressTls.none()
    const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com' });
    const env = site.addEnvironment('prod');
    env.addCluster({ tls: letsEncrypt });
    env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com', tls: IngressTls.none() }) });
    // WHEN rendered, THEN the README says where TLS was turned off and how to have it
    const readme: string = files(env)['README.md'];
    expect(readme).toContain('No Ingress has TLS: every URL above is `http://`, since each exposure says `tls: IngressTls.none()` in place of the cluster\'s TLS (cert-manager); leave that out to serve them over HTTPS.');
    expect(readme).not.toContain('Give the cluster a `tls`');
  });

  it('with cert-manager, gives the native Ingress a TLS section and writes a Certificate for its host', () => {
    // GIVEN a cluster whose Ingresses get certificates from a ClusterIssuer
    const out = files(environment({ tls: letsEncrypt }));
    // THEN the Ingress serves the Secret <instance>-tls for its host
    expect(out['manifests/portal-admin/ingress-portal-admin.yaml'].spec.tls).toStrictEqual([{ hosts: ['admin.acme.example.com'], secretName: 'portal-admin-tls' }]);
    // AND a Certificate beside it asks the issuer for that host, into that Secret
    const certificate = out['manifests/portal-admin/certificate-portal-admin.yaml'];
    expect(certificate).toMatchObject({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'portal-admin', namespace: 'acme-prod', labels: { 'app.kubernetes.io/instance': 'portal-admin' } },
      spec: {
        secretName: 'portal-admin-tls',
        dnsNames: ['admin.acme.example.com'],
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-prod' },
      },
    });
    expect(out['manifests/portal-admin/kustomization.yaml'].resources).toContain('certificate-portal-admin.yaml');
    // AND both pass the Kubernetes and cert-manager schemas, strictly
    expect(problemsOf(certificate)).toStrictEqual([]);
    expect(problemsOf(out['manifests/portal-admin/ingress-portal-admin.yaml'])).toStrictEqual([]);
    // AND the URLs say https
    expect(out['manifests/portal-admin/configmap-portal-admin-config.yaml'].data['application.yml']).toContain('url: "https://admin.acme.example.com"');
    expect(out['README.md']).toContain('| portal-admin | admin.acme.example.com | cert-manager: Certificate `portal-admin` from the ClusterIssuer `letsencrypt-prod`, in Secret `portal-admin-tls` |');
    expect(out['README.md']).toContain('- cert-manager (its cert-manager.io/v1 CRDs and controller) and the ClusterIssuer `letsencrypt-prod`');
  });

  it('with cert-manager, writes the Certificate of a chart-based instance beside the chart, and the Ingress that serves it', () => {
    const out = files(environment({ tls: letsEncrypt }));
    expect(out['manifests/kibana/certificate-kibana.yaml'].spec).toStrictEqual({
      secretName: 'kibana-tls',
      dnsNames: ['kibana.acme.example.com'],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-prod' },
    });
    expect(out['manifests/kibana/ingress-kibana.yaml'].spec.tls).toStrictEqual([{ hosts: ['kibana.acme.example.com'], secretName: 'kibana-tls' }]);
    // the chart's Application applies manifests/kibana too
    expect(out['apps/application-kibana.yaml'].spec.sources.map((s: { path?: string }) => s.path)).toContain('manifests/kibana');
  });

  it('names an Issuer in the environment\'s namespace', () => {
    const out = files(environment({ tls: IngressTls.certManager({ issuer: IssuerRef.namespaced('acme-ca') }) }));
    expect(out['manifests/portal-admin/certificate-portal-admin.yaml'].spec.issuerRef).toStrictEqual({ group: 'cert-manager.io', kind: 'Issuer', name: 'acme-ca' });
    expect(out['README.md']).toContain('the Issuer `acme-ca` in `acme-prod`');
  });

  it('with a Secret the administrators create, serves it by name and writes no Certificate', () => {
    const out = files(environment({ tls: IngressTls.secret('acme-wildcard-tls') }));
    expect(out['manifests/portal-admin/ingress-portal-admin.yaml'].spec.tls).toStrictEqual([{ hosts: ['admin.acme.example.com'], secretName: 'acme-wildcard-tls' }]);
    expect(out['manifests/kibana/ingress-kibana.yaml'].spec.tls).toStrictEqual([{ hosts: ['kibana.acme.example.com'], secretName: 'acme-wildcard-tls' }]);
    expect(Object.keys(out).filter((path) => path.includes('certificate-'))).toStrictEqual([]);
    expect(out['README.md']).toContain('- the TLS Secret `acme-wildcard-tls` in `acme-prod` (type `kubernetes.io/tls`');
    expect(out['manifests/portal-admin/configmap-portal-admin-config.yaml'].data['application.yml']).toContain('url: "https://admin.acme.example.com"');
  });

  it('lets an exposure choose otherwise than its cluster, both ways', () => {
    // GIVEN a cluster with cert-manager, and a website exposed without TLS
    const env = environment({ tls: letsEncrypt });
    env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com', tls: IngressTls.none() }) });
    // AND a cluster without TLS, and a website exposed with the customer's Secret
    const plain = environment();
    plain.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com', tls: IngressTls.secret('www-tls') }) });
    const [withTls, without] = [files(env), files(plain)];
    // THEN each website follows its exposure, and the other instances their cluster
    expect(withTls['manifests/website/ingress-website.yaml'].spec.tls).toBeUndefined();
    expect(withTls['manifests/website/certificate-website.yaml']).toBeUndefined();
    expect(instance(env, 'website').url).toBe('http://www.acme.example.com');
    expect(instance(env, 'portal-admin').url).toBe('https://admin.acme.example.com');
    expect(without['manifests/website/ingress-website.yaml'].spec.tls).toStrictEqual([{ hosts: ['www.acme.example.com'], secretName: 'www-tls' }]);
    expect(instance(plain, 'website').url).toBe('https://www.acme.example.com');
    expect(instance(plain, 'portal-admin').url).toBe('http://admin.acme.example.com');
  });

  it('makes Harbor, GitLab and Grafana say https only when their Ingress has TLS', () => {
    // GIVEN the DevOps tools and Grafana exposed, once with cert-manager and once without TLS
    const build = (tls?: IngressTls) => {
      const env = environment({ tls });
      env.addServiceGroup(catalog.group('devops'), {
        instances: {
          gitlab: { exposure: Exposure.ingress({ host: 'gitlab.acme.example.com' }) },
          harbor: { exposure: Exposure.ingress({ host: 'harbor.acme.example.com' }) },
        },
      });
      env.addServiceGroup(catalog.group('observability'), { instances: { grafana: { exposure: Exposure.ingress({ host: 'grafana.acme.example.com' }) } } });
      return files(env);
    };
    const [https, http] = [build(letsEncrypt), build()];
    // THEN with TLS each chart serves its instance's Secret and its URLs say https
    expect(https['values/harbor.yaml']).toMatchObject({ expose: { type: 'clusterIP', tls: { enabled: false }, clusterIP: { name: 'harbor' } }, externalURL: 'https://harbor.acme.example.com' });
    expect(https['manifests/harbor/ingress-harbor.yaml'].spec).toMatchObject({
      rules: [{ host: 'harbor.acme.example.com', http: { paths: [{ backend: { service: { name: 'harbor', port: { number: 80 } } }, path: '/' }] } }],
      tls: [{ hosts: ['harbor.acme.example.com'], secretName: 'harbor-tls' }],
    });
    // (image layers pass the ingress controller whatever their size)
    expect(https['manifests/harbor/ingress-harbor.yaml'].metadata.annotations).toStrictEqual({ 'ingress.kubernetes.io/proxy-body-size': '0', 'nginx.ingress.kubernetes.io/proxy-body-size': '0' });
    // (and Harbor's registry sends pushes on by relative URLs: its nginx proxy tells it the scheme is
    // http, its own, so absolute upload URLs would leave the https of the Ingress)
    expect(https['values/harbor.yaml'].registry.relativeurls).toBe(true);
    expect(https['values/gitlab.yaml'].global).toMatchObject({ hosts: { https: true }, ingress: { configureCertmanager: false, tls: { enabled: true } } });
    expect(https['values/gitlab.yaml'].gitlab.webservice.ingress).toStrictEqual({ tls: { secretName: 'gitlab-tls' } });
    expect(https['values/grafana.yaml']['grafana.ini'].server.root_url).toBe('https://grafana.acme.example.com');
    expect(https['manifests/grafana/ingress-grafana.yaml'].spec.tls).toStrictEqual([{ hosts: ['grafana.acme.example.com'], secretName: 'grafana-tls' }]);
    expect(['gitlab', 'harbor', 'grafana'].map((name) => https[`manifests/${name}/certificate-${name}.yaml`]?.spec.secretName)).toStrictEqual(['gitlab-tls', 'harbor-tls', 'grafana-tls']);
    // AND without TLS none has TLS, none redirects to https, and every URL says http
    expect(http['values/harbor.yaml'].expose.tls).toStrictEqual({ enabled: false });
    expect(http['manifests/harbor/ingress-harbor.yaml'].spec.tls).toBeUndefined();
    expect(http['values/harbor.yaml'].externalURL).toBe('http://harbor.acme.example.com');
    expect(http['values/gitlab.yaml'].global).toMatchObject({ hosts: { https: false }, ingress: { tls: { enabled: false } } });
    expect(http['values/gitlab.yaml'].gitlab.webservice.ingress).toBeUndefined();
    expect(http['values/grafana.yaml']['grafana.ini'].server.root_url).toBe('http://grafana.acme.example.com');
    expect(http['manifests/grafana/ingress-grafana.yaml'].spec.tls).toBeUndefined();
    expect(Object.keys(http).filter((path) => path.includes('certificate-'))).toStrictEqual([]);
  });

  it('gives instances using an exposed one its URL with the right scheme', () => {
    // GIVEN a Choerodon service using GitLab (GITLAB_URL is GitLab's url)
    const build = (tls?: IngressTls) => {
      const env = environment({ tls });
      const gitlab = env.addInstance('gitlab', { service: catalog.service('gitlab'), exposure: Exposure.ingress({ host: 'gitlab.acme.example.com' }) });
      env.addInstance('gitlab-service', { service: catalog.service('choerodon-gitlab-service') }).uses(instance(env, 'mysql')).uses(instance(env, 'redis')).uses(gitlab);
      const deployment = files(env)['manifests/gitlab-service/deployment-gitlab-service.yaml'];
      return deployment.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'GITLAB_URL').value;
    };
    expect([build(letsEncrypt), build()]).toStrictEqual(['https://gitlab.acme.example.com', 'http://gitlab.acme.example.com']);
  });
});

describe('the example fleet', () => {
  it('says https in an exposed instance\'s URL exactly when its Ingress serves a certificate for it', () => {
    // GIVEN every environment of the example fleet, rendered
    const wrong: string[] = [];
    for (const env of fleet.flatMap((definition) => buildSite(definition, catalog).environments)) {
      const out = files(env);
      const where = (what: string) => wrong.push(`${env.node.path}: ${what}`);
      // THEN a native Ingress has TLS for its host exactly where the README's URL says https
      for (const [path, ingress] of Object.entries(out).filter(([p]) => /^manifests\/[^/]+\/ingress-/.test(p))) {
        const host = ingress.spec.rules[0].host as string;
        const tls = (ingress.spec.tls ?? []).some((t: { hosts: string[]; secretName?: string }) => t.hosts.includes(host) && t.secretName);
        if (!out['README.md'].includes(`| ${tls ? 'https' : 'http'}://${host} |`)) where(`${path} has ${tls ? '' : 'no '}TLS, its README URL says otherwise`);
      }
      // AND a chart whose URLs say https names the Secret its Ingress serves (not the chart's self-signed certificate)
      const gitlab = out['values/gitlab.yaml'];
      if (gitlab?.global.hosts.https && !gitlab.gitlab.webservice.ingress?.tls?.secretName) where('gitlab says https with no TLS Secret');
      // AND the URLs of charts whose Ingress siteforge writes say what it serves
      const served = (instance: string) => Boolean(out[`manifests/${instance}/ingress-${instance}.yaml`]?.spec.tls);
      const harbor = out['values/harbor.yaml'];
      if (harbor && harbor.externalURL.startsWith('https://') !== served('harbor')) where('harbor\'s externalURL and its Ingress TLS disagree');
      const grafana = out['values/grafana.yaml'];
      if (grafana && grafana['grafana.ini'].server.root_url.startsWith('https://') !== served('grafana')) where('grafana\'s root_url and its Ingress TLS disagree');
    }
    expect(wrong).toStrictEqual([]);
  });
});

describe('the Ingress siteforge writes for a chart whose own Kubernetes no longer serves', () => {
  it('routes the host to the Service named after the instance, on its first port, as networking.k8s.io/v1, and the values set up none', () => {
    // GIVEN Kibana, whose chart writes its Ingress as extensions/v1beta1 (gone since Kubernetes 1.22), exposed with cert-manager
    const out = files(environment({ tls: letsEncrypt }));
    // THEN siteforge writes the Ingress beside the chart, valid for Kubernetes 1.28
    const ingress = out['manifests/kibana/ingress-kibana.yaml'];
    expect(ingress).toStrictEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'kibana',
        namespace: 'acme-prod',
        labels: { 'app.kubernetes.io/instance': 'kibana', 'app.kubernetes.io/managed-by': 'siteforge', 'app.kubernetes.io/name': 'kibana', 'app.kubernetes.io/part-of': 'acme', 'app.kubernetes.io/version': '7.8.1' },
      },
      spec: {
        ingressClassName: 'nginx',
        rules: [{ host: 'kibana.acme.example.com', http: { paths: [{ backend: { service: { name: 'kibana', port: { number: 5601 } } }, path: '/', pathType: 'Prefix' }] } }],
        tls: [{ hosts: ['kibana.acme.example.com'], secretName: 'kibana-tls' }],
      },
    });
    expect(problemsOf(ingress)).toStrictEqual([]);
    expect(out['manifests/kibana/kustomization.yaml'].resources).toStrictEqual(['certificate-kibana.yaml', 'ingress-kibana.yaml']);
    // AND the chart makes none of its own, and its Application applies the folder
    expect(out['values/kibana.yaml'].ingress).toStrictEqual({ enabled: false });
    expect(out['apps/application-kibana.yaml'].spec.sources.map((s: { path?: string }) => s.path)).toContain('manifests/kibana');
  });

  it('comes with the HelmRelease under Flux, carries the annotations the catalog gives it, and is not written for an instance not exposed', () => {
    const kibana = catalog.service('kibana');
    const annotated = { ...kibana, helm: { ...kibana.helm!, siteforgeIngress: { annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '0' } } } };
    const env = environment({ applier: Applier.flux() });
    env.addInstance('logs', { service: annotated, exposure: Exposure.ingress({ host: 'logs.acme.example.com' }) }).uses(instance(env, 'elasticsearch'));
    env.addInstance('hidden', { service: kibana }).uses(instance(env, 'elasticsearch'));
    const out = files(env);
    expect(out['apps/releases/kibana/kustomization.yaml'].resources).toStrictEqual(['helmrelease-kibana.yaml', '../../../manifests/kibana']);
    expect(out['manifests/logs/ingress-logs.yaml'].metadata.annotations).toStrictEqual({ 'nginx.ingress.kubernetes.io/proxy-body-size': '0' });
    expect(out['manifests/kibana/ingress-kibana.yaml'].metadata.annotations).toBeUndefined();
    expect(Object.keys(out).filter((path) => path.startsWith('manifests/hidden/'))).toStrictEqual([]);
    expect(out['values/hidden.yaml'].ingress).toStrictEqual({ enabled: false });
  });
});

describe('the Ingress siteforge writes for a chart, on a cluster Flux reaches remotely', () => {
  it('goes to the cluster through the kubeconfig with its Certificate, after the release, apart from the HelmRelease', () => {
    // GIVEN Kibana exposed with cert-manager on a cluster other than Flux's own
    const env = environment({ applier: Applier.flux(), apiServer: 'https://k8s-prod.acme.internal:6443', tls: letsEncrypt });
    const out = files(env);
    // THEN the Ingress and the Certificate are applied by a Kustomization of their own, through the kubeconfig
    expect(out['apps/kustomization-kibana-manifests.yaml'].spec).toMatchObject({
      dependsOn: [{ name: 'acme-prod-kibana' }],
      path: './manifests/kibana',
      kubeConfig: { secretRef: { name: 'acme-prod-kubeconfig' } },
    });
    expect(out['manifests/kibana/kustomization.yaml'].resources).toStrictEqual(['certificate-kibana.yaml', 'ingress-kibana.yaml']);
    // AND the release's own Kustomization, on Flux's cluster, applies the HelmRelease alone
    expect(out['apps/releases/kibana/kustomization.yaml'].resources).toStrictEqual(['helmrelease-kibana.yaml']);
    expect(out['apps/kustomization.yaml'].resources).toContain('kustomization-kibana-manifests.yaml');
  });
});

describe('exposures siteforge refuses for a chart whose Ingress it writes', () => {
  it('refuses a path other than the root, which the chart does not serve under', () => {
    // GIVEN Kibana, whose Ingress siteforge writes, asked for a path on a host it shares
    const env = environment();
    const elasticsearch = instance(env, 'elasticsearch');
    const expose = (name: string, host: string, path: string) => env.addInstance(name, { service: catalog.service('kibana'), exposure: Exposure.ingress({ host, path }) }).uses(elasticsearch);
    // THEN the path is refused, naming the instance and what to do, and a host of its own is accepted
    expect(() => expose('logs', 'admin.acme.example.com', '/kibana')).toThrow('acme/prod/logs: exposure path must be "/" for kibana, whose chart serves at the root alone (siteforge writes its Ingress, helm.ingress), got "/kibana"; leave path out and give the instance a host of its own');
    expect(() => expose('logs2', 'logs.acme.example.com', '/')).not.toThrow();
  });
});

describe('TLS choices siteforge refuses', () => {
  it('refuses an issuer name that is not a Kubernetes name, naming the cluster', () => {
    expect(() => environment({ tls: IngressTls.certManager({ issuer: IssuerRef.cluster('Lets Encrypt') }) })).toThrow(
      'acme/prod/cluster: tls names the ClusterIssuer "Lets Encrypt", whose name must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-"; give the name `kubectl get clusterissuers` lists',
    );
  });

  it('refuses a Secret name that is not a Kubernetes name on an exposure, naming the instance', () => {
    const env = environment();
    expect(() => env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ tls: IngressTls.secret('wildcard_tls') }) })).toThrow(
      'acme/prod/website: exposure tls names the Secret "wildcard_tls", whose name must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-"; give the name of the TLS Secret in the environment\'s namespace',
    );
  });

  it('refuses cert-manager without an issuer, and anything but an IngressTls (plain JavaScript)', () => {
    expect(() => environment({ tls: IngressTls.certManager({} as never) })).toThrow(
      'acme/prod/cluster: tls needs an issuer: IngressTls.certManager({ issuer: IssuerRef.cluster(name) }) or IssuerRef.namespaced(name), got undefined',
    );
    expect(() => environment({ tls: 'letsencrypt-prod' as never })).toThrow(
      'acme/prod/cluster: tls must be IngressTls.certManager({ issuer }), IngressTls.secret(name[, { certificate, privateKey }]) or IngressTls.none(), got "letsencrypt-prod"',
    );
  });

  it('refuses TLS on one path of a host and plain HTTP on another', () => {
    // GIVEN two instances on one host, one exposed without TLS on a cluster with cert-manager
    const env = environment({ tls: letsEncrypt });
    env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'admin.acme.example.com', path: '/www', tls: IngressTls.none() }) });
    // THEN validation names the instance and what to change
    expect(env.node.validate()).toStrictEqual([
      'acme/prod/website: exposed on admin.acme.example.com as portal-admin is, but portal-admin\'s Ingress has TLS and website\'s has none (plain HTTP); give both the same tls',
    ]);
  });

  it('refuses an instance exposed on a host another instance\'s chart serves, and a further host too long for DNS', () => {
    // GIVEN GitLab exposed on git.acme.example.com: its chart serves its MinIO on minio-git.acme.example.com
    const env = environment({ tls: letsEncrypt });
    const gitlab = env.addInstance('gitlab', { service: catalog.service('gitlab'), exposure: Exposure.ingress({ host: 'git.acme.example.com' }) });
    expect(gitlab.extraHosts).toStrictEqual({ minio: 'minio-git.acme.example.com' });
    expect(gitlab.ingressHosts).toStrictEqual(['git.acme.example.com', 'minio-git.acme.example.com']);
    // AND its Certificate names both, and the README tells whoever sets up DNS
    const out = files(env);
    expect(out['manifests/gitlab/certificate-gitlab.yaml'].spec.dnsNames).toStrictEqual(['git.acme.example.com', 'minio-git.acme.example.com']);
    expect(out['README.md']).toContain('| https://git.acme.example.com (and minio-git.acme.example.com) |');
    // WHEN a website is exposed on that host THEN validation names both and what to change
    env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'minio-git.acme.example.com' }) });
    expect(env.node.validate()).toStrictEqual([
      'acme/prod/website: exposed on minio-git.acme.example.com, which gitlab\'s chart serves too (gitlab\'s further hosts are <name>-<first label of its host>); give one another host',
    ]);
    // AND a host whose first label leaves no room for the prefix is refused where the instance is added
    const label = 'g'.repeat(60);
    expect(() => environment().addInstance('gitlab', { service: catalog.service('gitlab'), exposure: Exposure.ingress({ host: `${label}.acme.example.com` }) }))
      .toThrow(`acme/prod/gitlab: the host gitlab's chart serves as minio, minio-${label}.acme.example.com, `);
  });

  it('refuses TLS for a chart whose values set up none', () => {
    // GIVEN Kibana from a catalog whose values set up the chart's Ingress but never read instance.tls
    const env = environment({ tls: letsEncrypt });
    const kibana = catalog.service('kibana');
    const noTls = { ...kibana, helm: { ...kibana.helm!, ingress: true, siteforgeIngress: undefined, tls: false } };
    const legacy = env.addInstance('legacy-kibana', { service: noTls, exposure: Exposure.ingress({ host: 'logs.acme.example.com' }) }).uses(instance(env, 'elasticsearch'));
    // THEN it is refused, and accepted exposed without TLS
    expect(legacy.node.validate()).toStrictEqual([
      'acme/prod/legacy-kibana: kibana\'s Helm values set up no TLS (they never read instance.tls), but its cluster (acme/prod/cluster) gives its Ingress TLS; expose it with tls: IngressTls.none()',
    ]);
    const plain = env.addInstance('plain-kibana', { service: noTls, exposure: Exposure.ingress({ host: 'logs2.acme.example.com', tls: IngressTls.none() }) }).uses(instance(env, 'elasticsearch'));
    expect(plain.node.validate()).toStrictEqual([]);
  });
});

describe('an environment with TLS, synthesized', () => {
  const definition: SiteDefinition = { name: 'acme', build: (scope) => Site.of(environment({ tls: letsEncrypt }, scope)) };

  it('passes siteforge validate, and its folders build with the real kubectl kustomize', async () => {
    // GIVEN the environment written by synth
    const outDir = tempDir();
    await synth({ fleet: [definition], catalog, outDir });
    expect(Object.keys(readTree(outDir))).toEqual(expect.arrayContaining(['acme/prod/manifests/portal-admin/certificate-portal-admin.yaml', 'acme/prod/manifests/kibana/certificate-kibana.yaml']));
    // THEN `siteforge validate --output` finds every object valid
    expect(await runCli(['validate', '--output', outDir])).toMatchObject({ code: 0 });
    if (!hasKubectl()) return;
    // AND kubectl builds the native instance's folder and the one beside the chart, Certificates included
    const kinds = (folder: string) => execFileSync('kubectl', ['kustomize', join(outDir, 'acme/prod/manifests', folder)], { encoding: 'utf8' })
      .split('\n').filter((l) => l.startsWith('kind: ')).map((l) => l.slice(6)).sort();
    expect(kinds('portal-admin')).toStrictEqual(['Certificate', 'ConfigMap', 'ConfigMap', 'Deployment', 'Ingress', 'Service', 'ServiceMonitor']);
    expect(kinds('kibana')).toStrictEqual(['Certificate', 'Ingress']);
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return process.env.CI === 'true' ? (() => { throw new Error('kubectl is required in CI'); })() : false;
  }
}
