import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { readTree, tempDir } from './helpers';

/** Environment for git commands run by tests: an identity, no global or system config. */
const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Hand Editor',
  GIT_AUTHOR_EMAIL: 'editor@example.com',
  GIT_COMMITTER_NAME: 'Hand Editor',
  GIT_COMMITTER_EMAIL: 'editor@example.com',
};

/** Runs git in `dir` and returns its output, trimmed. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A new empty bare repository at `path` with `main` as its default branch. */
export function bareRepository(path: string): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '--quiet', '--bare', '--initial-branch=main');
  return path;
}

/** Every file of `branch` of the repository at `url` (path → content), from a fresh clone. */
export function treeOf(url: string, branch = 'main'): Record<string, string> {
  const dir = join(tempDir('siteforge-clone-'), 'repo');
  git(dirname(dir), 'clone', '--quiet', '--branch', branch, '--', url, dir);
  return readTree(dir, ['.git']);
}

/** Subjects of the commits of `branch`, newest first. */
export function subjects(bare: string, branch = 'main'): string[] {
  return git(bare, 'log', '--format=%s', branch).split('\n').filter((s) => s.length > 0);
}

/** Clones `url`, lets `edit` change the working tree, commits everything as a person would and pushes. */
export function commitByHand(url: string, message: string, edit: (dir: string) => void, branch = 'main'): string {
  const dir = join(tempDir('siteforge-hand-'), 'repo');
  git(dirname(dir), 'clone', '--quiet', '--branch', branch, '--', url, dir);
  edit(dir);
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', message);
  git(dir, 'push', '--quiet', 'origin', `HEAD:${branch}`);
  return git(dir, 'rev-parse', '--short=7', 'HEAD');
}

/** Writes `content` at `path` under `dir`, creating folders. */
export function writeFile(dir: string, path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

/** A TCP port on 127.0.0.1 that nothing listens on (right now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A `git daemon` serving every repository under `base` on 127.0.0.1, with push enabled. */
export interface GitDaemon {
  /** `git://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort();
  const child: ChildProcess = spawn('git', [
    'daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--informative-errors',
    `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base,
  ], { stdio: 'ignore', env });
  await listening(child, port, 'git daemon');
  return { url: `git://127.0.0.1:${port}`, stop: () => stopped(child) };
}

/** Waits until `child` (called `what`) accepts connections on `port` of 127.0.0.1. */
async function listening(child: ChildProcess, port: number, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${what} did not start listening within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** OpenSSH's server, as Debian installs it (package openssh-server). */
export const SSHD = '/usr/sbin/sshd';

/** An OpenSSH server on 127.0.0.1 that lets this user in with `clientKey`. */
export interface SshServer {
  readonly port: number;
  /** A private key without passphrase that the server accepts. */
  readonly clientKey: string;
  /** The server's host key as a known_hosts line. */
  readonly knownHostsLine: string;
  stop(): Promise<void>;
}

export async function startSshd(dir: string): Promise<SshServer> {
  const port = await freePort();
  const key = (name: string) => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    return join(dir, name);
  };
  const hostKey = key('host_key');
  const clientKey = key('client_key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', `PidFile ${join(dir, 'sshd.pid')}`, '',
  ].join('\n'));
  // sshd started by root wants its privilege separation folder, which a system without the
  // service running may not have yet.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  await listening(child, port, 'sshd');
  const [type, body] = readFileSync(`${hostKey}.pub`, 'utf8').split(' ');
  return { port, clientKey, knownHostsLine: `[127.0.0.1]:${port} ${type} ${body}\n`, stop: () => stopped(child) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether `git daemon` is installed (Debian ships it with git). */
export const hasGitDaemon = (() => {
  try {
    return existsSync(join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-daemon'));
  } catch {
    return false;
  }
})();

/** git daemon tests run where git ships the daemon, and always under CI (where they must). */
export const gitDaemonTests = hasGitDaemon || process.env.CI === 'true';

/**
 * A git daemon on 127.0.0.1 for the enclosing `describe`, serving a fresh folder: started
 * before its tests, stopped after them. `url` and `served` are read inside the tests.
 */
export function gitDaemonForSuite(): { readonly url: string; readonly served: string } {
  let daemon: GitDaemon | undefined;
  let served = '';
  beforeAll(async () => {
    if (!gitDaemonTests) return;
    served = tempDir('siteforge-daemon-');
    daemon = await startGitDaemon(served);
  });
  afterAll(async () => {
    await daemon?.stop();
  });
  return {
    get url() { return daemon!.url; },
    get served() { return served; },
  };
}
