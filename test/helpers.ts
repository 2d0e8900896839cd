import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach } from 'vitest';
import { App } from 'cdk8s';
import { CATALOG_DIR, loadCatalog, type Catalog } from '../catalog';
import { main } from '../cli';
import type { Io } from '../cli/io';
import { Environment, SecretBackend, Site, type RenderedFile } from '../constructs';
import { renderEnvironmentSecurely } from '../engine/secrets';
import { INDEX_FILE, type SeenRepository } from '../engine/output-index';
import { readState, STATE_FILE, statKey } from '../engine/output';
import type { Construct } from 'constructs';
import type { SiteDefinition } from '../sites';

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test. */
export function tempDir(prefix = 'siteforge-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

let catalog: Catalog | undefined;
/** The built-in catalog, loaded once per test file. */
export function builtinCatalog(): Catalog {
  return (catalog ??= loadCatalog());
}

/** A copy of the built-in catalog in a temporary folder, to break on purpose. */
export function catalogCopy(): string {
  const dir = tempDir('siteforge-catalog-');
  cpSync(CATALOG_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  return dir;
}

/** A site with one environment on a cluster, for model tests. */
/** Site `name` with one environment `env` on a cluster, running Redis: the smallest site that publishes. */
export function redisSite(name: string, env: string, gitRemote?: string): SiteDefinition {
  return {
    name,
    build(scope: Construct) {
      const site = new Site(scope, name, { domain: `${name}.example.com`, gitRemote });
      site.addEnvironment(env).addCluster();
      site.environments[0].addInstance('redis', { service: builtinCatalog().service('redis') });
      return site;
    },
  };
}

export function siteWithEnvironment(options: { cluster?: boolean; secrets?: SecretBackend } = {}): { site: Site; env: Environment } {
  const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com', secrets: options.secrets });
  const env = site.addEnvironment('prod');
  if (options.cluster ?? true) env.addCluster();
  return { site, env };
}

/**
 * Runs the CLI in-process; returns its exit code, what it printed, and every status line it
 * showed (see Io.status; an empty one takes the line away), with `out` or `err` where it printed
 * either.
 */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string; statuses: string[] }> {
  let out = '';
  let err = '';
  const statuses: string[] = [];
  const io: Io = {
    out: (t) => { out += t.endsWith('\n') ? t : `${t}\n`; statuses.push('<out>'); },
    err: (t) => { err += t.endsWith('\n') ? t : `${t}\n`; statuses.push('<err>'); },
    status: (t) => statuses.push(t),
    isTty: false,
  };
  const code = await main(argv, io);
  return { code, out, err, statuses };
}

/**
 * Every file under `dir` (relative path → content), skipping entries named in `skip`: by
 * default the output index, a machine-local cache of file times that is not output.
 */
export function readTree(dir: string, skip: string[] = [INDEX_FILE]): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current).sort()) {
      const path = join(current, entry);
      if (skip.includes(entry)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return files;
}

/** Modification times of every file under `dir`. */
export function mtimes(dir: string): Record<string, number> {
  const times: Record<string, number> = {};
  for (const path of Object.keys(readTree(dir))) times[path] = statSync(join(dir, path)).mtimeMs;
  return times;
}

/**
 * `tree` with the values that are random on a first synth masked: generated secrets sealed
 * for a cluster or encrypted with Ansible Vault (both kept on later synths), the salted
 * fingerprints of sealed values, the `checksum/secrets` pod annotations over sealed values,
 * the hashes of the files holding them, and the inputHash of an environment that reads
 * variables (it holds a digest of that environment's secret material).
 */
export function withoutSealedValues(tree: Record<string, string>): Record<string, string> {
  const sealed = /^( {4}[a-z0-9-]+: )Ag[A-Za-z0-9+/=]+$/gm;
  const checksum = /^( +checksum\/secrets: )[0-9a-f]{64}$/gm;
  const isVault = (path: string) => /ansible\/group_vars\/[^/]+\/vault\.yml$/.test(path);
  const repoOf = (path: string) => path.split('/').slice(0, 2).join('/');
  // Environments that read variables: a vault file, or values sealed with their fingerprints.
  const readingVariables = new Set(Object.entries(tree).filter(([path, content]) => isVault(path) || content.includes('siteforge.dev/value-fingerprints: ')).map(([path]) => repoOf(path)));
  // Files holding a checksum over sealed values, by repository: their hashes in state.json vary too.
  const withChecksum = new Map<string, Set<string>>();
  for (const [path, content] of Object.entries(tree)) {
    if (!content.includes('checksum/secrets: ')) continue;
    const repo = repoOf(path);
    if (!withChecksum.has(repo)) withChecksum.set(repo, new Set());
    withChecksum.get(repo)!.add(path.slice(repo.length + 1));
  }
  return Object.fromEntries(Object.entries(tree).map(([path, content]) => [path, path.endsWith('.siteforge/state.json')
    ? content
      .replace(/("manifests\/secrets\/sealedsecret-[^"]+": )"sha256:[0-9a-f]+"/g, '$1"(masked)"')
      .replace(/("ansible\/group_vars\/[^"/]+\/vault\.yml": )"sha256:[0-9a-f]+"/g, '$1"(masked)"')
      .replace(/("outputHash": )"sha256:[0-9a-f]+"/, '$1"(masked)"')
      .replace(/("inputHash": )"sha256:[0-9a-f]+"/, (line, prefix: string) => (readingVariables.has(repoOf(path)) ? `${prefix}"(masked)"` : line))
      .replace(/^( +"([^"]+)": )"sha256:[0-9a-f]+"/gm, (line, prefix: string, file: string) => (withChecksum.get(repoOf(path))?.has(file) ? `${prefix}"(masked)"` : line))
    : isVault(path) ? '(vault)' : content.replace(sealed, '$1(sealed)').replace(/^( +siteforge\.dev\/value-fingerprints: ).*$/gm, '$1(salted)').replace(checksum, '$1(sealed values)')]));
}

/**
 * Renders `env` as synth does (secrets resolved, VM credentials encrypted with a test vault
 * password), without writing anything.
 */
export function renderWithSecrets(env: Environment): RenderedFile[] {
  return renderEnvironmentSecurely(env, { outDir: tempDir(), variables: { SITEFORGE_VAULT_PASSWORD: 'test-vault-password' } });
}

/**
 * Numbers in [0, 1) from a seeded generator (the same in every run), repeating only after 2^31:
 * the product is taken in 32-bit integers, as a double it loses its low bits and the sequence
 * fell into a cycle of about 10,000 numbers.
 */
export function seededRandom(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31;
}

/**
 * A generator of random JSON data (seeded, so every run sees the same values): strings of
 * characters YAML treats specially, numbers, booleans, null, and nested lists and mappings.
 */
export function randomJson(seed: number): () => unknown {
  const random = seededRandom(seed);
  const alphabet = ['a', 'Z', '0', '9', '1', '5', 'x', 'b', 'o', 'E', ' ', ':', '#', '-', '.', '"', "'", '\n', '\t', '{', '[', ',', '&', '*', '!', '|', '>', '%', '@', 'é', '\\', 'e', '_', '+', '~'];
  const randomString = () => Array.from({ length: Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const randomValue = (depth: number): unknown => {
    const r = random();
    if (depth > 3 || r < 0.5) return [randomString(), Math.floor(random() * 2000) - 1000, random() < 0.5, null, random() * 100][Math.floor(random() * 5)];
    if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [randomString(), randomValue(depth + 1)]));
  };
  return () => randomValue(0);
}

/**
 * The Sealed Secrets controller's `HybridDecrypt` (pkg/crypto/crypto.go), written out: 2-byte
 * big-endian length of the RSA part; RSA-OAEP SHA-256 with the scope's label gives the session
 * key; AES-256-GCM with a zero nonce opens the rest.
 */
export function controllerUnseal(privateKey: KeyObject, label: string, base64: string): string {
  const data = Buffer.from(base64, 'base64');
  const rsaLength = data.readUInt16BE(0);
  const sessionKey = privateDecrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) },
    data.subarray(2, 2 + rsaLength),
  );
  const rest = data.subarray(2 + rsaLength);
  const decipher = createDecipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  decipher.setAuthTag(rest.subarray(rest.length - 16));
  return Buffer.concat([decipher.update(rest.subarray(0, rest.length - 16)), decipher.final()]).toString('utf8');
}

/** A Sealed Secrets controller's new key pair, and the backend that seals with its public key. */
export function sealingController(): { privateKey: KeyObject; backend: SecretBackend } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, backend: SecretBackend.sealedSecrets({ certificate: publicKey.export({ type: 'spki', format: 'pem' }) as string }) };
}

/** Gives every test of the file the process environment vitest gave it: tests set and delete variables. */
export function restoreProcessEnvAfterEach(): void {
  const original = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in original)) delete process.env[key];
    Object.assign(process.env, original);
  });
}

/** What synth would vouch for in `repo` of `outDir` had it just verified every file: their statKeys now. */
export function seenNow(outDir: string, repo: string): SeenRepository {
  const paths = [...Object.keys(readState(join(outDir, repo))!.files), STATE_FILE];
  return { repo, stats: Object.fromEntries(paths.map((path) => [path, statKey(join(outDir, repo, path))!])) };
}
