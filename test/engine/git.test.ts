import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { commitChanges, FastImport } from '../../engine/fast-import';
import { GitError, gitAt, gitErrorMessage, openRemote, readRef, resolveCommit, type Git } from '../../engine/git';
import { tempDir } from '../helpers';
import { bareRepository, commitByHand, freePort, git, gitDaemonForSuite, gitDaemonTests, writeFile } from '../git-helpers';

/** Files of `commit`, read with a fast-import of their own. */
async function readFiles(git: Git, commit: string, paths: string[]): Promise<Map<string, string>> {
  const fastImport = FastImport.start(git);
  try {
    return await fastImport.readFiles(commit, paths);
  } finally {
    await fastImport.close();
  }
}

/** A repository with one commit, `Add runbook`, on main. */
function repositoryWithRunbook(): string {
  const dir = tempDir();
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFile(dir, 'docs/runbook.md', '# Runbook\n');
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', 'Add runbook');
  return dir;
}

describe('the git runner', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('says why a remote could not be reached: the connection\'s error, and ssh\'s own lines', async () => {
    // A port on 127.0.0.1 nothing listens on: git's own transport.
    const url = `git://127.0.0.1:${await freePort()}/shop-prod.git`;
    const failure = await gitAt(tempDir()).raw(['ls-remote', '--', url]).catch((e: unknown) => e);
    expect(gitErrorMessage(failure)).toMatch(/^unable to connect to 127\.0\.0\.1:; 127\.0\.0\.1\[0: 127\.0\.0\.1\]: errno=Connection refused$/);
    // What git and ssh print when ssh cannot connect, or the key is refused.
    const ssh = (line: string) => new GitError(`${line}\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n`, 128);
    expect(gitErrorMessage(ssh('ssh: connect to host 127.0.0.1 port 9: Connection refused'))).toBe('ssh: connect to host 127.0.0.1 port 9: Connection refused; Could not read from remote repository.');
    expect(gitErrorMessage(ssh('git@git.acme.internal: Permission denied (publickey).'))).toBe('git@git.acme.internal: Permission denied (publickey).; Could not read from remote repository.');
    expect(gitErrorMessage(ssh('Host key verification failed.'))).toBe("Host key verification failed.; Could not read from remote repository. (the host's key is not in ~/.ssh/known_hosts, or is not the one recorded there: check its fingerprint and add it, e.g. with ssh-keyscan)");
  });

  it('returns what git printed, and throws a GitError with what git complained about', async () => {
    const repo = repositoryWithRunbook();
    expect((await gitAt(repo).raw(['log', '--format=%s', 'main'])).trim()).toBe('Add runbook');
    const failure = await gitAt(repo).raw(['rev-parse', '--verify', 'no-such-branch']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GitError);
    expect(gitErrorMessage(failure)).toBe('Needed a single revision');
  });

  it('reads refs as git does: loose, packed, symbolic, detached, missing', async () => {
    // GIVEN a repository with a packed branch, a loose one that shadows a stale packed entry, and a bare clone
    const repo = repositoryWithRunbook();
    git(repo, 'branch', 'packed');
    git(repo, 'branch', 'shadowed');
    git(repo, 'pack-refs', '--all');
    writeFile(repo, 'docs/more.md', 'more\n');
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'More docs');
    git(repo, 'branch', '--force', 'shadowed', 'HEAD');
    const bare = join(tempDir(), 'bare.git');
    git(repo, 'clone', '--quiet', '--bare', repo, bare);
    const cases: [string, string][] = [
      [repo, 'HEAD'], [repo, 'refs/heads/main'], [repo, 'refs/heads/packed'], [repo, 'refs/heads/shadowed'], [repo, 'refs/heads/none'],
      [bare, 'HEAD'], [bare, 'refs/heads/main'], [bare, 'refs/heads/packed'],
    ];
    expect(existsSync(join(repo, '.git/refs/heads/packed'))).toBe(false);
    // WHEN they are resolved without git, THEN the answers are git's
    for (const [dir, ref] of cases) {
      let expected: string | undefined;
      try {
        expected = git(dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
      } catch {
        expected = undefined; // git exits 1 for a ref that does not exist
      }
      expect([dir, ref, readRef(dir === repo ? join(repo, '.git') : bare, ref)]).toStrictEqual([dir, ref, expected]);
      expect(await resolveCommit(gitAt(dir), ref)).toBe(expected);
    }
    // AND a detached HEAD is read too
    git(repo, 'checkout', '--quiet', '--detach', 'refs/heads/packed');
    expect(readRef(join(repo, '.git'), 'HEAD')).toBe(git(repo, 'rev-parse', 'refs/heads/packed'));
  });

  it('commits files exactly as given without a working tree, and reads files of a commit', async () => {
    // GIVEN a bare clone of a repository with a runbook and a link
    const repo = repositoryWithRunbook();
    symlinkSync('runbook.md', join(repo, 'docs/latest.md'));
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'Link the runbook');
    const clone = (await openRemote(repo, join(tempDir(), 'clone.git'))).git;
    const parent = (await resolveCommit(clone, 'refs/heads/main'))!;
    // WHEN a commit writes awkward paths and text, and deletes the runbook
    const awkward = ['say "hi".md', 'back\\slash.md', 'line\nbreak.md', 'with space/ünïcode.yaml', '"quoted'];
    const commit = await commitChanges(clone, {
      parent,
      message: 'Rewrite docs\n',
      changes: [{ path: 'docs/runbook.md' }, ...awkward.map((path, i) => ({ path, content: i === 0 ? '' : `naïve: ${i}\r\n` }))],
    });
    // THEN git sees exactly those files, with the parent and message given
    expect(git(clone.dir, 'ls-tree', '-r', '-z', '--name-only', commit).split('\0').filter(Boolean).sort()).toStrictEqual([...awkward, 'docs/latest.md'].sort());
    expect(git(clone.dir, 'log', '-1', '--format=%P|%B', commit)).toBe(`${parent}|Rewrite docs`);
    // AND reading them back gives each file byte for byte, a link as its target; folders,
    // missing paths and paths no tree can hold are left out
    const read = await readFiles(clone, commit, [...awkward, 'docs', 'docs/runbook.md', 'docs/latest.md', './docs/latest.md', 'docs/../docs/latest.md', 'docs//latest.md']);
    expect(Object.fromEntries(read)).toStrictEqual({
      ...Object.fromEntries(awkward.map((path, i) => [path, i === 0 ? '' : `naïve: ${i}\r\n`])),
      'docs/latest.md': 'runbook.md',
    });
    // AND a commit with no parent is a root commit, even after one with a parent
    const root = await commitChanges(clone, { message: 'Start\n', changes: [] });
    expect(git(clone.dir, 'log', '--format=%P|%s', root)).toBe('|Start');
    expect(git(clone.dir, 'ls-tree', root)).toBe('');
  });

  it('reads a branch and commits on it with one fast-import, and reports a fast-import that fails', async () => {
    // GIVEN a bare clone of a repository with a runbook
    const clone = (await openRemote(repositoryWithRunbook(), join(tempDir(), 'clone.git'))).git;
    const head = (await resolveCommit(clone, 'refs/heads/main'))!;
    // WHEN one fast-import reads the runbook twice and commits a change to it
    const fastImport = FastImport.start(clone);
    expect(Object.fromEntries(await fastImport.readFiles(head, ['docs/runbook.md', 'docs/missing.md']))).toStrictEqual({ 'docs/runbook.md': '# Runbook\n' });
    expect(Object.fromEntries(await fastImport.readFiles(head, ['docs/runbook.md']))).toStrictEqual({ 'docs/runbook.md': '# Runbook\n' });
    const commit = await fastImport.commit({ parent: head, message: 'Edit runbook\n', changes: [{ path: 'docs/runbook.md', content: '# Runbook v2\n' }] });
    await fastImport.close();
    // THEN the commit is there, on its parent
    expect(git(clone.dir, 'log', '--format=%s', commit)).toBe('Edit runbook\nAdd runbook');
    expect(git(clone.dir, 'show', `${commit}:docs/runbook.md`)).toBe('# Runbook v2');
    // AND reading from a commit that does not exist fails with git's complaint, and closing writes nothing
    const objectsBefore = git(clone.dir, 'count-objects', '-v');
    const failing = FastImport.start(clone);
    const failure = await failing.readFiles('0'.repeat(40), ['docs/runbook.md']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GitError);
    expect(gitErrorMessage(failure)).toMatch(/0{40}/);
    await failing.close();
    expect(git(clone.dir, 'count-objects', '-v')).toBe(objectsBefore);
  });

  it('reads paths with their case as given, even where git is told the file system ignores case', async () => {
    // GIVEN git configured with core.ignoreCase (as a clone on macOS is), and a runbook with a big attachment
    const home = tempDir('siteforge-home-');
    writeFileSync(join(home, '.gitconfig'), '[core]\n\tignoreCase = true\n');
    process.env.HOME = home;
    const repo = repositoryWithRunbook();
    const big = 'x'.repeat(3 << 20) + '\n';
    writeFile(repo, 'docs/big.txt', big);
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'Attach');
    const clone = (await openRemote(repo, join(tempDir(), 'clone.git'))).git;
    const head = (await resolveCommit(clone, 'refs/heads/main'))!;
    // WHEN files are read by other cases of their names, THEN they are missing; by their own, they are read whole
    expect(Object.fromEntries(await readFiles(clone, head, ['DOCS/RUNBOOK.md', 'docs/Runbook.md']))).toStrictEqual({});
    const read = await readFiles(clone, head, ['docs/runbook.md', 'docs/big.txt']);
    expect(read.get('docs/runbook.md')).toBe('# Runbook\n');
    expect(read.get('docs/big.txt') === big).toBe(true);
  });

  it('fails a read git will not answer, and leaves nothing behind that keeps siteforge running', async () => {
    // GIVEN git version, which prints one line and exits
    const session = gitAt(tempDir()).session(['version']);
    // WHEN two lines are read, THEN the second fails: git ended first
    expect(await session.readLine()).toMatch(/^git version /);
    const failure = await session.readLine().catch((e: unknown) => e);
    expect(gitErrorMessage(failure)).toBe('git version ended before it answered');
    await session.end();
    // AND a fast-import that failed, closed afterwards, lets its process exit at once (a
    // silence watchdog left running would keep it alive for the whole limit)
    const badIdentityHome = tempDir('siteforge-home-');
    writeFileSync(join(badIdentityHome, '.gitconfig'), `[user]\n\tname = "<>"\n\temail = a@example.com\n[includeIf "gitdir:/nowhere/"]\n\tpath = none\n`);
    const script = join(tempDir(), 'failing-read.mts');
    writeFileSync(script, [
      `import { FastImport } from ${JSON.stringify(join(process.cwd(), 'engine/fast-import.ts'))};`,
      `import { gitAt } from ${JSON.stringify(join(process.cwd(), 'engine/git.ts'))};`,
      `const fastImport = FastImport.start(gitAt(${JSON.stringify(bareRepository(join(tempDir(), 'empty.git')))}, { silenceLimitMs: 600_000 }));`,
      `await fastImport.readFiles('${'0'.repeat(40)}', ['x']).catch(() => console.log('read failed'));`,
      'await fastImport.close();',
      // A name git refuses, asked of git because an includeIf section could change it.
      `process.env.HOME = ${JSON.stringify(badIdentityHome)};`,
      `const committing = FastImport.start(gitAt(${JSON.stringify(bareRepository(join(tempDir(), 'other.git')))}));`,
      `await committing.commit({ message: 'x\\n', changes: [] }).catch((e) => console.log('commit failed:', e.message));`,
      'await committing.close();',
    ].join('\n'));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    expect([child.signal, child.status, child.stdout.trim().split('\n')]).toStrictEqual([null, 0, ['read failed', expect.stringMatching(/^commit failed: .*<>/)]]);
  });

  it('reads a file of any blob mode, and no path with a NUL (which git would cut short)', async () => {
    // GIVEN a commit whose tree holds the runbook with the legacy mode 100664
    const repo = repositoryWithRunbook();
    const blob = git(repo, 'rev-parse', 'HEAD:docs/runbook.md');
    const tree = execFileSync('git', ['mktree'], { cwd: repo, input: `100664 blob ${blob}\tlegacy.md\n`, encoding: 'utf8' }).trim();
    const commit = git(repo, 'commit-tree', '-m', 'Legacy mode', tree);
    // WHEN it is read, also by a name that goes on after a NUL, THEN only the file itself is read
    expect(Object.fromEntries(await readFiles(gitAt(repo), commit, ['legacy.md', 'legacy.md\0.yaml']))).toStrictEqual({ 'legacy.md': '# Runbook\n' });
  });

  it('says so when the folder it should run in does not exist', async () => {
    const missing = join(tempDir(), 'missing');
    const failure = await gitAt(missing).raw(['status']).catch((e: unknown) => e);
    expect(gitErrorMessage(failure)).toBe(`cannot run git in ${missing}: the folder does not exist`);
  });

  it('is not redirected by ambient GIT_* variables', async () => {
    // GIVEN GIT_DIR pointing at another repository, as inside a git hook
    const repo = repositoryWithRunbook();
    process.env.GIT_DIR = bareRepository(join(tempDir(), 'other.git'));
    // WHEN git runs in the first repository, THEN it reads that one
    expect((await gitAt(repo).raw(['log', '--format=%s', 'main'])).trim()).toBe('Add runbook');
  });

  it('refuses abbreviated options, so --upload-p cannot stand in for --upload-pack', async () => {
    const dir = tempDir();
    const bare = bareRepository(join(dir, 'shop.git'));
    const marker = join(dir, 'pwned');
    const failure = await gitAt(dir).raw(['ls-remote', `--upload-p=touch ${marker}`, bare]).catch((e: unknown) => e);
    expect(gitErrorMessage(failure)).toBe("disallowed abbreviated or ambiguous option 'upload-p'");
    expect(existsSync(marker)).toBe(false);
  });

  it('stops a command that stays silent too long, such as one talking to a remote that never answers', async () => {
    // GIVEN a server on 127.0.0.1 that accepts connections and never says anything
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      // WHEN git asks it for its branches, THEN the command is stopped and says why
      const failure = await gitAt(tempDir(), { silenceLimitMs: 500 }).raw(['ls-remote', `git://127.0.0.1:${port}/shop.git`]).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(GitError);
      expect(gitErrorMessage(failure)).toBe('git ls-remote was silent for 0.5 s and was stopped');
    } finally {
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });

  it('never prompts for credentials', async () => {
    // GIVEN an http remote on 127.0.0.1 that asks for a password
    const server = createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="git"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      // WHEN git reads it with no credential configured, THEN it fails at once instead of asking
      const failure = await gitAt(tempDir()).raw(['ls-remote', `http://127.0.0.1:${port}/shop.git`]).catch((e: unknown) => e);
      expect(gitErrorMessage(failure)).toMatch(/terminal prompts disabled/);
    } finally {
      server.close();
    }
  });
});

/** A bare repository at `path` whose main holds one commit, `Add runbook`, tagged `v1`, in the object format given. */
function bareWithRunbook(path: string, objectFormat: 'sha1' | 'sha256' = 'sha1'): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '--quiet', '--bare', '--initial-branch=main', `--object-format=${objectFormat}`);
  const work = tempDir();
  git(work, 'init', '--quiet', '--initial-branch=main', `--object-format=${objectFormat}`);
  writeFile(work, 'docs/runbook.md', '# Runbook\n');
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', 'Add runbook');
  git(work, 'tag', 'v1');
  git(work, 'push', '--quiet', path, 'main', 'v1');
  return path;
}

describe('a remote opened for publishing', () => {
  const daemon = gitDaemonForSuite();
  const remotes: [kind: string, make: () => { bare: string; url: string }, borrowed: boolean][] = [
    ['a bare repository given by its path', () => { const bare = bareWithRunbook(join(tempDir(), 'shop.git')); return { bare, url: bare }; }, true],
    ['a bare repository given as a file:// URL', () => { const bare = bareWithRunbook(join(tempDir(), 'shop.git')); return { bare, url: pathToFileURL(bare).href }; }, true],
    ['a bare repository given by a path through a symbolic link and ..', () => {
      // `link/..` is the parent of the link's target, as git and the file system read it
      const base = tempDir();
      mkdirSync(join(base, 'real/sub'), { recursive: true });
      symlinkSync(join(base, 'real/sub'), join(base, 'link'));
      const bare = bareWithRunbook(join(base, 'real/shop.git'));
      return { bare, url: `${base}/link/../shop.git` };
    }, true],
    ['a SHA-256 bare repository', () => { const bare = bareWithRunbook(join(tempDir(), 'shop.git'), 'sha256'); return { bare, url: bare }; }, false],
    ...(gitDaemonTests ? [['a repository served by git daemon', () => {
      const name = `shop-${Math.random().toString(36).slice(2)}.git`;
      return { bare: bareWithRunbook(join(daemon.served, name)), url: `${daemon.url}/${name}` };
    }, false] as [string, () => { bare: string; url: string }, boolean]] : []),
  ];

  it.each(remotes)('%s: reads its branches and files, pushes commits on them, and sees it move', async (_kind, make, borrowed) => {
    // GIVEN a remote whose main holds a runbook
    const { bare, url } = make();
    const remoteHead = () => git(bare, 'rev-parse', 'refs/heads/main');
    // WHEN it is opened
    const scratch = join(tempDir(), 'scratch.git');
    const workspace = await openRemote(url, scratch);
    // THEN its branches and their files read as in the remote; a repository on this machine is
    // borrowed from (its branches are not copied), others are cloned
    const head = (await workspace.head('main'))!;
    expect(head).toBe(remoteHead());
    expect(await workspace.head('none')).toBeUndefined();
    // AND a branch, a tag or a commit can be named
    expect([await workspace.resolve('main'), await workspace.resolve('v1'), await workspace.resolve(head.slice(0, 7)), await workspace.resolve('none')]).toStrictEqual([head, head, head, undefined]);
    expect(Object.fromEntries(await readFiles(workspace.git, head, ['docs/runbook.md']))).toStrictEqual({ 'docs/runbook.md': '# Runbook\n' });
    expect(git(scratch, 'for-each-ref') === '').toBe(borrowed);
    // AND a commit on main pushed from it lands there whole
    const commit = await commitChanges(workspace.git, { parent: head, message: 'Add notes\n', changes: [{ path: 'docs/notes.md', content: 'notes\n' }] });
    await workspace.push(commit, 'main', head);
    expect(remoteHead()).toBe(commit);
    expect(git(bare, 'show', 'main:docs/notes.md')).toBe('notes');
    expect(() => git(bare, 'fsck', '--strict', '--no-dangling')).not.toThrow();
    // AND after someone else pushed, a commit on the old head is refused, and a refresh shows the new one
    commitByHand(url, 'Edit by hand', (dir) => writeFile(dir, 'docs/hand.md', 'hand\n'));
    const stale = await commitChanges(workspace.git, { parent: commit, message: 'Late\n', changes: [{ path: 'docs/late.md', content: 'late\n' }] });
    const refused = await workspace.push(stale, 'main', commit).catch((e: unknown) => e);
    expect(gitErrorMessage(refused)).toMatch(/\[rejected\]/);
    await workspace.refresh();
    const moved = (await workspace.head('main'))!;
    expect(moved).toBe(remoteHead());
    expect(moved).not.toBe(commit);
    // AND when someone then moves main back (to drop a commit), a commit built on what was read
    // is refused, though it would fast-forward: the dropped commits do not come back
    const onMoved = await commitChanges(workspace.git, { parent: moved, message: 'On moved\n', changes: [{ path: 'docs/on.md', content: 'on\n' }] });
    git(bare, 'update-ref', 'refs/heads/main', head);
    const refusedAgain = await workspace.push(onMoved, 'main', moved).catch((e: unknown) => e);
    expect(gitErrorMessage(refusedAgain)).toMatch(/\[rejected\].*stale info/);
    expect(remoteHead()).toBe(head);
    // AND a branch expected not to exist is created only while it does not
    await workspace.push(commit, 'review', undefined);
    expect(git(bare, 'rev-parse', 'refs/heads/review')).toBe(commit);
    expect(gitErrorMessage(await workspace.push(onMoved, 'review', undefined).catch((e: unknown) => e))).toMatch(/\[rejected\]/);
  });
});
