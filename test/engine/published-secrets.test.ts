import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Placement, SecretBackend, Site } from '../../constructs';
import { publish } from '../../engine/publish';
import { synth } from '../../engine/synth';
import { loadFleet } from '../../engine/fleet';
import { vaultDecrypt } from '../../engine/secrets';
import { fleet as exampleFleet, type SiteDefinition } from '../../sites';
import { builtinCatalog, tempDir } from '../helpers';
import { bareRepository, git, treeOf } from '../git-helpers';

/*
 * Generated credentials are kept by reading the previous output; a CI job starts from an empty
 * output folder and must keep the values its environments run with, read from their repositories.
 */

const catalog = builtinCatalog();
const password = 'ci-vault-password';
const publicPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const originalPassword = process.env.SITEFORGE_VAULT_PASSWORD;
afterEach(() => {
  process.env.SITEFORGE_VAULT_PASSWORD = originalPassword;
});

/** acme/prod: MySQL on VMs (an Ansible Vault) and Redis on the cluster (a SealedSecret), generated credentials only. */
function acme(gitRemote: string, name = 'acme'): SiteDefinition {
  return {
    name,
    build(scope: Construct) {
      const site = new Site(scope, name, { domain: 'acme.example.com', gitRemote, secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
      const env = site.addEnvironment('prod');
      env.addCluster();
      const group = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
      env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
      env.addInstance('redis', { service: catalog.service('redis') });
      return site;
    },
  };
}

const VAULT = 'ansible/group_vars/mysql/vault.yml';
const SEALED = 'manifests/secrets/sealedsecret-redis-credentials.yaml';
const vaultValues = (text: string) => parse(vaultDecrypt(text, password)) as Record<string, string>;
const sealedValues = (text: string) => (parse(text) as { spec: { encryptedData: Record<string, string> } }).spec.encryptedData;

describe('a synth with no previous output', () => {
  it('keeps the credentials its published repository holds, so a publish from a fresh checkout changes nothing', async () => {
    // GIVEN acme/prod published from one output folder to its repository
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    const repos = tempDir('siteforge-remotes-');
    const remote = bareRepository(join(repos, 'acme-prod.git'));
    const site = acme(`file://${repos}/{site}-{env}.git`);
    const first = await publish({ fleet: [site], catalog, outDir: tempDir(), direct: true });
    expect(first.repositories).toMatchObject([{ outcome: 'published' }]);
    const published = treeOf(remote);
    const head = git(remote, 'rev-parse', 'main');

    // WHEN a CI job publishes again from an empty output folder
    const outDir = tempDir();
    const again = await publish({ fleet: [site], catalog, outDir, direct: true });

    // THEN its synth kept the vault's values and the sealed values, and nothing was pushed
    expect(vaultValues(readFileSync(join(outDir, 'acme/prod', VAULT), 'utf8'))).toStrictEqual(vaultValues(published[VAULT]));
    expect(readFileSync(join(outDir, 'acme/prod', SEALED), 'utf8')).toBe(published[SEALED]);
    expect(again.repositories).toMatchObject([{ outcome: 'unchanged' }]);
    expect(git(remote, 'rev-parse', 'main')).toBe(head);
  });

  it('hands worker threads the credentials the repositories hold, as this thread has them', async () => {
    // GIVEN the example fleet published to its local repositories, and acme's and koca's output then deleted
    const outDir = tempDir();
    await publish({ fleet: exampleFleet, catalog, outDir, direct: true });
    const published = (repo: string) => treeOf(join(outDir, '.remotes', `${repo}.git`));
    const before = { acme: published('acme-prod'), koca: published('koca-prod') };
    for (const site of ['acme', 'koca']) rmSync(join(outDir, site), { recursive: true });
    // WHEN a worker thread alone renders the two sites again
    const report = await synth({ fleet: exampleFleet, catalog, outDir, workers: 2, fleetModule: join(import.meta.dirname, '..', '..', 'sites', 'index.ts'), renderInThisThread: false });
    expect(report.workerProgram).toBeDefined();
    // THEN it kept the vaults' values
    const password = process.env.SITEFORGE_VAULT_PASSWORD!;
    const values = (text: string) => parse(vaultDecrypt(text, password)) as Record<string, string>;
    for (const site of ['acme', 'koca'] as const) {
      expect(values(readFileSync(join(outDir, site, 'prod', VAULT), 'utf8'))).toStrictEqual(values(before[site][VAULT]));
    }
  });

  it('makes new values with --rotate-secrets, without reading the repository', async () => {
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    const repos = tempDir('siteforge-remotes-');
    const remote = bareRepository(join(repos, 'acme-prod.git'));
    const site = acme(`file://${repos}/{site}-{env}.git`);
    await publish({ fleet: [site], catalog, outDir: tempDir(), direct: true });
    const published = treeOf(remote);

    const outDir = tempDir();
    await synth({ fleet: [site], catalog, outDir, rotateSecrets: true });
    const rotated = vaultValues(readFileSync(join(outDir, 'acme/prod', VAULT), 'utf8'));
    const before = vaultValues(published[VAULT]);
    expect(Object.keys(rotated)).toStrictEqual(Object.keys(before));
    for (const key of Object.keys(before)) expect(rotated[key]).not.toBe(before[key]);
    expect(sealedValues(readFileSync(join(outDir, 'acme/prod', SEALED), 'utf8'))).not.toStrictEqual(sealedValues(published[SEALED]));
  });

  it('makes the first values where the repository has no branch yet', async () => {
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    const repos = tempDir('siteforge-remotes-');
    bareRepository(join(repos, 'acme-prod.git'));
    const outDir = tempDir();
    const report = await synth({ fleet: [acme(`file://${repos}/{site}-{env}.git`)], catalog, outDir });
    expect(report.environments.map((e) => e.repo)).toStrictEqual(['acme/prod']);
    expect(Object.keys(vaultValues(readFileSync(join(outDir, 'acme/prod', VAULT), 'utf8')))).toStrictEqual(['mysql_mysql_password', 'mysql_mysql_root_password']);
  });

  it('stops, naming the environment and what to do, where the repository cannot be read, and writes nothing', async () => {
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    const outDir = tempDir();
    const unreachable = 'git://127.0.0.1:9/{site}-{env}.git';
    await expect(synth({ fleet: [acme(unreachable)], catalog, outDir })).rejects.toThrow(
      /^acme\/prod: has no output in .* to keep its generated credentials from, and its repository git:\/\/127\.0\.0\.1:9\/acme-prod\.git could not be read \(.*\); synth would make new values, which the running environment does not know\. Make the repository readable, synth into the output folder that holds the previous output, or run with --rotate-secrets to make new values on purpose$/,
    );
    expect(() => readFileSync(join(outDir, 'acme/prod', VAULT))).toThrow(/ENOENT/);
  });

  it('reports an unreadable repository together with the problems of other sites, and writes nothing', async () => {
    process.env.SITEFORGE_VAULT_PASSWORD = password;
    const outDir = tempDir();
    const fleet = [acme('git://127.0.0.1:9/{site}-{env}.git'), acme('ext::sh -c touch% /tmp/pwned', 'beta'), ...exampleFleet.filter((d) => d.name === 'demo')];
    const failed = await synth({ fleet, catalog, outDir }).catch((e: Error) => e);
    const problems = (failed as Error).message.split('\n');
    expect(problems.filter((p) => p.startsWith('acme/prod: has no output in '))).toHaveLength(1);
    expect(problems.filter((p) => p.startsWith('beta: gitRemote must be'))).toHaveLength(1);
    expect(readdirSync(outDir).filter((entry) => !entry.startsWith('.'))).toStrictEqual([]);
  });

  it('feeds a worker thread the next site while the repositories its sites asked for are read', async () => {
    // GIVEN a fleet module of three sites with no output yet: acme and beta keep generated
    // credentials in repositories whose server answers nothing until released, gamma has no repository
    const held: Socket[] = [];
    let timer: NodeJS.Timeout | undefined;
    const server = createServer((socket) => {
      held.push(socket);
      // From the first read on: the worker has started, and renders gamma well within this.
      timer ??= setTimeout(() => release('repositories released after 5 s'), 5_000);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.SITEFORGE_TEST_HELD_PORT = String((server.address() as { port: number }).port);
    const root = join(import.meta.dirname, '..', '..');
    const fleetModule = join(tempDir(), 'fleet.mts');
    writeFileSync(fleetModule, `
import { generateKeyPairSync } from 'node:crypto';
import { SecretBackend, Site } from '${root}/constructs';
import type { SiteDefinition } from '${root}/sites';
const certificate = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const site = (name: string, gitRemote?: string): SiteDefinition => ({ name, build(scope, catalog) {
  const s = new Site(scope, name, { domain: name + '.example.com', gitRemote, secrets: SecretBackend.sealedSecrets({ certificate }) });
  const env = s.addEnvironment('prod');
  env.addCluster();
  env.addInstance('redis', { service: catalog.service('redis') });
  return s;
} });
const held = 'git://127.0.0.1:' + process.env.SITEFORGE_TEST_HELD_PORT + '/{site}-{env}.git';
export const fleet = [site('acme', held), site('beta', held), site('gamma')];
`);
    const { fleet } = await loadFleet(fleetModule);
    const events: string[] = [];
    const release = (why: string) => {
      events.push(why);
      held.splice(0).forEach((socket) => socket.destroy());
      server.close();
    };
    try {
      // WHEN one worker thread alone renders them (acme and beta in flight first)
      const failed = await synth({
        fleet, catalog, outDir: tempDir(), workers: 2, fleetModule, renderInThisThread: false,
        onEnvironment: (result) => result.repo === 'gamma/prod' && release('gamma rendered'),
      }).catch((e: Error) => e);
      // THEN it rendered gamma while acme's and beta's repositories were being read
      expect(events[0]).toBe('gamma rendered');
      expect((failed as Error).message).toMatch(/^acme\/prod: has no output in .*\nbeta\/prod: has no output in /);
    } finally {
      clearTimeout(timer);
      release('done');
      delete process.env.SITEFORGE_TEST_HELD_PORT;
    }
  });
});
