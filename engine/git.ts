import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from './errors';

/**
 * Git, driven safely. Nothing that comes from a site definition reaches git as an option: URLs
 * and branch names are checked here before use and always passed after `--` or in positions
 * git never reads as options. Git runs without the ambient variables that redirect it or run
 * programs (`GIT_*`, `EDITOR`, `PAGER`, `SSH_ASKPASS`, …), without abbreviated options, and
 * never prompts; credentials come from git's own configuration (see README, "Credentials for
 * publish").
 */

/** The identity of siteforge's commits on machines with no `user.name`/`user.email` configured. */
export const FALLBACK_IDENTITY = { name: 'siteforge', email: 'siteforge@localhost' } as const;

/**
 * Throws unless `url` is a git URL siteforge hands to git: `https://`, `http://`, `ssh://`,
 * `git://`, `file://`, scp-like `user@host:path`, or an absolute local path. Transport helpers
 * (`ext::`, `fd::`, `<helper>::<address>`) and anything starting with `-` are refused.
 */
export function assertSafeRemote(url: string, what = 'git remote'): void {
  const ok =
    /^(https?|ssh|git|file):\/\/[A-Za-z0-9._~%@:/+=-]+$/.test(url) ||
    /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/+-]+$/.test(url) ||
    /^\/[A-Za-z0-9._~/+@-]+$/.test(url);
  if (!ok || url.includes('::') || /(^|\/)-/.test(url.replace(/^[a-z]+:\/\//, ''))) {
    throw new UserError(`${what} ${JSON.stringify(url)} is not allowed: use an https://, ssh://, git://, file:// or user@host:path URL (transport helpers such as ext:: and values starting with - are refused)`);
  }
}

/**
 * Throws unless `name` is a branch name git accepts (`git check-ref-format --branch` rules)
 * and cannot be read as an option.
 */
export function assertSafeBranch(name: string, what = 'branch'): void {
  const ok =
    /^[A-Za-z0-9._\/-]+$/.test(name) &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.split('/').some((part) => part.startsWith('.') || part.startsWith('-') || part.endsWith('.lock')) &&
    name !== 'HEAD' &&
    name.length <= 200;
  if (!ok) {
    throw new UserError(`${what} ${JSON.stringify(name)} is not a valid branch name: use letters, digits, '.', '_', '-' and '/' (not starting with '-' or '.', no '..')`);
  }
}

/** How long a git command may go without any output before it is stopped. */
const GIT_SILENCE_LIMIT_MS = 5 * 60_000;

/** A git command that failed; the message is what git wrote (see gitErrorMessage). */
export class GitError extends Error {
  constructor(message: string, public readonly exitCode: number | null) {
    super(message);
    this.name = 'GitError';
  }
}

/** Git commands run in one folder. */
export interface Git {
  /** The folder: a working tree or a bare repository. */
  readonly dir: string;
  /** Runs `git <args>` and returns its standard output; throws GitError when git fails. */
  raw(args: readonly string[]): Promise<string>;
}

export interface GitOptions {
  /**
   * How long a command may run without any output before it is stopped.
   * @default 5 minutes
   */
  readonly silenceLimitMs?: number;
}

/** Git in `dir`. */
export function gitAt(dir: string, options: GitOptions = {}): Git {
  const silenceLimitMs = options.silenceLimitMs ?? GIT_SILENCE_LIMIT_MS;
  return { dir, raw: (args) => runGit(dir, args, silenceLimitMs) };
}

const GIT_CONFIG = ['-c', 'core.quotePath=false', '-c', 'core.autocrlf=false', '-c', 'core.eol=lf'];
/** Ambient variables that would redirect git, or make it run a program, besides `GIT_*`. */
const GUARDED_VARIABLES = new Set(['editor', 'visual', 'pager', 'prefix', 'ssh_askpass']);

function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const name = key.toLowerCase();
    if (!name.startsWith('git_') && !GUARDED_VARIABLES.has(name)) env[key] = value;
  }
  // A batch run has nobody to answer a prompt; `--upload-p` must not pass for `--upload-pack`.
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_TEST_DISALLOW_ABBREVIATED_OPTIONS: 'true' };
}

/**
 * Runs git and collects its output. A command silent for `silenceLimitMs` is stopped: a
 * remote that hangs must not hang the publish.
 */
function runGit(dir: string, args: readonly string[], silenceLimitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...GIT_CONFIG, ...args], { cwd: dir, env: gitEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let silentTooLong = false;
    let silence: NodeJS.Timeout;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        silentTooLong = true;
        child.kill('SIGKILL');
      }, silenceLimitMs);
    };
    heard();
    child.stdout.on('data', (chunk: Buffer) => (stdout.push(chunk), heard()));
    child.stderr.on('data', (chunk: Buffer) => (stderr.push(chunk), heard()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(silence);
      const missingFolder = error.code === 'ENOENT' && !existsSync(dir);
      reject(new GitError(missingFolder ? `fatal: cannot run git in ${dir}: the folder does not exist` : `fatal: cannot run git: ${error.message}`, null));
    });
    child.on('close', (code) => {
      clearTimeout(silence);
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) return resolve(out);
      const err = Buffer.concat(stderr).toString('utf8');
      if (silentTooLong) return reject(new GitError(`fatal: git ${args[0]} was silent for ${silenceLimitMs / 1000} s and was stopped`, code));
      reject(new GitError(err.trim() || out.trim() || `fatal: git ${args[0]} exited with code ${code}`, code));
    });
  });
}

/**
 * A fresh temporary folder for a working clone under `parent`, as an absolute path (git runs
 * in one folder and is told of another); the caller removes it.
 */
export function tempWorkDir(prefix: string, parent = tmpdir()): string {
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(resolve(parent), `siteforge-${prefix.replace(/[^A-Za-z0-9-]/g, '-')}-`));
}

/** Creates the bare repository `dir` (initial branch `branch`) unless it already exists. */
export async function ensureBareRepository(dir: string, branch: string): Promise<boolean> {
  try {
    if (statSync(join(dir, 'HEAD')).isFile()) return false;
  } catch {
    // does not exist yet
  }
  mkdirSync(dir, { recursive: true });
  await gitAt(dir).raw(['init', '--bare', '--quiet', `--initial-branch=${branch}`]);
  return true;
}

/**
 * A working clone of `url` in `dir`, without a checkout: `origin` set and every branch fetched
 * into `refs/remotes/origin/*`.
 */
export async function openWorkingClone(url: string, dir: string): Promise<Git> {
  const target = resolve(dir);
  await gitAt(dirname(target)).raw(['clone', '--quiet', '--no-checkout', '--', url, target]);
  return gitAt(target);
}

const identities = new Map<string, Promise<string[]>>();

/**
 * `-c` options that give commits an identity on machines where git has none (a fresh CI runner
 * running as root): `siteforge <siteforge@localhost>`. Empty when git is configured. Checked
 * once per home folder (where git's global configuration lives).
 */
export function identityOptions(): Promise<string[]> {
  const home = `${process.env.HOME ?? ''}\0${process.env.XDG_CONFIG_HOME ?? ''}`;
  let identity = identities.get(home);
  if (!identity) {
    identity = (async () => {
      const git = gitAt(tmpdir());
      const options: string[] = [];
      if (!(await configValue(git, 'user.name'))) options.push('-c', `user.name=${FALLBACK_IDENTITY.name}`);
      if (!(await configValue(git, 'user.email'))) options.push('-c', `user.email=${FALLBACK_IDENTITY.email}`);
      return options;
    })();
    identities.set(home, identity);
  }
  return identity;
}

/** Fetches every branch of `origin` into `refs/remotes/origin/*`, pruning deleted ones. */
export async function fetchAll(git: Git): Promise<void> {
  await git.raw(['fetch', '--quiet', '--prune', '--no-tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
}

async function configValue(git: Git, key: string): Promise<string> {
  try {
    return (await git.raw(['config', '--get', key])).trim();
  } catch {
    return '';
  }
}

/**
 * The commit `ref` names in the repository, or undefined when it does not exist. `HEAD` and
 * full `refs/...` names are read from git's files (publish resolves thousands); anything else,
 * or a ref stored in a way readRef leaves to git, is resolved by git.
 */
export async function resolveCommit(git: Git, ref: string): Promise<string | undefined> {
  if (ref === 'HEAD' || ref.startsWith('refs/')) {
    const stored = readRef(existsSync(join(git.dir, '.git')) ? join(git.dir, '.git') : git.dir, ref);
    if (stored !== 'ask git') return stored;
  }
  try {
    return (await git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * The object id `ref` holds in the repository at `gitDir`, read as git stores it: the loose ref
 * file (a symbolic ref is followed), else its `packed-refs` line; undefined when it does not
 * exist. 'ask git' when it is stored another way (the reftable format, a peeled tag).
 */
export function readRef(gitDir: string, ref: string, depth = 0): string | undefined | 'ask git' {
  if (depth > 5 || !existsSync(join(gitDir, 'refs'))) return 'ask git';
  try {
    const loose = readFileSync(join(gitDir, ...ref.split('/')), 'utf8').trim();
    if (OBJECT_ID.test(loose)) return loose;
    return loose.startsWith('ref: refs/') ? readRef(gitDir, loose.slice(5), depth + 1) : 'ask git';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return 'ask git';
  }
  let packed: string;
  try {
    packed = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of packed.split('\n')) {
    const [id, name] = line.split(' ');
    if (name === ref) return OBJECT_ID.test(id) ? id : 'ask git';
  }
  return undefined;
}

/** Every file of the working tree of `dir` (relative path → content), without `.git`. */
export function readWorkingTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (current === dir && entry.name === '.git') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(dir, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/**
 * What git complained about, in one line: `fatal:` and
 * `error:` lines, messages from the remote (hooks) and rejected refs; at most three.
 */
export function gitErrorMessage(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const meaningful = lines.filter((l) =>
    (/^(fatal|error):/.test(l) && !/failed to push some refs/.test(l)) || /^remote:\s*\S/.test(l) || /^! \[/.test(l));
  const chosen = meaningful.length > 0 ? meaningful.slice(0, 3) : lines.slice(0, 1);
  return chosen.map((l) => l.replace(/^(fatal|error|remote):\s*/, '')).join('; ') || 'unknown git error';
}

/** Removes a working clone. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
