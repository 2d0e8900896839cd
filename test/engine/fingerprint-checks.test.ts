import * as crypto from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { Construct } from 'constructs';
import { Secret, SecretBackend, Site } from '../../constructs';
import { synth } from '../../engine';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, readTree, restoreProcessEnvAfterEach, tempDir } from '../helpers';

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
