import * as crypto from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { Construct } from 'constructs';
import { Secret, SecretBackend, Site } from '../../constructs';
import { synth } from '../../engine';
import type { SiteDefinition } from '../../sites';
import { builtinCatalog, restoreProcessEnvAfterEach, tempDir } from '../helpers';

// scryptSync counted: it is the fingerprint work done on the thread that renders.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scryptSync: vi.fn(actual.scryptSync) };
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
});
