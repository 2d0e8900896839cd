import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    throw new UserError(`${what} ${JSON.stringify(url)} is not allowed: use an https://, http://, ssh://, git://, file:// or user@host:path URL (transport helpers such as ext:: and values starting with - are refused)`);
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
  /**
   * Runs `git <args>`, with `input` on its standard input, and returns its standard output;
   * throws GitError when git fails.
   */
  raw(args: readonly string[], input?: string): Promise<string>;
  /** Starts `git <args>` to talk with: its input is written, and its output read, while it runs. */
  session(args: readonly string[]): GitSession;
}

/** A running git command (see Git.session). */
export interface GitSession {
  /** Sends `text` to git's standard input. */
  write(text: string): void;
  /** The next line git prints, without its line feed; throws GitError when git ends first. */
  readLine(): Promise<string>;
  /** The next `size` bytes git prints; throws GitError when git ends first. */
  readBytes(size: number): Promise<Buffer>;
  /** Closes git's input, waits for it to exit and returns what it printed that was not read; throws GitError when it failed. */
  end(): Promise<Buffer>;
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
  return {
    dir,
    raw: async (args, input) => (await runGit(dir, args, silenceLimitMs, input)).toString('utf8'),
    session: (args) => new RunningGit(dir, args, silenceLimitMs),
  };
}

const GIT_CONFIG = ['-c', 'core.quotePath=false', '-c', 'core.autocrlf=false', '-c', 'core.eol=lf'];
/** Ambient variables that would redirect git, or make it run a program, besides `GIT_*`. */
const GUARDED_VARIABLES = new Set(['editor', 'visual', 'pager', 'prefix', 'ssh_askpass', 'ssh_askpass_require']);

function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const name = key.toLowerCase();
    if (!name.startsWith('git_') && !GUARDED_VARIABLES.has(name)) env[key] = value;
  }
  // A batch run has nobody to answer a prompt; `--upload-p` must not pass for `--upload-pack`.
  // ssh asks on the terminal, not through git (an unknown host key, a key's passphrase):
  // OpenSSH 8.4+ then asks the askpass program instead, and `false` answers no at once.
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_TEST_DISALLOW_ABBREVIATED_OPTIONS: 'true',
    SSH_ASKPASS: 'false',
    SSH_ASKPASS_REQUIRE: 'force',
  };
}

/** Starts git in `dir`, with siteforge's settings and environment. */
function spawnGit(dir: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  const child = spawn('git', [...GIT_CONFIG, ...args], { cwd: dir, env: gitEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
  // A git that exits before reading all its input reports why itself.
  child.stdin.on('error', () => {});
  return child;
}

/** Why `git <args>` failed: what it wrote, else how it ended. */
function gitFailure(args: readonly string[], code: number | null, stderr: Buffer[], stdout: Buffer[]): GitError {
  const text = Buffer.concat(stderr).toString('utf8').trim() || Buffer.concat(stdout).toString('utf8').trim();
  return new GitError(text || `fatal: git ${args[0]} exited with code ${code}`, code);
}

/** The error of a git that could not be started in `dir`. */
function spawnFailure(dir: string, error: NodeJS.ErrnoException): GitError {
  const missingFolder = error.code === 'ENOENT' && !existsSync(dir);
  return new GitError(missingFolder ? `fatal: cannot run git in ${dir}: the folder does not exist` : `fatal: cannot run git: ${error.message}`, null);
}

function silenceFailure(args: readonly string[], silenceLimitMs: number, code: number | null): GitError {
  return new GitError(`fatal: git ${args[0]} was silent for ${silenceLimitMs / 1000} s and was stopped`, code);
}

/**
 * Runs git and collects its output. A command silent for `silenceLimitMs` is stopped: a
 * remote that hangs must not hang the publish.
 */
function runGit(dir: string, args: readonly string[], silenceLimitMs: number, input: string | undefined): Promise<Buffer> {
  const git = new RunningGit(dir, args, silenceLimitMs);
  if (input !== undefined) git.write(input);
  return git.end();
}

/**
 * A git command talked with (Git.session). Output is buffered until read. While a read or the
 * end is awaited, git may stay silent at most `silenceLimitMs`; waiting for siteforge is not
 * silence.
 */
class RunningGit implements GitSession {
  private readonly child: ChildProcessWithoutNullStreams;
  /** Output not read yet, in the chunks it came in. */
  private readonly output: Buffer[] = [];
  private buffered = 0;
  /** How many chunks at the start of `output` hold no line feed. */
  private scanned = 0;
  private readonly stderr: Buffer[] = [];
  private readonly waiting: { readonly size?: number; readonly resolve: (data: Buffer) => void; readonly reject: (error: GitError) => void }[] = [];
  private readonly exited: Promise<void>;
  private ending = false;
  private closed = false;
  private failure?: GitError;
  private silence?: NodeJS.Timeout;

  constructor(dir: string, private readonly args: readonly string[], private readonly silenceLimitMs: number) {
    this.child = spawnGit(dir, args);
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.output.push(chunk);
      this.buffered += chunk.length;
      this.answer();
      this.watch();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk);
      this.watch();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error: NodeJS.ErrnoException) => {
        this.failure ??= spawnFailure(dir, error);
        this.finish();
        resolve();
      });
      this.child.on('close', (code) => {
        if (code !== 0) this.failure ??= gitFailure(args, code, this.stderr, this.output);
        this.finish();
        resolve();
      });
    });
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  readLine(): Promise<string> {
    return this.read(undefined).then((line) => line.toString('utf8'));
  }

  readBytes(size: number): Promise<Buffer> {
    return this.read(size);
  }

  async end(): Promise<Buffer> {
    this.ending = true;
    this.child.stdin.end();
    this.watch();
    await this.exited;
    if (this.failure) throw this.failure;
    return this.take(this.buffered);
  }

  private read(size: number | undefined): Promise<Buffer> {
    const answer = new Promise<Buffer>((resolve, reject) => this.waiting.push({ size, resolve, reject }));
    this.answer();
    if (this.closed) this.finish();
    else this.watch();
    return answer;
  }

  /** Hands buffered output to the reads waiting for it, in order. */
  private answer(): void {
    while (this.waiting.length > 0) {
      const { size } = this.waiting[0];
      const end = size ?? this.lineEnd();
      if (end === undefined || end > this.buffered) return;
      const data = this.take(size === undefined ? end + 1 : end);
      this.waiting.shift()!.resolve(data.subarray(0, end));
    }
  }

  /** Where the first buffered line ends, if one does. */
  private lineEnd(): number | undefined {
    let offset = 0;
    for (let i = 0; i < this.output.length; i++) {
      const at = i < this.scanned ? -1 : this.output[i].indexOf(10);
      if (at >= 0) return offset + at;
      this.scanned = i + 1;
      offset += this.output[i].length;
    }
    return undefined;
  }

  /** Removes the first `length` buffered bytes and returns them. */
  private take(length: number): Buffer {
    const parts: Buffer[] = [];
    for (let needed = length; needed > 0;) {
      const chunk = this.output[0];
      if (chunk.length <= needed) {
        parts.push(chunk);
        this.output.shift();
        needed -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, needed));
        this.output[0] = chunk.subarray(needed);
        needed = 0;
      }
    }
    this.buffered -= length;
    this.scanned = 0;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
  }

  /** Stops git when it stays silent while siteforge waits for it. */
  private watch(): void {
    clearTimeout(this.silence);
    if (this.closed || (this.waiting.length === 0 && !this.ending)) return;
    this.silence = setTimeout(() => {
      this.failure ??= silenceFailure(this.args, this.silenceLimitMs, null);
      this.child.kill('SIGKILL');
    }, this.silenceLimitMs);
  }

  /** Once git has exited: what is still awaited fails. */
  private finish(): void {
    this.closed = true;
    clearTimeout(this.silence);
    const failure = this.failure ?? new GitError(`fatal: git ${this.args[0]} ended before it answered`, 0);
    for (const read of this.waiting.splice(0)) read.reject(failure);
  }
}

/**
 * A fresh folder for a temporary clone under `parent`, as an absolute path (git runs
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
 * A bare clone of `url` in `dir`, with `origin` set: the remote's branches are its
 * `refs/heads/*`. Publish and diff read and write trees with plumbing, never a working tree.
 * The clone lives for one publish: a repository on this machine is borrowed from (`--shared`)
 * rather than copied, and no hook samples are installed.
 */
async function openBareClone(url: string, dir: string): Promise<Git> {
  const target = resolve(dir);
  await gitAt(dirname(target)).raw(['clone', '--quiet', '--bare', '--shared', '--template=', '--', url, target]);
  return gitAt(target);
}

/**
 * A remote opened for publishing: its branches, and a scratch repository to write commits in
 * and push them from.
 */
export interface RemoteWorkspace {
  /** Git in the scratch repository; every object of the remote can be read in it. */
  readonly git: Git;
  /** The commit `branch` of the remote points at (as of the last `refresh`), or undefined when it does not exist. */
  head(branch: string): Promise<string | undefined>;
  /** The commit `ref` names in the remote: a branch, else a tag or a commit; undefined when none. */
  resolve(ref: string): Promise<string | undefined>;
  /**
   * Pushes `commit` to `branch` of the remote if the branch is still at `expected` (undefined:
   * if it still does not exist), the head `commit` was built on; throws GitError when refused,
   * as when the branch moved meanwhile, forward or back. Nothing is overwritten that was not read.
   */
  push(commit: string, branch: string, expected: string | undefined): Promise<void>;
  /** Catches up with the remote's branches, after a push was refused because one moved. */
  refresh(): Promise<void>;
}

/**
 * Opens `url` for publishing, with the scratch repository in `dir`. A bare repository on this
 * machine is borrowed from, not cloned: the scratch repository reads its objects in place
 * (git's alternates) and its branches are read where they are stored, so only the push runs
 * git against it. Any other remote is cloned (see openBareClone).
 */
export async function openRemote(url: string, dir: string): Promise<RemoteWorkspace> {
  const local = localBareRepository(url);
  const git = local ? borrowRepository(local, url, dir) : await openBareClone(url, dir);
  const refs = local ? gitAt(local) : git;
  return {
    git,
    head: (branch) => resolveCommit(refs, `refs/heads/${branch}`),
    resolve: async (ref) => (await resolveCommit(refs, `refs/heads/${ref}`)) ?? resolveCommit(refs, ref),
    push: async (commit, branch, expected) => {
      // A compare-and-swap on the branch: a plain push would also land on a head that was moved back.
      await git.raw(['push', '--quiet', '--no-verify', `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`, 'origin', `${commit}:refs/heads/${branch}`]);
    },
    // A borrowed repository's branches are read where they are stored: always current.
    refresh: local ? async () => {} : () => fetchAll(git),
  };
}

/**
 * A bare repository in `dir` that reads the objects of the bare repository `local` (git's
 * alternates), with `url` as its `origin`. Written as `git init` would, without running git.
 */
function borrowRepository(local: string, url: string, dir: string): Git {
  const scratch = resolve(dir);
  for (const folder of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(scratch, folder), { recursive: true });
  writeFileSync(join(scratch, 'HEAD'), 'ref: refs/heads/main\n');
  // `origin` as a clone would have it: includeIf sections may choose the identity by it.
  const quoted = `"${url.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
  writeFileSync(join(scratch, 'config'), `[core]\n\trepositoryformatversion = 0\n\tbare = true\n[remote "origin"]\n\turl = ${quoted}\n`);
  writeFileSync(join(scratch, 'objects', 'info', 'alternates'), `${join(local, 'objects')}\n`);
  return gitAt(scratch);
}

/**
 * The folder of `url` when it names a bare repository on this machine (a path or a `file://`
 * URL) in git's plain format: SHA-1 objects, refs in files, no extensions. Others are cloned.
 */
function localBareRepository(url: string): string | undefined {
  try {
    const given = url.startsWith('file://') ? fileURLToPath(url) : url;
    if (!isAbsolute(given)) return undefined;
    // The folder git reaches by that path (`link/..` is the parent of the link's target).
    const path = realpathSync.native(given);
    if (!statSync(join(path, 'HEAD')).isFile() || !statSync(join(path, 'refs')).isDirectory() || !statSync(join(path, 'objects')).isDirectory()) return undefined;
    return /^\s*\[\s*extensions/im.test(readFileSync(join(path, 'config'), 'utf8')) ? undefined : path;
  } catch {
    return undefined;
  }
}

/** Fetches every branch of `origin` into `refs/heads/*` of a bare clone, pruning deleted ones. */
async function fetchAll(git: Git): Promise<void> {
  await git.raw(['fetch', '--quiet', '--prune', '--no-tags', '--update-head-ok', 'origin', '+refs/heads/*:refs/heads/*']);
}

/** Who a commit is by and who made it, each as `Name <email>`. */
export interface CommitIdentity {
  readonly author: string;
  readonly committer: string;
}

interface IdentityConfig {
  /** `-c` options giving git siteforge's identity where it has none. */
  readonly fallback: readonly string[];
  /** The identity when no repository can change it (no `includeIf`, `author.*` or `committer.*` setting). */
  readonly fixed?: CommitIdentity;
}

const identityConfigs = new Map<string, Promise<IdentityConfig>>();

/** git's identity settings, read once per home folder (where git's global configuration lives). */
function identityConfig(): Promise<IdentityConfig> {
  const home = `${process.env.HOME ?? ''}\0${process.env.XDG_CONFIG_HOME ?? ''}`;
  let config = identityConfigs.get(home);
  if (!config) {
    config = (async () => {
      const git = gitAt(tmpdir());
      const name = await configValue(git, 'user.name');
      const email = await configValue(git, 'user.email');
      const fallback = [...(name ? [] : ['-c', `user.name=${FALLBACK_IDENTITY.name}`]), ...(email ? [] : ['-c', `user.email=${FALLBACK_IDENTITY.email}`])];
      const varies = (await configValue(git, '^(includeif|author|committer)\\.', '--get-regexp')) !== '';
      const identity = `${clean(name) || FALLBACK_IDENTITY.name} <${clean(email) || FALLBACK_IDENTITY.email}>`;
      return { fallback, fixed: varies ? undefined : { author: identity, committer: identity } };
    })();
    identityConfigs.set(home, config);
  }
  return config;
}

/**
 * Who siteforge's commits in `git` are by, as git itself would say: `user.name` and
 * `user.email`, `author.*` and `committer.*`, with the `includeIf` sections that apply to the
 * repository; `siteforge <siteforge@localhost>` where git has no name or email (a fresh CI
 * runner running as root). Asks git (`git var`) only when the configuration has settings that
 * can differ between repositories.
 */
export async function commitIdentity(git: Git): Promise<CommitIdentity> {
  const config = await identityConfig();
  if (config.fixed) return config.fixed;
  // `Name <email> <seconds> <zone>`: the time is fast-import's to set.
  const ident = async (variable: string) => (await git.raw([...config.fallback, 'var', variable])).trim().replace(/ \d+ [+-]\d{4}$/, '');
  return { author: await ident('GIT_AUTHOR_IDENT'), committer: await ident('GIT_COMMITTER_IDENT') };
}

/** A name or email as fast-import reads it, which ends them at `<`, `>` and line breaks (git drops those too). */
function clean(value: string): string {
  return value.replace(/[<>\n]/g, '').trim();
}

async function configValue(git: Git, key: string, how: '--get' | '--get-regexp' = '--get'): Promise<string> {
  try {
    return (await git.raw(['config', how, key])).trim();
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

/**
 * What git complained about, in one line: `fatal:` and `error:` lines, what the transport
 * said (ssh's own lines, a connection's `errno=`), messages from the remote (hooks) and
 * rejected refs; at most three.
 */
export function gitErrorMessage(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const meaningful = lines.filter((l) =>
    (/^(fatal|error):/.test(l) && !/failed to push some refs/.test(l)) || /^remote:\s*\S/.test(l) || /^! \[/.test(l) || TRANSPORT_FAILURE.test(l));
  const chosen = meaningful.length > 0 ? meaningful.slice(0, 3) : lines.slice(0, 1);
  const message = chosen.map((l) => l.replace(/^remote:\s*/, '').replace(/^(fatal|error):\s*/, '')).join('; ') || 'unknown git error';
  // siteforge never lets ssh ask whether to trust a host (see gitEnvironment).
  return lines.some((l) => l.includes('Host key verification failed'))
    ? `${message} (the host's key is not in ~/.ssh/known_hosts, or is not the one recorded there: check its fingerprint and add it, e.g. with ssh-keyscan)`
    : message;
}

/** Lines in which ssh or a connection says why the remote could not be reached. */
const TRANSPORT_FAILURE = /^ssh:|errno=|Permission denied|Host key verification failed|Could not resolve host|Connection (refused|timed out|reset|closed)|kex_exchange_identification/;

/** Removes a temporary clone. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
