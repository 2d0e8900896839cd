import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { RenderedFile } from '../../constructs';

/** Whether `command --version` runs. */
export function hasCommand(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Real Ansible tests run when the tools are there, and always under CI (where they must be). */
export const ansibleTests = hasCommand('ansible-playbook') || process.env.CI === 'true';
export const lintTests = hasCommand('ansible-lint') || process.env.CI === 'true';

/**
 * For the describe block it is called in: a folder for an environment repository and one for
 * the root the playbooks write under, both removed after its tests.
 */
export function suiteFolders(): { readonly repo: string; readonly root: string } {
  const repo = mkdtempSync(join(tmpdir(), 'siteforge-repo-'));
  const root = mkdtempSync(join(tmpdir(), 'siteforge-root-'));
  afterAll(() => {
    for (const dir of [repo, root]) rmSync(dir, { recursive: true, force: true });
  });
  return { repo, root };
}

/** Writes rendered files under `dir`. */
export function writeFiles(dir: string, files: readonly RenderedFile[]): void {
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.content);
  }
}

/** Copies the test fixture service `name` into the catalog folder `catalogDir`. */
export function addFixtureService(catalogDir: string, name: string): void {
  cpSync(join(import.meta.dirname, 'fixtures', name), join(catalogDir, name), { recursive: true });
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A file holding the vault password synth encrypted the example fleet's VM credentials with
 * (SITEFORGE_VAULT_PASSWORD), so Ansible can read `group_vars/<instance>/vault.yml`.
 */
function vaultPasswordFile(): string | undefined {
  const password = process.env.SITEFORGE_VAULT_PASSWORD;
  if (!password) return undefined;
  const file = join(tmpdir(), `siteforge-test-vault-password-${process.pid}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

/**
 * Runs an Ansible command in `cwd` with colors, retry files and fact gathering off (the roles
 * need no facts), never through a shell, without blocking the test worker.
 */
export function ansible(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => execFile(command, args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_LOCALHOST_WARNING: '0',
      ANSIBLE_HOST_KEY_CHECKING: '0',
      ANSIBLE_GATHERING: 'explicit',
      ...(vaultPasswordFile() ? { ANSIBLE_VAULT_PASSWORD_FILE: vaultPasswordFile() } : {}),
      NO_COLOR: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
  }, (error, stdout, stderr) => {
    const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
    resolve({ status: code, stdout: stdout ?? '', stderr: stderr ?? '' });
  }));
}
