import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtimes, readTree, runCli } from '../helpers';

/*
 * Mistakes a delivery engineer makes in a fleet file or on the command line, run through the
 * CLI as they meet them: each gets exit 1 (2 for a usage error), one message that names the
 * construct path (or the file, or the option) and says what to change, and no stack trace.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'siteforge-bad-input-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Writes a fleet module named `name` holding `text` after the imports every case uses. */
function fleetFile(name: string, text: string): string {
  const file = join(folder, `${name}.ts`);
  writeFileSync(file, `import { Applier, Site, Exposure, IngressTls, Placement, Secret, SecretBackend } from '${ROOT}/constructs';
import type { SiteDefinition } from '${ROOT}/sites';
import { ACME_PROD_SEALING_CERTIFICATE } from '${ROOT}/sites/acme-sealing-certificate';
void Applier, Exposure, IngressTls, Placement, Secret, SecretBackend, ACME_PROD_SEALING_CERTIFICATE;
${text}
`);
  return file;
}

/** A fleet of site acme, environment prod (on a cluster unless `cluster` says otherwise), built by `body`. */
function acme(body: string, siteProps = "{ domain: 'acme.example.com' }", cluster = 'env.addCluster();'): string {
  return `export const fleet: SiteDefinition[] = [{
  name: 'acme',
  build(scope, catalog) {
    const site = new Site(scope, 'acme', ${siteProps});
    const env = site.addEnvironment('prod');
    ${cluster}
    ${body}
    return site;
  },
}];`;
}

const db = "const db = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });";
const RFC1123 = 'must be an RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';
const CATALOG_LIST = 'the catalog has alertmanager, amo, .*, redis, sonarqube, studio, zookeeper';

interface Case {
  readonly input: string;
  /** The fleet module's code after the imports. @default - the good fleet */
  readonly fleet?: string;
  /** Options after `validate --fleet <file>`, or a whole command line when `argv` is set. */
  readonly args?: readonly string[];
  /** The whole command line, given the fleet file and a fresh folder. */
  readonly argv?: (file: string, dir: string) => string[];
  /** What stderr holds: exactly this line (given the fleet file), or a match of this expression. */
  readonly err: ((file: string, dir: string) => string) | RegExp;
  /** @default 1 */
  readonly code?: number;
}

const GOOD_BODY = "env.addInstance('redis', { service: catalog.service('redis') });";
const GOOD = acme(GOOD_BODY);

const cases: Case[] = [
  // catalog services and settings
  { input: 'a catalog service name with a typo', fleet: acme("env.addInstance('mysql', { service: catalog.service('mysq') });"),
    err: new RegExp(`^error: site acme: unknown catalog service "mysq" \\(did you mean "mysql"\\?\\); ${CATALOG_LIST} \\(at ${folder}/case-0\\.ts:11:49\\)\\n$`) },
  { input: 'a catalog service name in the wrong case', fleet: acme("env.addInstance('mysql', { service: catalog.service('MySQL') });"),
    err: new RegExp(`^error: site acme: unknown catalog service "MySQL" \\(did you mean "mysql"\\?\\); ${CATALOG_LIST} \\(at ${folder}/case-1\\.ts:11:49\\)\\n$`) },
  { input: 'a service given by name', fleet: acme("env.addInstance('redis', { service: 'redis' as never });"),
    err: () => 'acme/prod/redis: service must be a catalog service, as catalog.service(\'mysql\') gives, not "redis"' },
  { input: 'a setting of the wrong type', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemory: 512 } });"),
    err: () => 'acme/prod/redis: settings/maxmemory must be a string, got 512' },
  { input: 'an unknown setting that misspells one', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), settings: { heapsize: '2g' } });"),
    err: () => 'acme/prod/es: settings has unknown field "heapsize" (did you mean "heapSize"?); elasticsearch settings are heapSize, storageSize' },
  { input: 'an unknown setting like no other', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { replicas: 3 } });"),
    err: () => 'acme/prod/redis: settings has unknown field "replicas"; redis settings are maxmemory, maxmemoryPolicy, storageSize' },
  { input: 'a setting out of range', fleet: acme("env.addInstance('kafka', { service: catalog.service('kafka'), settings: { numPartitions: 5000 }, withDependencies: true });"),
    err: () => 'acme/prod/kafka: settings/numPartitions must be <= 1000, got 5000' },
  { input: 'a setting that does not match its pattern', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemory: '512MB' } });"),
    err: () => 'acme/prod/redis: settings/maxmemory must match pattern "^[0-9]+(mb|gb)$", got "512MB"' },
  { input: 'a setting not among its values', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemoryPolicy: 'allkeys_lru' } });"),
    err: () => 'acme/prod/redis: settings/maxmemoryPolicy must be one of "noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", got "allkeys_lru" (did you mean "allkeys-lru"?)' },
  { input: 'a URL with a password in a setting, which the message does not repeat', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), settings: { portalUrl: 'https://bob:hunter2@portal.acme.example.com' } });"),
    err: () => 'acme/prod/web: settings/portalUrl must match pattern "^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$", got a value not shown (it may be a credential)' },
  { input: 'settings given as a string', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: 'maxmemory=1gb' as never });"),
    err: () => 'acme/prod/redis: settings must be an object of setting names and values, got "maxmemory=1gb"' },
  { input: 'two bad settings', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemory: 1, storageSize: '8G' } });"),
    err: () => 'acme/prod/redis: settings/maxmemory must be a string, got 1; settings/storageSize must match pattern "^[0-9]+(Mi|Gi|Ti)$", got "8G"' },
  { input: 'a credential key with a typo', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), credentials: { password: Secret.generated() } });"),
    err: () => 'acme/prod/redis: credentials has unknown key "password"; redis credentials are redis-password' },
  // profiles and nodes
  { input: 'a profile that does not exist', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'clustered' });"),
    err: () => 'acme/prod/es: elasticsearch has no profile "clustered" (did you mean "cluster"?); profiles are single, cluster' },
  { input: 'nodes outside the profile\'s range', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'single', nodes: 3 });"),
    err: () => 'acme/prod/es: nodes must be 1 for profile single, got 3' },
  { input: 'nodes that only another profile than the default allows, without a profile', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), nodes: 3 });"),
    err: () => "acme/prod/es: nodes must be 1 for profile single, got 3; profile single is elasticsearch's default: for 3 nodes, set profile: 'cluster'" },
  { input: 'nodes that no profile allows, without a profile', fleet: acme("env.addInstance('mysql', { service: catalog.service('mysql'), nodes: 2 });"),
    err: () => 'acme/prod/mysql: nodes must be 1 for profile single, got 2' },
  { input: 'nodes given as a string', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: '3' as never });"),
    err: () => 'acme/prod/es: nodes must be an integer, at least 3 for profile cluster, got "3"' },
  // instances and dependencies
  { input: 'an instance using a service the environment lacks', fleet: acme("env.addInstance('admin', { service: catalog.service('portal-admin') }).uses(env.addInstance('redis', { service: catalog.service('redis') }));"),
    err: () => 'acme/prod/admin: portal-admin depends on mysql, but admin uses no mysql instance; add one to acme/prod and call admin.uses(it), or set withDependencies: true' },
  { input: 'two instances with one name', fleet: acme("env.addInstance('redis', { service: catalog.service('redis') }); env.addInstance('redis', { service: catalog.service('redis') });"),
    err: () => 'acme/prod/redis: acme/prod already has an instance or host group named "redis"; give each its own name' },
  { input: 'an instance name too long for its credentials Secret', fleet: acme(`env.addInstance('mysql-${'x'.repeat(46)}', { service: catalog.service('mysql') });`),
    err: () => `acme/prod/mysql-${'x'.repeat(46)}: credentials Secret name mysql-${'x'.repeat(46)}-credentials (from mysql's connection.credentials.secretName) is 64 characters, over the 63 of a DNS label; give the instance a name of at most 51 characters` },
  { input: 'an instance name with capitals', fleet: acme("env.addInstance('Redis', { service: catalog.service('redis') });"),
    err: () => `acme/prod/Redis: instance name ${RFC1123}, got "Redis"` },
  { input: 'an instance name with an underscore', fleet: acme("env.addInstance('redis_cache', { service: catalog.service('redis') });"),
    err: () => `acme/prod/redis_cache: instance name ${RFC1123}, got "redis_cache"` },
  { input: 'an instance using one of another environment', fleet: acme("const r = env.addInstance('redis', { service: catalog.service('redis') }); const t = site.addEnvironment('test'); t.addCluster(); t.addInstance('redis', { service: catalog.service('redis') }).uses(r);"),
    err: () => 'acme/test/redis: can only use instances of its own environment, not acme/prod/redis' },
  { input: 'an instance using another by its name', fleet: acme("env.addInstance('redis', { service: catalog.service('redis') }); env.addInstance('admin', { service: catalog.service('portal-admin'), withDependencies: true }).uses('redis' as never);"),
    err: () => 'acme/prod/admin: uses takes an instance of its environment (what addInstance returns), not "redis"' },
  { input: 'an instance using its environment', fleet: acme("env.addInstance('admin', { service: catalog.service('portal-admin'), withDependencies: true }).uses(env as never);"),
    err: () => 'acme/prod/admin: uses takes an instance of its environment (what addInstance returns), not an Environment' },
  { input: 'an instance on Kubernetes in an environment without a cluster', fleet: acme("env.addInstance('redis', { service: catalog.service('redis') });", undefined, ''),
    err: () => 'acme/prod/redis: placed on Kubernetes, but acme/prod has no cluster; call addCluster() on it or place the instance on VMs' },
  { input: 'two environments with one name', fleet: acme("site.addEnvironment('prod');"),
    err: () => 'acme/prod: acme already has an environment named "prod"; give each environment its own name' },
  // site
  { input: 'a domain that is a URL', fleet: acme('', "{ domain: 'https://acme.example.com' }"),
    err: () => 'acme: domain must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-", got "https://acme.example.com"' },
  { input: 'no domain', fleet: acme('', '{} as never'),
    err: () => 'acme: domain must be a string, got undefined' },
  { input: 'a gitRemote with a password in it', fleet: acme('', "{ domain: 'acme.example.com', gitRemote: 'https://bob:hunter2@git.acme.internal/{site}-{env}.git' }"),
    err: () => 'acme: gitRemote must be an https://, http://, ssh://, git://, file:// or user@host:path URL (with {site} and {env} placeholders; no password in it), got "https://bob:***@git.acme.internal/{site}-{env}.git"' },
  // VMs
  { input: 'a host group with no hosts', fleet: acme("env.addHostGroup('db', { hosts: [] });"),
    err: () => 'acme/prod/db: hosts must list at least one host' },
  { input: 'a host group without hosts', fleet: acme("env.addHostGroup('db', {} as never);"),
    err: () => 'acme/prod/db: hosts must be a list of hosts ({ name, address, roles }), got undefined' },
  { input: 'hosts given as addresses', fleet: acme("env.addHostGroup('db', { hosts: ['10.0.0.11'] as never });"),
    err: () => 'acme/prod/db: hosts must be objects such as { name: \'db1\', address: \'10.0.0.11\', roles: [\'db\'] }, got "10.0.0.11"' },
  { input: 'a host without address', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', roles: ['db'] } as never] });"),
    err: () => "acme/prod/db/db1: address must be an IP address or DNS name (no port: Ansible's port is set apart), got undefined" },
  { input: 'a host without roles', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11' } as never] });"),
    err: () => 'acme/prod/db/db1: roles must be a list of host roles (lb, manage, compute, storage, db, middleware, app), got undefined' },
  { input: 'a host role that misspells one', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['compte'] }] });"),
    err: () => 'acme/prod/db/db1: unknown host role "compte" (did you mean "compute"?); roles are lb, manage, compute, storage, db, middleware, app' },
  { input: 'a host listed twice', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }, { name: 'db1', address: '10.0.0.12', roles: ['db'] }] });"),
    err: () => 'acme/prod/db/db1: host "db1" is listed twice; remove one or rename it' },
  { input: 'a host address with a port', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11:22', roles: ['db'] }] });"),
    err: () => "acme/prod/db/db1: address must be an IP address or DNS name (no port: Ansible's port is set apart), got \"10.0.0.11:22\"" },
  { input: 'Placement.vm without a host group', fleet: acme("env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({} as never) });"),
    err: () => 'acme/prod/mysql: Placement.vm needs the host group that runs the instance: Placement.vm({ group }) with a group addHostGroup returned, got undefined' },
  { input: 'Placement.vm given the environment', fleet: acme("env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group: env as never }) });"),
    err: () => 'acme/prod/mysql: Placement.vm needs the host group that runs the instance: Placement.vm({ group }) with a group addHostGroup returned, got an Environment' },
  { input: 'a service without VM support placed on VMs', fleet: acme(`${db} env.addInstance('web', { service: catalog.service('koca-website'), placement: Placement.vm({ group: db }) });`),
    err: () => 'acme/prod/web: koca-website cannot be placed on vm; it supports kubernetes' },
  { input: 'an instance on VMs exposed by Ingress', fleet: acme(`${db} env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group: db }), exposure: Exposure.ingress() });`),
    err: () => 'acme/prod/mysql: an Ingress exposure needs placement on Kubernetes, but mysql is placed on VMs; leave exposure out or place it on Kubernetes' },
  // exposure and secrets
  { input: 'two instances exposed on one host', fleet: acme("for (const name of ['web', 'web2']) env.addInstance(name, { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'www.acme.example.com' }) });"),
    err: () => 'acme/prod/web2: exposed on www.acme.example.com/, as web is; give one another host or path' },
  { input: 'an exposure host that is a URL', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: 'https://www.acme.example.com' }) });"),
    err: () => 'acme/prod/web: exposure host must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-", got "https://www.acme.example.com"' },
  { input: 'an exposure host that is an IP address', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), exposure: Exposure.ingress({ host: '10.0.0.80' }) });"),
    err: () => 'acme/prod/web: exposure host must be a DNS name, not an IP address, got "10.0.0.80": Kubernetes refuses an Ingress rule for an IP; give a name that resolves to the ingress controller, such as web.acme.example.com' },
  { input: 'a Secret.fromEnv variable that is not set', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), credentials: { 'redis-password': Secret.fromEnv('ACME_BAD_INPUT_UNSET') } });", "{ domain: 'acme.example.com', secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }) }"),
    err: () => 'acme/prod/redis: credentials redis-password come from the environment variable ACME_BAD_INPUT_UNSET, which is not set; export it before synthesizing' },
  { input: 'site and environment names too long together for the default namespace', fleet: acme(GOOD_BODY).replace("site.addEnvironment('prod')", "site.addEnvironment('production-runtime-zone-one-with-a-rather-long-name-for-its-ns')"),
    err: () => 'acme/production-runtime-zone-one-with-a-rather-long-name-for-its-ns/cluster: namespace acme-production-runtime-zone-one-with-a-rather-long-name-for-its-ns, made of the site and environment names (<site>-<env>), must be at most 63 characters, got 67; give the environment a namespace of its own (addCluster({ namespace })), or shorten the site or environment name' },
  { input: 'the cluster\'s own namespace', fleet: acme(GOOD_BODY, undefined, "env.addCluster({ namespace: 'kube-system' });"),
    err: () => 'acme/prod/cluster: namespace kube-system belongs to the cluster or its applier (default, kube-system, kube-public, kube-node-lease, argocd, flux-system), and the environment\'s applier would take it over and could delete it; give the environment a namespace of its own (the default is <site>-<env>)' },
  { input: 'a generated TLS certificate', fleet: acme(GOOD_BODY, undefined, "env.addCluster({ tls: IngressTls.secret('acme-tls', { certificate: Secret.generated(), privateKey: Secret.fromStore('acme/tls') }) });"),
    err: () => 'acme/prod/cluster: tls certificate is Secret.generated(), but a certificate is issued, not generated: give Secret.fromEnv(...) (with sealed secrets) or Secret.fromStore(...) (with External Secrets), or use IngressTls.certManager({ issuer })' },
  { input: 'a TLS certificate variable that holds no certificate', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), exposure: Exposure.ingress(), settings: { portalUrl: 'https://api.acme.example.com' } });", "{ domain: 'acme.example.com', secrets: SecretBackend.sealedSecrets({ certificate: ACME_PROD_SEALING_CERTIFICATE }) }",
    "env.addCluster({ tls: IngressTls.secret('acme-tls', { certificate: Secret.fromEnv('PATH'), privateKey: Secret.fromEnv('PATH') }) });"),
    err: () => 'acme/prod/cluster: the TLS Secret acme-tls: the environment variable PATH holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the certificate chain, the server\'s certificate first' },
  // choices given as strings or plain objects (a fleet is compiled, not type-checked)
  { input: 'names that make a Flux Kustomization name over 63 characters', fleet: acme(`env.addInstance('web-${'x'.repeat(52)}', { service: catalog.service('koca-website') });`, undefined, "env.addCluster({ applier: Applier.flux() });"),
    err: () => `acme/prod/web-${'x'.repeat(52)}: its Flux Kustomization acme-prod-web-${'x'.repeat(52)} would be 66 characters, and Flux labels every object it applies with the Kustomization's name, which a label value holds only up to 63: nothing would be applied; shorten the instance name (to at most 53 characters), or the site or environment name` },
  { input: 'an applier given as a string', fleet: acme(GOOD_BODY, undefined, "env.addCluster({ applier: 'flux' as never });"),
    err: () => 'acme/prod/cluster: applier must be Applier.argoCd() or Applier.flux(), got "flux"' },
  { input: 'the API server URL given in place of the cluster\'s options', fleet: acme(GOOD_BODY, undefined, "env.addCluster('https://k8s.acme.internal:6443' as never);"),
    err: () => 'acme/prod/cluster: addCluster takes options such as { apiServer: \'https://k8s.acme.internal:6443\' }, got "https://k8s.acme.internal:6443"' },
  { input: 'an Argo CD topology given as a string', fleet: acme(GOOD_BODY, "{ domain: 'acme.example.com', argoCd: 'dev-zone' as never }"),
    err: () => 'acme: argoCd must be ArgoCdTopology.perCluster() or ArgoCdTopology.devZone(), got "dev-zone"' },
  { input: 'a secrets backend given as a string', fleet: acme(GOOD_BODY, "{ domain: 'acme.example.com', secrets: 'sealed' as never }"),
    err: () => 'acme: secrets must be SecretBackend.externalSecrets(...) or SecretBackend.sealedSecrets({ certificate }), got "sealed"' },
  { input: 'a sync policy given as a string', fleet: acme(GOOD_BODY).replace("site.addEnvironment('prod')", "site.addEnvironment('prod', { sync: 'manual' as never })"),
    err: () => 'acme/prod: sync must be SyncPolicy.automated() or SyncPolicy.manual(), got "manual"' },
  { input: 'a site without props', fleet: acme(GOOD_BODY, 'undefined as never'),
    err: () => "acme: props must be an object such as { domain: 'acme.example.com' }, got undefined" },
  { input: 'an exposure given as a plain object', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), exposure: { host: 'www.acme.example.com' } as never });"),
    err: () => 'acme/prod/web: exposure must be Exposure.ingress({ host, path, tls }) or Exposure.none(), got {"host":"www.acme.example.com"}' },
  { input: 'Exposure.ingress given the host', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), exposure: Exposure.ingress('www.acme.example.com' as never) });"),
    err: (file) => `site acme: Exposure.ingress takes options such as { host: 'www.acme.example.com' }, got "www.acme.example.com" (at ${file}:11:91)` },
  { input: 'monitoring given as a string', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), monitoring: 'no' as never });"),
    err: () => 'acme/prod/redis: monitoring must be true or false, got "no"' },
  { input: 'a resource given as one quantity', fleet: acme("env.addInstance('web', { service: catalog.service('koca-website'), resources: { memory: '1Gi' } as never });"),
    err: () => "acme/prod/web: resources.memory must be { request, limit } such as { request: '256Mi', limit: '512Mi' }, got \"1Gi\"" },
  { input: 'credentials given as a list', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), credentials: [Secret.generated()] as never });"),
    err: () => "acme/prod/redis: credentials must be an object of Secrets by key, such as { 'redis-password': Secret.generated() }, got a list (not shown)" },
  { input: 'a setting computed by a function', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemory: () => '1gb' } as never });"),
    err: () => 'acme/prod/redis: settings/maxmemory must be a plain value (a string, number, boolean, list or object), got a function' },
  { input: 'a profile in the wrong case', fleet: acme("env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'Cluster' });"),
    err: () => 'acme/prod/es: elasticsearch has no profile "Cluster" (did you mean "cluster"?); profiles are single, cluster' },
  { input: 'a service group with a typo', fleet: acme("env.addServiceGroup(catalog.group('observabilty'));"),
    err: (file) => `site acme: unknown service group "observabilty" (did you mean "observability"?); the catalog has devops, logging, observability (at ${file}:11:33)` },
  { input: 'a host port given as a string', fleet: acme("env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'], port: '2222' as never }] });"),
    err: () => 'acme/prod/db/db1: port must be an integer from 1 to 65535, got "2222"' },
  // the fleet module
  { input: 'a fleet module that throws as it runs', fleet: 'const x: any = undefined;\nexport const fleet: SiteDefinition[] = [x.site];',
    err: (file) => `fleet module ${file} failed as it ran: TypeError: Cannot read properties of undefined (reading 'site') (at ${file}:6:43)` },
  { input: 'a fleet module exporting no fleet', fleet: 'export const sites = [];',
    err: (file) => `fleet module ${file} must export \`fleet\`, an array of site definitions` },
  { input: 'a fleet module exporting an empty fleet', fleet: 'export const fleet: SiteDefinition[] = [];',
    err: (file) => `fleet module ${file} exports an empty \`fleet\`; list at least one site definition (to remove every environment repository, delete the output folder)` },
  { input: 'a fleet of site names', fleet: "export const fleet = ['acme'];",
    err: (file) => `fleet module ${file}: every entry of \`fleet\` needs a name and a build function` },
  { input: 'a build that returns nothing', fleet: "export const fleet = [{ name: 'acme', build(scope: never) { new Site(scope, 'acme', { domain: 'acme.example.com' }); } }];",
    err: () => 'site definition "acme": build must return the Site it made (new Site(scope, …)), got undefined' },
  { input: 'an async build', fleet: "export const fleet = [{ name: 'acme', async build(scope: never) { return new Site(scope, 'acme', { domain: 'acme.example.com' }); } }];",
    err: () => 'site definition "acme": build must return the Site it made (new Site(scope, …)), got a Promise: build runs synchronously, so it cannot be async; await what it needs at the top level of its module instead' },
  { input: 'an async build that fails', fleet: "export const fleet = [{ name: 'acme', async build(scope: never) { const site = new Site(scope, 'acme', { domain: 'acme.example.com' }); site.addEnvironment('prod').addInstance('x', {} as never); return site; } }];",
    err: () => 'site definition "acme": build must return the Site it made (new Site(scope, …)), got a Promise: build runs synchronously, so it cannot be async; await what it needs at the top level of its module instead' },
  { input: 'a build that makes a second site', fleet: "export const fleet: SiteDefinition[] = [{ name: 'acme', build(scope, catalog) { new Site(scope, 'acme-eu', { domain: 'eu.acme.example.com' }).addEnvironment('prod').addCluster(); const site = new Site(scope, 'acme', { domain: 'acme.example.com' }); const env = site.addEnvironment('prod'); env.addCluster(); env.addInstance('redis', { service: catalog.service('redis') }); return site; } }];",
    err: () => 'site definition "acme" made acme-eu beside the site acme it returned, which would not be synthesized; a definition builds one site: give acme-eu a site definition of its own in the fleet' },
  { input: 'a build that returns the site\'s environment', fleet: "export const fleet = [{ name: 'acme', build(scope: never) { return new Site(scope, 'acme', { domain: 'acme.example.com' }).addEnvironment('prod'); } }];",
    err: () => 'site definition "acme": build must return the Site it made (new Site(scope, …)), got an Environment' },
  // options
  { input: '--site naming no site', args: ['--site', 'acmee'],
    err: () => 'unknown site "acmee" (did you mean "acme"?); the fleet has acme' },
  { input: '--env naming no environment of the site', args: ['--site', 'acme', '--env', 'prd'],
    err: () => 'site acme has no environment "prd" (did you mean "prod"?); it has prod' },
  { input: '--env naming no environment', args: ['--env', 'prd'],
    err: () => 'no site of the fleet has an environment "prd" (did you mean "prod"?); the fleet\'s environments are prod (siteforge sites shows which site has which)' },
  { input: '--env naming no environment, to sites', argv: (file) => ['sites', '--fleet', file, '--env', 'prd'],
    err: () => 'no site of the fleet has an environment "prd" (did you mean "prod"?); the fleet\'s environments are prod (siteforge sites shows which site has which)' },
  { input: '--fleet naming no file', argv: (_file, dir) => ['validate', '--fleet', join(dir, 'nope.ts')],
    err: (_file, dir) => `fleet module ${join(dir, 'nope.ts')} does not exist` },
  { input: '--catalog naming no folder', argv: (file, dir) => ['validate', '--fleet', file, '--catalog', join(dir, 'catalog')],
    err: (_file, dir) => `catalog folder ${join(dir, 'catalog')} does not exist; give --catalog a folder with one folder per service (<service>/service.yml), or leave it out for the built-in catalog` },
  { input: '--out naming a file', argv: (file) => ['synth', '--fleet', file, '--out', file],
    err: (file) => `cannot write to ${file}: it is a file, not a folder; name a folder (or one to create) with --out` },
  { input: '--workers 0', argv: (file) => ['synth', '--fleet', file, '--workers', '0'], code: 2,
    err: /^error: option '--workers <n>' argument '0' is invalid\. must be a positive integer or "auto"\n/ },
  { input: 'publish --no-synth with --render-all, which it would not do', argv: (file, dir) => ['publish', '--fleet', file, '--out', dir, '--no-synth', '--render-all'], code: 2,
    err: /^error: option '--render-all' cannot be used with option '--no-synth'\n/ },
  { input: 'publish --no-synth with --workers, which render nothing', argv: (file, dir) => ['publish', '--fleet', file, '--out', dir, '--no-synth', '--workers', '2'], code: 2,
    err: /^error: option '--workers <n>' cannot be used with option '--no-synth'\n/ },
  // choices and props left out, which a compiled fleet is not type-checked against
  { input: 'Placement.vm without options', fleet: acme("env.addInstance('mysql', { service: catalog.service('mysql'), placement: (Placement.vm as () => Placement)() });"),
    err: (file) => `site acme: Placement.vm takes options such as { group } with a group addHostGroup returned, got undefined (at ${file}:11:89)` },
  { input: 'an instance without props', fleet: acme("(env.addInstance as (name: string) => unknown)('redis');"),
    err: () => 'acme/prod/redis: props must be an object such as { service: catalog.service(\'mysql\') }, got undefined' },
  { input: 'an environment with null props', fleet: acme("site.addEnvironment('test', null as never);"),
    err: () => `acme/test: props must be an object such as { zone: Zone.RUNTIME, owners: ['delivery'] }, got null` },
  { input: 'an environment with a number for props', fleet: acme("site.addEnvironment('test', 5 as never);"),
    err: () => `acme/test: props must be an object such as { zone: Zone.RUNTIME, owners: ['delivery'] }, got 5` },
  { input: 'an environment named by a construct', fleet: acme("site.addEnvironment(env as never);"),
    err: () => `acme/(acme/prod): environment name must be a string, got an Environment` },
  { input: 'a service given an instance', fleet: acme("const redis = env.addInstance('redis', { service: catalog.service('redis') }); env.addInstance('cache', { service: redis as never });"),
    err: () => 'acme/prod/cache: service must be a catalog service, as catalog.service(\'mysql\') gives, not an Instance' },
  { input: 'a service group given by name', fleet: acme("env.addServiceGroup('observability' as never);"),
    err: () => 'acme/prod: addServiceGroup takes a service group, as catalog.group(\'observability\') gives, not "observability"' },
  { input: 'a generated secret given its length', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), credentials: { 'redis-password': Secret.generated(64 as never) } });"),
    err: (file) => `site acme: Secret.generated takes options such as { length: 32 }, got 64 (at ${file}:11:107)` },
  { input: 'a store secret without key', fleet: acme("env.addInstance('redis', { service: catalog.service('redis'), credentials: { 'redis-password': (Secret.fromStore as () => Secret)() } });"),
    err: (file) => `site acme: Secret.fromStore: key must be letters, digits and "._/-", got undefined (at ${file}:11:108)` },
];

describe('bad input through the CLI', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.SITEFORGE_VAULT_PASSWORD = 'test-vault-password';
    delete process.env.ACME_BAD_INPUT_UNSET;
  });
  afterAll(() => {
    process.env.SITEFORGE_VAULT_PASSWORD = saved.SITEFORGE_VAULT_PASSWORD;
    if (saved.SITEFORGE_VAULT_PASSWORD === undefined) delete process.env.SITEFORGE_VAULT_PASSWORD;
  });

  cases.forEach((c, i) => {
    it(`refuses ${c.input} with exit ${c.code ?? 1}, saying what to change, without a stack`, async () => {
      // GIVEN a fleet module with the mistake (or a good one and a bad option)
      const file = fleetFile(`case-${i}`, c.fleet ?? GOOD);
      const dir = mkdtempSync(join(folder, 'dir-'));
      // WHEN the CLI validates it
      const result = await runCli(c.argv ? c.argv(file, dir) : ['validate', '--fleet', file, ...(c.args ?? [])]);
      // THEN it exits with the code, printing this message alone, and no stack trace
      expect(result.code).toBe(c.code ?? 1);
      if (c.err instanceof RegExp) expect(result.err).toMatch(c.err);
      else expect(result.err).toBe(`error: ${c.err(file, dir)}\n`);
      expect(result.err).not.toMatch(/\n\s+at |internal error/);
      expect(result.out).toBe('');
    });
  });
});

describe('a synth that meets bad input leaves the previous output byte for byte', () => {
  const out = join(folder, 'dist');
  let before: Record<string, string>;
  let times: Record<string, number>;
  beforeAll(async () => {
    const result = await runCli(['synth', '--fleet', fleetFile('good', GOOD), '--out', out]);
    expect(result.code).toBe(0);
    before = readTree(out);
    times = mtimes(out);
  });

  it.each([
    ['a setting of the wrong type', acme("env.addInstance('redis', { service: catalog.service('redis'), settings: { maxmemory: 512 } });")],
    ['two environments with one name', acme("env.addInstance('redis', { service: catalog.service('redis') }); site.addEnvironment('prod');")],
    ['a host without roles', acme("env.addInstance('redis', { service: catalog.service('redis') }); env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11' } as never] });")],
    ['a fleet module that throws as it runs', 'const x: any = undefined;\nexport const fleet: SiteDefinition[] = [x.site];'],
    ['an empty fleet', 'export const fleet: SiteDefinition[] = [];'],
  ])('keeps it after %s', async (_what, fleet) => {
    // GIVEN the output of the good fleet; WHEN a synth into it meets the bad input
    const result = await runCli(['synth', '--fleet', fleetFile(`synth-${_what.replace(/\W+/g, '-')}`, fleet), '--out', out]);
    // THEN it exits 1 and every file is as it was, with its modification time
    expect(result.code).toBe(1);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(readTree(out)).toStrictEqual(before);
    expect(mtimes(out)).toStrictEqual(times);
  });
});
