import * as crypto from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import { Placement, Secret, SecretBackend, Site } from '../../constructs';
import { synth } from '../../engine';
import { checkFingerprints, matchesFingerprint, UNMADE_FINGERPRINT } from '../../engine/secrets/generate';
import { concurrencyLimit } from '../../engine/pool';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, readTree, restoreProcessEnvAfterEach, runCli, tempDir } from '../helpers';

// scryptSync counted: it is the fingerprint work done on the thread that renders; scrypt the
// checks made beside it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scryptSync: vi.fn(actual.scryptSync), scrypt: vi.fn(actual.scrypt) };
});

const catalog = builtinCatalog();
restoreProcessEnvAfterEach();
const publicPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

const acme: SiteDefinition = {
  name: 'acme',
  build(scope: Construct) {
    const site = new Site(scope, 'acme', { domain: 'acme.example.com', secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
    const env = site.addEnvironment('prod');
    env.addCluster();
    env.addInstance('mysql', { service: catalog.service('mysql'), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD'), 'mysql-root-password': Secret.fromEnv('ACME_ROOT_PASSWORD') } });
    return site;
  },
};

describe('fingerprint checks on the thread that renders', () => {
  it('are none for a value checked during the scan, whether it made its fingerprint or not: only a changed value is fingerprinted anew', async () => {
    const outDir = tempDir();
    const scryptSync = vi.mocked(crypto.scryptSync);
    const rendered = async () => {
      const repos: string[] = [];
      scryptSync.mockClear();
      await synth({ fleet: [acme], catalog, outDir, onEnvironment: (e) => (e.rendered ? repos.push(e.repo) : undefined) });
      return repos;
    };
    Object.assign(process.env, { ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple', ACME_ROOT_PASSWORD: 'Root-Horse-Battery-Staple' });
    expect(await rendered()).toStrictEqual(['acme/prod']);
    // Each value fingerprinted once, as it is first sealed.
    expect(scryptSync).toHaveBeenCalledTimes(2);
    expect(await rendered()).toStrictEqual([]);
    expect(scryptSync).not.toHaveBeenCalled();
    // One value changed: rendered, with only that value fingerprinted; the check that found it
    // changed, and the one that found the other unchanged, are not done again.
    process.env.ACME_DB_PASSWORD = 'Another-Horse-Battery-Staple';
    expect(await rendered()).toStrictEqual(['acme/prod']);
    expect(scryptSync).toHaveBeenCalledTimes(1);
  });

  it('are none in a synth that renders everything, nor in a dry run: the site asks for its checks first, made beside the threads that render', async () => {
    const outDir = tempDir();
    const scryptSync = vi.mocked(crypto.scryptSync);
    const scrypt = vi.mocked(crypto.scrypt);
    Object.assign(process.env, { ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple', ACME_ROOT_PASSWORD: 'Root-Horse-Battery-Staple' });
    await synth({ fleet: [acme], catalog, outDir });
    const tree = readTree(outDir);
    for (const options of [{ renderAll: true }, { dryRun: true }, { rotateSecrets: true }]) {
      scryptSync.mockClear();
      scrypt.mockClear();
      const rendered: string[] = [];
      await synth({ fleet: [acme], catalog, outDir, ...options, onEnvironment: (e) => (e.rendered ? rendered.push(e.repo) : undefined) });
      expect(rendered).toStrictEqual(['acme/prod']);
      // Both values checked once each, beside this thread, and kept as they were sealed.
      expect(scrypt).toHaveBeenCalledTimes(2);
      expect(scryptSync).not.toHaveBeenCalled();
      expect(readTree(outDir)).toStrictEqual(tree);
    }
  });

  it('starts no check once synth has failed: a failed synth does not run on for checks nobody reads', async () => {
    // GIVEN six sites whose two values each are checked, and one whose output is unchanged
    const site = (name: string): SiteDefinition => ({ name, build(scope: Construct) {
      const s = new Site(scope, name, { domain: `${name}.example.com`, secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
      const env = s.addEnvironment('prod');
      env.addCluster();
      env.addInstance('mysql', { service: catalog.service('mysql'), credentials: { 'mysql-password': Secret.fromEnv('ACME_DB_PASSWORD'), 'mysql-root-password': Secret.fromEnv('ACME_ROOT_PASSWORD') } });
      return s;
    } });
    const plain: SiteDefinition = { name: 'plain', build(scope: Construct) {
      const s = new Site(scope, 'plain', { domain: 'plain.example.com' });
      s.addEnvironment('prod').addCluster();
      return s;
    } };
    const fleet = [...['a', 'b', 'c', 'd', 'e', 'f'].map(site), plain];
    Object.assign(process.env, { ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple', ACME_ROOT_PASSWORD: 'Root-Horse-Battery-Staple' });
    const outDir = tempDir();
    await synth({ fleet, catalog, outDir });
    // WHEN a callback fails as the scan finds the last site unchanged, with the checks under way
    const scrypt = vi.mocked(crypto.scrypt);
    scrypt.mockClear();
    await expect(synth({ fleet, catalog, outDir, onSiteDone: () => {
      throw new Error('callback failed');
    } })).rejects.toThrow('callback failed');
    // THEN the checks not started by then are never made: well under the twelve
    const started = scrypt.mock.calls.length;
    expect(started).toBeLessThan(12);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(scrypt.mock.calls.length).toBe(started);
  });
});

/** MySQL on a VM, used by the portal on the cluster: its vault's values are sealed for the portal, each with its fingerprint. */
const vaulted: SiteDefinition = {
  name: 'vaulted',
  build(scope: Construct) {
    const site = new Site(scope, 'vaulted', { domain: 'vaulted.example.com', secrets: SecretBackend.sealedSecrets({ certificate: publicPem }) });
    const env = site.addEnvironment('prod');
    env.addCluster();
    const group = env.addHostGroup('db', { hosts: [{ name: 'db1', address: '10.0.0.11', roles: ['db'] }] });
    const mysql = env.addInstance('mysql', { service: catalog.service('mysql'), placement: Placement.vm({ group }) });
    env.addInstance('portal-admin', { service: catalog.service('portal-admin') }).uses(mysql).uses(env.addInstance('redis', { service: catalog.service('redis') }));
    return site;
  },
};

const FINGERPRINTS = 'siteforge.dev/value-fingerprints';

/** The fingerprints the SealedSecrets under `outDir` hold, by file and key. */
function fingerprintsIn(outDir: string): Record<string, Record<string, string>> {
  const found: Record<string, Record<string, string>> = {};
  for (const [path, text] of Object.entries(readTree(outDir)).filter(([path]) => path.includes('/manifests/'))) {
    const object = parse(text) as { kind?: string; metadata?: { annotations?: Record<string, string> } } | null;
    const annotation = object?.kind === 'SealedSecret' ? object.metadata?.annotations?.[FINGERPRINTS] : undefined;
    if (annotation !== undefined) found[path] = JSON.parse(annotation) as Record<string, string>;
  }
  return found;
}

describe('fingerprints of values read from the environment', () => {
  const values = { ACME_DB_PASSWORD: 'Correct-Horse-Battery-Staple', ACME_ROOT_PASSWORD: 'Root-Horse-Battery-Staple', SITEFORGE_VAULT_PASSWORD: 'vault-password-for-tests' };

  it('are made by synth, one for each value read from the environment or a vault as it is first sealed', async () => {
    // GIVEN two values from the environment (acme) and the vault values sealed for the portal (vaulted)
    Object.assign(process.env, values);
    const scryptSync = vi.mocked(crypto.scryptSync);
    scryptSync.mockClear();
    // WHEN synthesized into an empty folder
    const outDir = tempDir();
    await synth({ fleet: [acme, vaulted], catalog, outDir });
    // THEN each sealed value holds a real fingerprint, each one scrypt on this thread
    const made = fingerprintsIn(outDir);
    const all = Object.values(made).flatMap((byKey) => Object.values(byKey));
    expect(Object.entries(made).map(([path, byKey]) => [path.split('/').slice(0, 2).join('/'), Object.keys(byKey).sort()])).toStrictEqual([
      ['acme/prod', ['mysql-password', 'mysql-root-password']],
      ['vaulted/prod', ['mysql-password', 'mysql-root-password']],
    ]);
    expect(all.every((fingerprint) => /^scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/.test(fingerprint))).toBe(true);
    expect(scryptSync).toHaveBeenCalledTimes(all.length);
  });

  it('are not made in a dry run into an empty folder, as validate renders: its output is thrown away', async () => {
    // GIVEN the same sites, and no output
    Object.assign(process.env, values);
    const scryptSync = vi.mocked(crypto.scryptSync);
    const scrypt = vi.mocked(crypto.scrypt);
    scryptSync.mockClear();
    scrypt.mockClear();
    // WHEN both are rendered and checked in a dry run
    const outDir = tempDir();
    const rendered: string[] = [];
    await synth({ fleet: [acme, vaulted], catalog, outDir, dryRun: true, onEnvironment: (e) => (e.rendered ? rendered.push(e.repo) : undefined) });
    // THEN every environment was rendered, with no scrypt at all, and nothing was written
    expect(rendered).toStrictEqual(['acme/prod', 'vaulted/prod']);
    expect(scryptSync).not.toHaveBeenCalled();
    expect(scrypt).not.toHaveBeenCalled();
    expect(readdirSync(outDir)).toStrictEqual([]);
  });

  it('are not made by siteforge validate of the example fleet, whose VM credentials are sealed for its clusters', async () => {
    // GIVEN the example fleet's vault password (vitest.config.ts), as npm start sets it
    const scryptSync = vi.mocked(crypto.scryptSync);
    const scrypt = vi.mocked(crypto.scrypt);
    scryptSync.mockClear();
    scrypt.mockClear();
    // WHEN validated
    const result = await runCli(['validate']);
    // THEN every environment is checked, with no scrypt at all
    expect(result).toMatchObject({ code: 0, out: '13 environments valid\n', err: '' });
    expect(scryptSync).not.toHaveBeenCalled();
    expect(scrypt).not.toHaveBeenCalled();
  });

  it('is never taken as matching where a dry run put none, should that ever reach an output: the value is sealed anew with a real one', async () => {
    // GIVEN the placeholder a dry run seals values with, in place of acme's real fingerprints
    expect(matchesFingerprint(values.ACME_DB_PASSWORD, UNMADE_FINGERPRINT)).toBe(false);
    expect([...(await checkFingerprints([{ value: values.ACME_DB_PASSWORD, fingerprint: UNMADE_FINGERPRINT }], concurrencyLimit(1))).values()]).toStrictEqual([{ value: values.ACME_DB_PASSWORD, made: false }]);
    Object.assign(process.env, values);
    const outDir = tempDir();
    await synth({ fleet: [acme], catalog, outDir });
    const [path, real] = Object.entries(fingerprintsIn(outDir))[0];
    const text = readTree(outDir)[path];
    writeFileSync(join(outDir, path), text.replace(real['mysql-password'], UNMADE_FINGERPRINT));
    expect(fingerprintsIn(outDir)[path]['mysql-password']).toBe(UNMADE_FINGERPRINT);
    // WHEN synthesized again, the value unchanged
    await synth({ fleet: [acme], catalog, outDir });
    // THEN that value is sealed anew, with a real fingerprint of its own; the other is kept
    const again = fingerprintsIn(outDir)[path];
    expect(again['mysql-password']).toMatch(/^scrypt\$/);
    expect(matchesFingerprint(values.ACME_DB_PASSWORD, again['mysql-password'])).toBe(true);
    expect(again['mysql-root-password']).toBe(real['mysql-root-password']);
  });
});
