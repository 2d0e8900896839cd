import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import {
  Applier, Exposure, gitBranchProblem, IngressTls, IssuerRef, Placement, Secret, SecretBackend, SecretStoreRef, Site, UserError, type Environment,
} from '../constructs';
import { toYaml } from '../constructs/yaml';
import { compileTemplate } from '../catalog/templates';
import { catastrophicBacktrackingProblem } from '../catalog/regex-safety';
import { synth } from '../engine';
import { INDEX_FILE } from '../engine/output-index';
import type { SiteDefinition } from '../sites';
import { builtinCatalog, catalogCopy, mtimes, readTree, runCli, tempDir } from './helpers';

/*
 * Every bad input siteforge refuses, with the exact message and proof that nothing under the
 * output folder changed. README "What siteforge refuses, and why" explains the rules.
 */

const catalog = builtinCatalog();
const onceDirs: string[] = [];
const RFC1123 = 'must be an RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';

/** The site every case starts from: acme/prod on a cluster with MySQL, Redis and the portal, and a VM host group. */
function acme(change: (env: Environment, site: Site) => void = () => {}, siteName = 'acme', siteProps: Partial<ConstructorParameters<typeof Site>[2]> = {}): SiteDefinition {
  return {
    name: siteName,
    build(scope: Construct) {
      const site = new Site(scope, siteName, { domain: 'acme.example.com', ...siteProps });
      const env = site.addEnvironment('prod');
      env.addCluster();
      env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
      const mysql = env.addInstance('mysql', { service: catalog.service('mysql') });
      const redis = env.addInstance('redis', { service: catalog.service('redis') });
      env.addInstance('portal-admin', { service: catalog.service('portal-admin'), exposure: Exposure.ingress() }).uses(mysql).uses(redis);
      change(env, site);
      return site;
    },
  };
}

/** An environment built with `change` instead of the defaults. */
function envSite(change: (env: Environment) => void, envName = 'prod'): SiteDefinition {
  return {
    name: 'acme',
    build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
      const env = site.addEnvironment(envName);
      env.addCluster();
      change(env);
      return site;
    },
  };
}

interface SiteCase {
  readonly input: string;
  readonly fleet: () => SiteDefinition[];
  readonly message: string;
  /** Environment variables during the synth; undefined unsets one. */
  readonly variables?: Record<string, string | undefined>;
}

const BAD_NAMES: readonly [string, string][] = [
  ['../x', RFC1123], ['a/b', RFC1123], ['/etc', RFC1123], ['', 'must not be empty'], ['Upper', RFC1123],
  ['\u0430cme', RFC1123] /* Cyrillic а */, ['my sql', RFC1123], [' x', RFC1123], ['x\n', RFC1123], ['a'.repeat(64), 'must be at most 63 characters (this one has 64)'],
];
const shown = (name: string) => JSON.stringify(name).slice(1, -1);

const nameCases: SiteCase[] = BAD_NAMES.flatMap(([name, rule]): SiteCase[] => [
  {
    input: `site name ${JSON.stringify(name)}`,
    fleet: () => [acme(() => {}, name)],
    message: `${shown(name) || '(unnamed)'}: site name ${rule}, got ${JSON.stringify(name)}`,
  },
  {
    input: `environment name ${JSON.stringify(name)}`,
    fleet: () => [envSite(() => {}, name)],
    message: `acme/${shown(name)}: environment name ${rule}, got ${JSON.stringify(name)}`,
  },
  {
    input: `instance name ${JSON.stringify(name)}`,
    fleet: () => [acme((env) => env.addInstance(name, { service: catalog.service('redis') }))],
    message: `acme/prod/${shown(name)}: instance name ${rule}, got ${JSON.stringify(name)}`,
  },
  {
    input: `host name ${JSON.stringify(name)}`,
    fleet: () => [acme((env) => env.addHostGroup('app', { hosts: [{ name, address: '10.0.0.12', roles: ['app'] }] }))],
    message: `acme/prod/app/${shown(name)}: host name ${rule}, got ${JSON.stringify(name)}`,
  },
]);

/** acme/prod built with `props` for the environment. */
function envWith(props: Record<string, unknown>): SiteDefinition {
  return { name: 'acme', build(scope: Construct) {
    const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
    site.addEnvironment('prod', props as never).addCluster();
    return site;
  } };
}
const GROUP_RULE = 'must be group or user names such as ops or acme/platform-team (one word, no control characters, not starting with "#" or the "@" siteforge adds)';
const ADDRESS_RULE = "address must be an IP address or DNS name (no port: Ansible's port is set apart)";

const modelCases: SiteCase[] = [
  {
    input: 'an instance name starting with a digit',
    fleet: () => [acme((env) => env.addInstance('9front', { service: catalog.service('koca-website') }))],
    message: 'acme/prod/9front: instance name must start with a letter (it names the instance\'s Kubernetes Service), got "9front"',
  },
  {
    input: 'an instance name too long for a StatefulSet',
    fleet: () => [acme((env) => env.addInstance(`zk-${'a'.repeat(50)}`, { service: catalog.service('zookeeper') }))],
    message: `acme/prod/zk-${'a'.repeat(50)}: instance name must be at most 52 characters, as it names a StatefulSet (Kubernetes labels its pods with the name and a hash, at most 63 characters together), got 53`,
  },
  {
    input: 'a site owner with a space',
    fleet: () => [acme(() => {}, 'acme', { owners: ['ops', 'a b'] })],
    message: `acme: owners ${GROUP_RULE}, got "a b"`,
  },
  {
    input: 'an environment owner with a line break',
    fleet: () => [envWith({ owners: ['@x\nfoo'] })],
    message: `acme/prod: owners ${GROUP_RULE}, got "@x\\nfoo"`,
  },
  {
    input: 'an empty member',
    fleet: () => [envWith({ members: [''] })],
    message: `acme/prod: members ${GROUP_RULE}, got ""`,
  },
  {
    input: 'two instances exposed on one host and path',
    fleet: () => [acme((env) => {
      env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com' }) });
      env.addInstance('www', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com' }) });
    })],
    message: 'acme/prod/www: exposed on www.acme.example.com/, as website is; give one another host or path',
  },
  {
    input: 'a chart-based instance name longer than a Helm release name',
    fleet: () => [acme((env) => env.addInstance(`kibana-${'a'.repeat(47)}`, { service: catalog.service('kibana'), withDependencies: true }))],
    message: `acme/prod/kibana-${'a'.repeat(47)}: instance name must be at most 53 characters, as it names a Helm release (Helm refuses a longer one, so the chart would never install), got 54`,
  },
  {
    input: 'an exposure host that is an IP address',
    fleet: () => [acme((env) => env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: '192.168.10.20' }) }))],
    message: 'acme/prod/website: exposure host must be a DNS name, not an IP address, got "192.168.10.20": Kubernetes refuses an Ingress rule for an IP; give a name that resolves to the ingress controller, such as website.acme.example.com',
  },
  {
    input: 'a secret store name that is not a Kubernetes name',
    fleet: () => [{ name: 'acme', build: (scope: Construct) => new Site(scope, 'acme', { domain: 'acme.example.com', secrets: SecretBackend.externalSecrets({ store: SecretStoreRef.cluster('Bad Store Name!') }) }) }],
    message: 'site acme: the ClusterSecretStore name must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-", got "Bad Store Name!" (at hardening.test.ts)',
  },
  {
    input: 'a cert-manager issuer name that is not a Kubernetes name',
    fleet: () => [{ name: 'acme', build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com' });
      site.addEnvironment('prod').addCluster({ tls: IngressTls.certManager({ issuer: IssuerRef.cluster('Lets Encrypt') }) });
      return site;
    } }],
    message: 'acme/prod/cluster: tls names the ClusterIssuer "Lets Encrypt", whose name must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-"; give the name `kubectl get clusterissuers` lists',
  },
  {
    input: 'a TLS Secret name that is not a Kubernetes name',
    fleet: () => [acme((env) => env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ tls: IngressTls.secret('../wildcard') }) }))],
    message: 'acme/prod/website: exposure tls names the Secret "../wildcard", whose name must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-"; give the name of the TLS Secret in the environment\'s namespace',
  },
  {
    input: 'TLS on one path of a host and plain HTTP on another',
    fleet: () => [acme((env) => env.addInstance('website', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'portal-admin.acme.example.com', path: '/www', tls: IngressTls.secret('www-tls') }) }))],
    message: 'acme/prod/website: exposed on portal-admin.acme.example.com as portal-admin is, but website\'s Ingress has TLS and portal-admin\'s has none (plain HTTP); give both the same tls',
  },
  {
    input: 'a zone given as a string',
    fleet: () => [envWith({ zone: 'dev' })],
    message: 'acme/prod: zone must be Zone.DEV or Zone.RUNTIME, got "dev"',
  },
  ...['10.0.0.12:2222', '-oProxyCommand=x', 'db .example.com', 'db-.example.com'].map((address): SiteCase => ({
    input: `the host address ${JSON.stringify(address)}`,
    fleet: () => [acme((env) => env.addHostGroup('app', { hosts: [{ name: 'app1', address, roles: ['app'] }] }))],
    message: `acme/prod/app/app1: ${ADDRESS_RULE}, got ${JSON.stringify(address)}`,
  })),
  {
    input: 'two host groups listing one machine, with instances binding one port on it',
    fleet: () => [acme((env) => {
      env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }) });
      const more = env.addHostGroup('more', { hosts: [{ name: 'db2', address: '10.0.0.11', roles: ['db'] }] });
      env.addInstance('vmdb2', { service: catalog.service('mysql'), placement: Placement.vm({ group: more }) });
    })],
    message: 'acme/prod/more: port 3306 on 10.0.0.11 is bound by both vmdb (host db1) and vmdb2 (host db2), one machine under two names; give the hosts their own addresses, or place one instance on other hosts',
  },
  {
    input: 'two instances named mysql',
    fleet: () => [acme((env) => env.addInstance('mysql', { service: catalog.service('mysql') }))],
    message: 'acme/prod/mysql: acme/prod already has an instance or host group named "mysql"; give each its own name',
  },
  {
    input: 'two environments whose Argo CD Applications would have one name',
    fleet: () => [acme((env, site) => {
      // acme/prod's instance web-eureka and acme/prod-web's instance eureka: both acme-prod-web-eureka
      env.addInstance('web-eureka', { service: catalog.service('redis') });
      const other = site.addEnvironment('prod-web');
      other.addCluster();
      other.addInstance('eureka', { service: catalog.service('redis') });
    })],
    message: 'acme: environments prod and prod-web would both make Application argocd/acme-prod-web-eureka (for acme/prod/web-eureka and for acme/prod-web/eureka), and one Argo CD would hand it back and forth between them; rename one of the environments or instances (Argo CD objects are named <site>-<env>-<name>)',
  },
  {
    input: 'a host listed twice in a group',
    fleet: () => [acme((env) => env.addHostGroup('app', { hosts: [{ name: 'app1', address: '10.0.0.12', roles: ['app'] }, { name: 'app1', address: '10.0.0.13', roles: ['app'] }] }))],
    message: 'acme/prod/app/app1: host "app1" is listed twice; remove one or rename it',
  },
  {
    input: 'the same host in two groups',
    fleet: () => [acme((env) => env.addHostGroup('app', { hosts: [{ name: 'db1', address: '10.0.0.12', roles: ['app'] }] }))],
    message: 'acme/prod/app/db1: host "db1" is also in acme/prod/db; host names are unique in the environment',
  },
  {
    input: 'a host named like an instance',
    fleet: () => [acme((env) => env.addHostGroup('app', { hosts: [{ name: 'redis', address: '10.0.0.12', roles: ['app'] }] }))],
    message: 'acme/prod/app/redis: host "redis" has the name of an instance or host group of acme/prod; Ansible would mix up the host and the group: rename the host',
  },
  {
    input: 'an instance name reserved for a folder',
    fleet: () => [acme((env) => env.addInstance('secrets', { service: catalog.service('redis') }))],
    message: 'acme/prod/secrets: instance name "secrets" is reserved; choose another name',
  },
  {
    input: 'a missing dependency',
    fleet: () => [envSite((env) => env.addInstance('admin', { service: catalog.service('portal-admin') }).uses(env.addInstance('redis', { service: catalog.service('redis') })))],
    message: 'acme/prod/admin: portal-admin depends on mysql, but admin uses no mysql instance; add one to acme/prod and call admin.uses(it), or set withDependencies: true',
  },
  {
    input: 'a dependency cycle',
    fleet: () => [envSite((env) => {
      const a = env.addInstance('a', { service: catalog.service('redis') });
      const b = env.addInstance('b', { service: catalog.service('redis') });
      const c = env.addInstance('c', { service: catalog.service('redis') });
      a.uses(b);
      b.uses(c);
      c.uses(a);
    })],
    message: 'acme/prod: dependency cycle: a -> b -> c -> a; remove one of these uses()',
  },
  {
    input: 'settings of the wrong type',
    fleet: () => [envSite((env) => env.addInstance('mysql', { service: catalog.service('mysql'), settings: { maxConnections: '500' } }))],
    message: 'acme/prod/mysql: settings/maxConnections must be an integer, got "500"',
  },
  {
    input: 'a chart mirror that is not http(s) or oci',
    fleet: () => [acme(() => {}, 'acme', { chartMirror: 'file:///srv/charts' })],
    message: 'acme: chartMirror must be an https://, http:// or oci:// URL (an oci:// path in lower case: OCI repository names have no upper-case letters or ~), got "file:///srv/charts"',
  },
  ...['--upload-pack=touch /tmp/pwned', 'ext::sh -c touch% /tmp/pwned', '-oProxyCommand=touch@host:{site}', 'ssh://-oProxyCommand=x/{site}', 'ssh://git@-host/{site}', 'https://user:password@git.acme.example.com/{site}-{env}.git'].map((gitRemote): SiteCase => ({
    input: `git remote ${JSON.stringify(gitRemote)}`,
    fleet: () => [acme(() => {}, 'acme', { gitRemote })],
    // A password is not shown.
    message: `acme: gitRemote must be an https://, http://, ssh://, git://, file:// or user@host:path URL (with {site} and {env} placeholders; no password in it), got ${JSON.stringify(gitRemote.replace(':password@', ':***@'))}`,
  })),
  ...['git://git.acme.example.com/{site}-{env}.git', 'file:///srv/git/{site}-{env}.git'].map((gitRemote): SiteCase => ({
    input: `a Flux environment with git remote ${JSON.stringify(gitRemote)}`,
    fleet: () => [{ name: 'acme', build(scope: Construct) {
      const site = new Site(scope, 'acme', { domain: 'acme.example.com', gitRemote });
      site.addEnvironment('prod').addCluster({ applier: Applier.flux() });
      return site;
    } }],
    message: `acme/prod: Flux cannot fetch the environment repository ${JSON.stringify(gitRemote.replace('{site}-{env}', 'acme-prod'))} (a GitRepository takes only https://, http:// and ssh:// URLs); set the site's gitRemote to an https://, ssh:// or user@host:path URL`,
  })),
  {
    input: 'two environments that would publish to one repository',
    fleet: () => [
      acme((_env, site) => site.addEnvironment('x-prod').addCluster(), 'acme', { gitRemote: 'file:///srv/git/{site}-{env}.git' }),
      acme(() => {}, 'acme-x', { gitRemote: 'file:///srv/git/{site}-{env}.git' }),
    ],
    message: 'acme/x-prod and acme-x/prod would publish to the same repository, file:///srv/git/acme-x-prod.git, each replacing the other\'s files: rename a site or an environment, or give gitRemote a template that keeps them apart',
  },
  {
    input: 'environments of two sites in one namespace of one cluster',
    fleet: () => ['acme', 'beta'].map((name): SiteDefinition => ({ name, build(scope: Construct) {
      const site = new Site(scope, name, { domain: `${name}.example.com` });
      site.addEnvironment('prod').addCluster({ apiServer: 'https://k8s.shared.example.com:6443', namespace: 'shop' });
      return site;
    } })),
    message: 'acme/prod and beta/prod would both use namespace shop on the cluster https://k8s.shared.example.com:6443, and each would prune the other\'s objects there; give one of them another namespace (addCluster({ namespace })), or rename a site or an environment (the namespace is <site>-<env> by default)',
  },
  {
    input: 'environments of two sites that would make one Argo CD object in one cluster',
    fleet: () => [['acme', 'x-prod'], ['acme-x', 'prod']].map(([name, env]): SiteDefinition => ({ name, build(scope: Construct) {
      const site = new Site(scope, name, { domain: `${name}.example.com`, gitRemote: `https://git.${name}.example.com/{site}-{env}.git` });
      site.addEnvironment(env).addCluster({ apiServer: 'https://k8s.shared.example.com:6443', namespace: `${name}-ns` });
      return site;
    } })),
    message: 'acme/x-prod and acme-x/prod would both make AppProject argocd/acme-x-prod (for the project of acme/x-prod and for the project of acme-x/prod), AppProject argocd/acme-x-prod-root, Application argocd/acme-x-prod and 2 more in the Argo CD of the cluster https://k8s.shared.example.com:6443, which would hand them back and forth between the two; rename a site or an environment (Argo CD objects are named <site>-<env>[-<name>])',
  },
  {
    input: 'a plain string given as credentials',
    fleet: () => [acme((env) => env.addInstance('cache', { service: catalog.service('redis'), credentials: { 'redis-password': 'hunter2-Secret!' as never } }))],
    message: 'acme/prod/cache: credentials.redis-password must be a Secret (Secret.generated(), Secret.fromStore(...), Secret.fromEnv(...)), got a string (not shown)',
  },
  {
    input: 'an environment variable name that is not one',
    fleet: () => [acme((env) => env.addInstance('cache', { service: catalog.service('redis'), credentials: { 'redis-password': Secret.fromEnv('acme-db-password') } }))],
    message: 'site acme: Secret.fromEnv: variable must be an environment variable name such as ACME_DB_PASSWORD (upper-case letters, digits and "_"), got 16 characters that are not one (not shown, in case it is the secret itself) (at hardening.test.ts)',
  },
  {
    input: 'a credentials key the service does not have',
    fleet: () => [acme((env) => env.addInstance('cache', { service: catalog.service('redis'), credentials: { password: Secret.generated() } }))],
    message: 'acme/prod/cache: credentials has unknown key "password"; redis credentials are redis-password',
  },
  {
    input: 'a value from the environment with External Secrets',
    fleet: () => [acme((env) => env.addInstance('cache', { service: catalog.service('redis'), credentials: { 'redis-password': Secret.fromEnv('ACME_REDIS_PASSWORD') } }))],
    message: 'acme/prod/cache: credentials.redis-password is read from environment variable ACME_REDIS_PASSWORD, but ExternalSecrets read only from the store and the value must not be written in plaintext; use Secret.fromStore(...) or SecretBackend.sealedSecrets(...)',
  },
  {
    input: 'a Sealed Secrets certificate that is not PEM',
    fleet: () => [acme(() => {}, 'acme', { secrets: SecretBackend.sealedSecrets({ certificate: 'ssh-rsa AAAA' }) })],
    message: 'SecretBackend.sealedSecrets: certificate must be a PEM certificate (kubeseal --fetch-cert) or PEM public key',
  },
  {
    input: 'VM credentials without SITEFORGE_VAULT_PASSWORD',
    variables: { SITEFORGE_VAULT_PASSWORD: undefined },
    fleet: () => [acme((env) => env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }) }))],
    message: 'acme/prod/vmdb: SITEFORGE_VAULT_PASSWORD is not set; the credentials of instances on VMs are encrypted with Ansible Vault: export the vault password as SITEFORGE_VAULT_PASSWORD',
  },
  {
    input: 'an instance on the cluster using one on VMs, with External Secrets',
    fleet: () => [acme((env) => {
      const vmdb = env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }) });
      env.addInstance('website', { service: catalog.service('koca-website') }).uses(vmdb);
    })],
    message: 'acme/prod/website: uses vmdb on VMs, whose credentials are kept in its Ansible Vault, which External Secrets cannot give the cluster; use SecretBackend.sealedSecrets(...) for acme/prod (the vault\'s values are then sealed into the Secret website reads), or place vmdb on the cluster',
  },
  {
    input: 'an instance on VMs using one on the cluster',
    fleet: () => [acme((env) => env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }) }).uses(env.instances[1]))],
    message: 'acme/prod/vmdb: placed on VMs, but uses redis on Kubernetes, which VMs cannot reach (its address is a cluster DNS name and its credentials are in a Secret of the cluster); place both on VMs (Placement.vm) or both on the cluster',
  },
  {
    input: 'a vault password shorter than 8 characters',
    fleet: () => [acme((env) => env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }) }))],
    variables: { SITEFORGE_VAULT_PASSWORD: 'a' },
    message: 'acme/prod/vmdb: SITEFORGE_VAULT_PASSWORD holds 1 characters; the vault password needs at least 8',
  },
  {
    input: 'a secret from the environment shorter than 8 characters',
    fleet: () => [acme((env) => env.addInstance('vmdb', { service: catalog.service('mysql'), placement: Placement.vm({ group: env.hostGroups[0] }), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD') } }))],
    variables: { SITEFORGE_VAULT_PASSWORD: 'vault-password', ACME_DB_PASSWORD: 'abc' },
    message: 'acme/prod/vmdb: the environment variable ACME_DB_PASSWORD (credentials vmdb_mysql_password) holds 3 characters; a secret needs at least 8',
  },
  {
    input: 'a password written into a setting (route URL)',
    fleet: () => [acme((env) => env.addInstance('kong', { service: catalog.service('kong'), settings: { routes: [{ name: 'admin', url: 'http://admin:hunter22@portal-admin:8080', paths: ['/admin'] }] } }))],
    message: 'acme/prod/manifests/kong/configmap-kong-config.yaml: contains what looks like a password in a URL; remove it or reference it as a Secret',
  },
  {
    input: 'a token pasted into a setting (portal title)',
    fleet: () => [acme((env) => env.addInstance('admin2', { service: catalog.service('portal-admin'), settings: { title: `ghp_${'x'.repeat(36)}` } }).uses(env.instances[0]).uses(env.instances[1]))],
    message: 'acme/prod/manifests/admin2/configmap-admin2-config.yaml: contains what looks like a GitHub token; remove it or reference it as a Secret',
  },
];

/** Runs `act`, returning the error it throws (or undefined). */
async function errorOf(act: () => Promise<unknown>): Promise<Error | undefined> {
  try {
    await act();
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

describe('bad site definitions are refused and nothing under dist/ changes', () => {
  const outDir = tempDirOnce();
  let before: Record<string, string>;
  let times: Record<string, number>;
  beforeAll(async () => {
    await synth({ fleet: [acme()], catalog, outDir });
    before = readTree(outDir);
    times = mtimes(outDir);
  });

  for (const c of [...nameCases, ...modelCases]) {
    it(`refuses ${c.input}`, async () => {
      // GIVEN the previous output of acme; WHEN a synth meets the bad input
      const saved = { ...process.env };
      const setVariables = (values: Record<string, string | undefined>) => {
        for (const [key, value] of Object.entries(values)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      };
      setVariables(c.variables ?? {});
      const error = await errorOf(() => synth({ fleet: c.fleet(), catalog, outDir })).finally(() => {
        setVariables(Object.fromEntries(Object.keys(c.variables ?? {}).map((key) => [key, saved[key]])));
      });
      // THEN it fails with exactly this user error, and every file is as it was
      expect(error).toBeInstanceOf(UserError);
      // (where in this file a site called what failed, as the message ends, is shown as the file)
      expect(error!.message.replace(/ \(at \/.*\/hardening\.test\.ts:\d+:\d+\)$/, ' (at hardening.test.ts)')).toBe(c.message);
      expect(readTree(outDir)).toStrictEqual(before);
      expect(mtimes(outDir)).toStrictEqual(times);
    });
  }
});

interface CatalogCase {
  readonly input: string;
  readonly file: string;
  readonly change: (text: string) => string;
  readonly message: (file: string) => string;
  /** More synth options. */
  readonly args?: readonly string[];
}

const laughs = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n');

const catalogCases: CatalogCase[] = [
  { input: 'YAML aliases beyond the limit (billion laughs)', file: 'elasticsearch/service.yml', change: (t) => `${laughs}\n${t}`, message: (f) => `${f}: Excessive alias count indicates a resource exhaustion attack` },
  { input: 'a custom YAML tag', file: 'elasticsearch/service.yml', change: (t) => t.replace('description: Elasticsearch', 'description: !custom Elasticsearch'), message: (f) => `${f}:3: Unresolved tag: !custom` },
  { input: 'a language-specific YAML tag', file: 'elasticsearch/service.yml', change: (t) => t.replace('description: Elasticsearch', 'description: !!python/object Elasticsearch'), message: (f) => `${f}:3: Unresolved tag: tag:yaml.org,2002:python/object` },
  { input: 'a duplicate key', file: 'elasticsearch/service.yml', change: (t) => t.replace('category: middleware', 'category: middleware\ncategory: devops'), message: (f) => `${f}:5: Map keys must be unique` },
  { input: 'a port of the wrong type', file: 'elasticsearch/service.yml', change: (t) => t.replace('port: 9200', 'port: "9200"'), message: (f) => `${f}:8: /ports/0/port must be integer` },
  { input: 'a chart version written as a number', file: 'elasticsearch/service.yml', change: (t) => t.replace('    version: 7.8.1', '    version: 7.10'), message: (f) => `${f}:27: /helm/chart/version must be a string; write it in quotes (YAML reads an unquoted 1.10 as the number 1.1)` },
  { input: 'a chart version range', file: 'elasticsearch/service.yml', change: (t) => t.replace('    version: 7.8.1', '    version: "^7.8.1"'), message: (f) => `${f}:27: /helm/chart/version must match pattern "^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$"` },
  { input: 'an image tagged latest', file: 'elasticsearch/service.yml', change: (t) => t.replace('tag: 7.8.1', 'tag: latest'), message: (f) => `${f}:22: /images/0/tag must be an exact version, not a moving tag (latest, stable, main, master)` },
  { input: 'a malformed digest', file: 'elasticsearch/service.yml', change: (t) => t.replace('tag: 7.8.1', 'tag: 7.8.1\n    digest: sha256:1234'), message: (f) => `${f}:23: /images/0/digest must match pattern "^sha256:[a-f0-9]{64}$"` },
  { input: 'a chart repository that is not http(s) or oci', file: 'elasticsearch/service.yml', change: (t) => t.replace('https://helm.elastic.co', 'file:///srv/charts'), message: (f) => `${f}:25: /helm/chart/repository must match pattern "^(https?|oci)://[^\\s]+$"` },
  { input: 'an unknown keyword in a settings schema (ajv strict)', file: 'elasticsearch/values.schema.json', change: (t) => t.replace('"additionalProperties": false', '"additionalProperties": false, "x-ui": true'), message: (f) => `${f}: strict mode: unknown keyword: "x-ui"` },
  { input: 'a catastrophic-backtracking pattern', file: 'elasticsearch/values.schema.json', change: (t) => t.replace('"^[0-9]+[mg]$"', '"^([0-9]+)+[mg]$"'), message: (f) => `${f}: pattern "^([0-9]+)+[mg]$" at /properties/heapSize/pattern repeats a group that itself repeats (like (a+)+), which can take exponential time to match; rewrite it without nested repetition` },
  { input: '{{#if}} on a setting the schema does not have', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}{{#if settings.replicaz}}x: 1{{/if}}\n`, message: (f) => `${f}:LAST: settings.replicaz is not a setting of the service; values.schema.json has heapSize, storageSize` },
  { input: 'a missing variable', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}x: {{yaml instance.nodez}}\n`, message: (f) => `${f}:LAST: instance.nodez is not in the template context; instance has name, service, version, profile, replicas, clustered, quorum, secondaries, host, extraHosts, members, monitoring, url, tls, ingressClass, storageClass, resources` },
  { input: 'a further host the service does not declare', file: 'gitlab/values.yaml.hbs', change: (t) => `${t}x: {{yaml instance.extraHosts.kas}}\n`, message: (f) => `${f}:LAST: instance.extraHosts.kas names no host of helm.extraHosts; they are minio` },
  { input: 'a further host that is not a DNS label', file: 'gitlab/service.yml', change: (t) => t.replace('extraHosts: [minio]', 'extraHosts: [Minio]'), message: (f) => `${f}:42: /helm/extraHosts/0 must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"` },
  { input: 'a missing field inside an each block (strict mode at render)', file: 'kong/kong.yml.hbs', change: (t) => t.replace('        strip_path: false', '        strip_path: {{yaml strip}}'), message: (f) => `${f}:9: yaml: value is undefined`, args: ['--site', 'demo'] },
  { input: 'a credentials secretName that is not a Kubernetes name', file: 'redis/service.yml', change: (t) => t.replace('secretName: "{{instance.name}}-credentials"', 'secretName: "../{{instance.name}}"'), message: () => 'demo/all-in-one/redis: credentials secretName (from redis\'s connection.credentials.secretName) must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-", got "../redis"', args: ['--site', 'demo'] },
  { input: 'TLS for a chart whose values set up none', file: 'gitlab/values.yaml.hbs', change: (t) => t.replaceAll('{{yaml instance.tls.enabled}}', 'false').replace(/\{\{#if instance\.tls\.enabled\}\}[^]*?\{\{\/if\}\}\n/g, ''), message: () => '2 problems:\n  - koca/test/gitlab: gitlab\'s Helm values set up no TLS (they never read instance.tls), but its cluster (koca/test/cluster) gives its Ingress TLS; expose it with tls: IngressTls.none()\n  - koca/prod/gitlab: gitlab\'s Helm values set up no TLS (they never read instance.tls), but its cluster (koca/prod/cluster) gives its Ingress TLS; expose it with tls: IngressTls.none()', args: ['--site', 'koca'] },
  { input: 'constructor in a template', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}x: {{yaml settings.constructor}}\n`, message: (f) => `${f}:LAST: "constructor" cannot be used in a template` },
  { input: '__proto__ in a template', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}x: {{yaml __proto__.polluted}}\n`, message: (f) => `${f}:LAST: "__proto__" cannot be used in a template` },
  { input: 'an unknown helper', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}{{#lookup settings "heapSize"}}{{/lookup}}\n`, message: (f) => `${f}:LAST: unknown block helper "lookup"; use if, unless, each or with` },
  { input: 'a partial', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}{{> evil}}\n`, message: (f) => `${f}:LAST: partials are not supported` },
  { input: 'a raw value in a YAML template', file: 'elasticsearch/values.yaml.hbs', change: (t) => `${t}x: {{settings.heapSize}}\n`, message: (f) => `${f}:LAST: YAML templates insert values only as {{yaml value}}, found {{settings.heapSize}}` },
];

describe('bad catalog files are refused and nothing under dist/ changes', () => {
  const outDir = tempDirOnce();
  let before: Record<string, string>;
  beforeAll(async () => {
    expect((await runCli(['synth', '--out', outDir])).code).toBe(0);
    before = readTree(outDir);
  });

  for (const c of catalogCases) {
    it(`refuses ${c.input}, naming the file and line`, async () => {
      // GIVEN a catalog with the bad file
      const dir = catalogCopy();
      const file = join(dir, c.file);
      const text = c.change(readFileSync(file, 'utf8'));
      writeFileSync(file, text);
      // WHEN synth runs with it
      const { code, err } = await runCli(['synth', '--catalog', dir, '--out', outDir, ...(c.args ?? [])]);
      // THEN it exits 1 with exactly the message, and dist/ is as it was
      const last = text.trimEnd().split('\n').length;
      expect({ code, err }).toStrictEqual({ code: 1, err: `error: ${c.message(file).replace(':LAST:', `:${last}:`)}\n` });
      expect(readTree(outDir)).toStrictEqual(before);
    });
  }

  it('refuses to compile a template that is not text (a pre-built AST)', () => {
    const ast = { type: 'Program', body: [], strip: {} };
    expect(() => compileTemplate(ast as never, 'evil.yaml.hbs')).toThrow(new UserError('evil.yaml.hbs: a template must be text, got object'));
  });

  it.each([
    ['^(a+)+$', true], ['^(a|ab)+$', true], ['^(\\d+)*x$', true], ['^(a+a)+$', true],
    ['^(/[A-Za-z0-9._-]+)+$', false], ['^[0-9]+(\\.[0-9]+){0,3}$', false], ['^[a-z]+(-[a-z]+)*$', false],
  ])('judges %s catastrophic: %s', (pattern, unsafe) => {
    expect(catastrophicBacktrackingProblem(pattern) !== undefined).toBe(unsafe);
  });

  it('accepts every pattern of the built-in catalog and its service schema', async () => {
    const { schemaPatterns } = await import('../catalog/regex-safety');
    const { CATALOG_DIR } = await import('../catalog');
    const schemas = [JSON.parse(readFileSync(join(CATALOG_DIR, 'schema/service.schema.json'), 'utf8')), ...catalog.list().map((s) => s.settingsSchema)];
    const unsafe = schemas.flatMap((schema) => schemaPatterns(schema).filter((p) => catastrophicBacktrackingProblem(p.pattern)));
    expect(unsafe).toStrictEqual([]);
  });
});

describe('values cannot inject YAML', () => {
  it('keeps a newline and YAML indicators inside the value they belong to', async () => {
    // GIVEN a title that tries to add a key to the rendered application.yml
    const title = 'ACME\nevil: true\n- [x]: &a';
    const outDir = tempDir();
    await synth({ fleet: [acme((env) => env.addInstance('admin2', { service: catalog.service('portal-admin'), settings: { title } }).uses(env.instances[0]).uses(env.instances[1]))], catalog, outDir });
    // THEN the config file parses back with the title as one string and no extra key
    const configMap = parse(readFileSync(join(outDir, 'acme/prod/manifests/admin2/configmap-admin2-config.yaml'), 'utf8')) as { data: Record<string, string> };
    const config = parse(configMap.data['application.yml']) as Record<string, unknown>;
    expect(Object.keys(config)).toStrictEqual(['server', 'koca', 'spring', 'management', 'logging']);
    expect((config.koca as { portal: { title: string } }).portal.title).toBe(title);
  });
});

const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const AMBIGUOUS = ['yes', 'Yes', 'YES', 'no', 'on', 'On', 'off', 'y', 'Y', 'n', 'N', 'true', 'False', '~', 'null', '0777', '0o17', '0x1F', '1e3', '1_000', '12:30:00', '.5', '+1', '.inf', '.NaN', '2001-12-14'];

describe('YAML 1.1 readers read generated strings as strings', () => {
  const values: Record<string, unknown> = {
    ...Object.fromEntries(AMBIGUOUS.map((v, i) => [`v${i}`, v])),
    // Document markers at the start of a line, a character PyYAML refuses raw, and numbers
    // PyYAML reads as floats only with a fraction before the exponent.
    marker: '--- a', end: '...', nonchar: 'x\ufffe', tiny: 1e-7, huge: 1e21,
  };

  it('quotes every ambiguous string, so a YAML 1.1 parse gives the same strings', () => {
    const text = toYaml(values);
    expect(parse(text, { version: '1.1' })).toStrictEqual(values);
    expect(parse(text, { version: '1.2' })).toStrictEqual(values);
  });

  it.skipIf(!hasTool('ansible-inventory') && process.env.CI !== 'true')('round-trips them through the real ansible-inventory', () => {
    // GIVEN an inventory written with toYaml whose host variables are the ambiguous strings
    const dir = tempDir();
    writeFileSync(join(dir, 'inventory.yml'), toYaml({ all: { hosts: { db1: { ansible_host: '10.0.0.11', ...values } } } }));
    // WHEN ansible-inventory reads it
    const listed = JSON.parse(execFileSync('ansible-inventory', ['-i', join(dir, 'inventory.yml'), '--list'], {
      encoding: 'utf8', env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' },
    })) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    // THEN every value is the same string
    const { ansible_host: _host, ...read } = listed._meta.hostvars.db1;
    expect(read).toStrictEqual(values);
  });

  it('gives every generated YAML file of the example fleet the same meaning under YAML 1.1 and 1.2', async () => {
    const outDir = tempDir();
    await synth({ fleet: (await import('../sites')).fleet, catalog, outDir });
    const differing = Object.entries(readTree(outDir))
      .filter(([path, content]) => /\.ya?ml$/.test(path) && !content.startsWith('$ANSIBLE_VAULT'))
      .filter(([, content]) => JSON.stringify(parse(content, { version: '1.1' })) !== JSON.stringify(parse(content, { version: '1.2' })))
      .map(([path]) => path);
    expect(differing).toStrictEqual([]);
  });
});

describe('git branch names', () => {
  it.each([
    ['--upload-pack=touch /tmp/pwned', 'must not start with "-" (git would read it as an option)'],
    ['-f', 'must not start with "-" (git would read it as an option)'],
    ['', 'must not be empty'],
    ['main branch', 'must use only ASCII letters, digits and "._/-"'],
    ['ma\u0131n', 'must use only ASCII letters, digits and "._/-"'],
    ['/main', 'must not start or end with "/" or contain "//"'],
    ['a..b', 'must not contain "..", end with "." or ".lock", or have a component starting with "."'],
    ['main.lock', 'must not contain "..", end with "." or ".lock", or have a component starting with "."'],
    ['HEAD', 'must not be HEAD'],
  ])('refuses %j: %s', (name, problem) => {
    expect(gitBranchProblem(name)).toBe(problem);
  });

  it('accepts ordinary branch names', () => {
    expect(['main', 'siteforge/acme-prod', 'release-1.2'].map(gitBranchProblem)).toStrictEqual([undefined, undefined, undefined]);
  });
});

const isRoot = process.getuid?.() === 0;
const canMount = isRoot && (() => {
  const dir = tempDirOnce();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (mounted) spawnSync('umount', [dir]);
  return mounted;
})();

describe('an output folder that cannot be written leaves the previous output intact', () => {
  it('says an output folder that is a file is one, and leaves the file alone', async () => {
    const outDir = join(tempDir(), 'dist');
    writeFileSync(outDir, 'notes\n');
    const error = await errorOf(() => synth({ fleet: [acme()], catalog, outDir }));
    expect(error!.message).toBe(`cannot write to ${outDir}: it is a file, not a folder; name a folder (or one to create) with --out`);
    expect(readFileSync(outDir, 'utf8')).toBe('notes\n');
  });

  it.skipIf(!canMount && process.env.CI !== 'true')('says the disk is full and changes nothing', async () => {
    // GIVEN the previous output on a small file system, then filled up
    const mount = tempDirOnce();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mount]);
    try {
      const outDir = join(mount, 'dist');
      await synth({ fleet: [acme()], catalog, outDir });
      const before = readTree(outDir);
      fill(join(mount, 'filler'));
      // WHEN a changed site is synthesized
      const changed = acme((env) => env.addInstance('cache', { service: catalog.service('redis'), settings: { maxmemory: '512mb' } }));
      const error = await errorOf(() => synth({ fleet: [changed], catalog, outDir }));
      // THEN it says so, and every file is as it was
      expect(error).toBeInstanceOf(UserError);
      // The lock (see OutputTransaction) is the first file a synth writes.
      expect(error!.message).toBe(`cannot write to ${outDir}: the disk is full`);
      expect(readTree(outDir, [INDEX_FILE, '.siteforge-staging-' + process.pid])).toStrictEqual(before);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it.skipIf(!canMount && process.env.CI !== 'true')('says the file system is read-only and changes nothing', async () => {
    const mount = tempDirOnce();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    try {
      const outDir = join(mount, 'dist');
      await synth({ fleet: [acme()], catalog, outDir });
      const before = readTree(outDir);
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const error = await errorOf(() => synth({ fleet: [acme((env) => env.addInstance('cache', { service: catalog.service('redis') }))], catalog, outDir }));
      expect(error).toBeInstanceOf(UserError);
      expect(error!.message).toBe(`cannot write to ${outDir}: the file system is read-only`);
      expect(readTree(outDir)).toStrictEqual(before);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('says when part of the output path is a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'not a folder\n');
    const error = await errorOf(() => synth({ fleet: [acme()], catalog, outDir: join(dir, 'file', 'dist') }));
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toBe(`cannot write to ${join(dir, 'file', 'dist')}: part of the path is a file, not a folder`);
    expect(readTree(dir)).toStrictEqual({ file: 'not a folder\n' });
  });
});

/** Writes `file` until the file system is full. */
function fill(file: string): void {
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) writeFileSync(file, chunk, { flag: 'a' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
}

/** A temporary folder for a whole describe block (tempDir's folders go after each test). */
function tempDirOnce(): string {
  const dir = join(process.env.TMPDIR ?? '/tmp', `siteforge-hardening-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  onceDirs.push(dir);
  return dir;
}
afterAll(async () => {
  const { rmSync } = await import('node:fs');
  for (const dir of onceDirs) rmSync(dir, { recursive: true, force: true });
});
