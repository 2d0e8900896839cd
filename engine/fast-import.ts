import { commitIdentity, GitError, type Git, type GitSession } from './git';

/** One change of a commit: write `content` at `path` as a regular file, or delete `path` when content is undefined. */
export interface FileChange {
  readonly path: string;
  readonly content?: string;
}

/** A commit to write. */
export interface NewCommit {
  /** @default - none: a root commit */
  readonly parent?: string;
  readonly message: string;
  /** What the commit changes in its parent's tree. */
  readonly changes: readonly FileChange[];
}

/** A path in a commit's tree. */
export interface TreeEntry {
  /** `executable`: a file with git's executable mode (100755). */
  readonly kind: 'file' | 'executable' | 'link' | 'folder' | 'submodule';
  /** The object id of its content (for a submodule, the commit it points at). */
  readonly id: string;
}

/** Reads files of commits. */
export interface CommitReader {
  /**
   * The content of each of `paths` that is a file in `commit` (path → text). Paths that are
   * missing or folders there are left out; a symbolic link reads as the path it points to (so
   * a managed file replaced by one is drift).
   */
  readFiles(commit: string, paths: Iterable<string>): Promise<Map<string, string>>;
}

/**
 * One `git fast-import` in a repository: it reads files of existing commits (`ls`,
 * `cat-blob`), then writes at most one commit, so publish reads a branch and commits on it
 * with a single git process. No working tree, index, hook or attribute is involved: files are
 * read and committed byte for byte, by siteforge's commitIdentity.
 */
export class FastImport implements CommitReader {
  /** Starts fast-import in `git`'s repository; end it with `commit` or `close`. */
  static start(git: Git): FastImport {
    // Paths match exactly, as in a tree, even where git was told the file system ignores case;
    // a small import is kept as a pack, since exploding it into loose objects runs one more git.
    return new FastImport(git, git.session(['-c', 'core.ignoreCase=false', '-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done', '--force', '--date-format=now']));
  }

  private ended = false;

  private constructor(private readonly git: Git, private readonly session: GitSession) {}

  async readFiles(commit: string, paths: Iterable<string>): Promise<Map<string, string>> {
    const blobs = [...await this.entries(commit, paths)].filter(([, entry]) => entry.kind === 'file' || entry.kind === 'executable' || entry.kind === 'link');
    const files = new Map<string, string>();
    if (blobs.length > 0) this.session.write(blobs.map(([, entry]) => `cat-blob ${entry.id}\n`).join(''));
    for (const [path] of blobs) {
      const header = /^[0-9a-f]{40,64} blob (\d+)$/.exec(await this.session.readLine());
      if (!header) throw new GitError(`fatal: git fast-import gave no content for ${path}`, null);
      const content = await this.session.readBytes(Number(header[1]) + 1);
      files.set(path, content.subarray(0, -1).toString('utf8'));
    }
    return files;
  }

  /** What each of `paths` is in `commit`; paths that are missing there are left out. */
  async entries(commit: string, paths: Iterable<string>): Promise<Map<string, TreeEntry>> {
    // `.` and `..` are not names a tree can hold, nor is an empty one or one with a NUL.
    const names = [...new Set(paths)].filter((path) => !path.includes('\0') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..'));
    const entries = new Map<string, TreeEntry>();
    if (names.length === 0) return entries;
    this.session.write(names.map((path) => `ls ${commit} ${quotedPath(path)}\n`).join(''));
    for (const path of names) {
      // `<mode> <type> <id>\t<path>`, or `missing <path>`.
      const found = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40,64})\t/.exec(await this.session.readLine());
      if (!found) continue;
      const kind = found[2] === 'tree' ? 'folder' : found[2] === 'commit' ? 'submodule' : found[1] === '120000' ? 'link' : found[1] === '100755' ? 'executable' : 'file';
      entries.set(path, { kind, id: found[3] });
    }
    return entries;
  }

  /** Writes `commit`, ends fast-import and returns the commit's id. */
  async commit(commit: NewCommit): Promise<string> {
    const identity = await commitIdentity(this.git);
    this.ended = true;
    const ref = 'refs/siteforge/commit';
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    this.session.write([
      `reset ${ref}\n`,
      `commit ${ref}\n`,
      'mark :1\n',
      `author ${identity.author} now\n`,
      `committer ${identity.committer} now\n`,
      data(commit.message),
      commit.parent ? `from ${commit.parent}\n` : '',
      ...commit.changes.map((change) => change.content === undefined
        ? `D ${quotedPath(change.path)}\n`
        : `M 100644 inline ${quotedPath(change.path)}\n${data(change.content)}`),
      '\nget-mark :1\n',
    ].join(''));
    const id = await this.session.readLine();
    this.session.write('done\n');
    await this.session.end();
    if (!/^[0-9a-f]{40,64}$/.test(id)) throw new GitError('fatal: git fast-import wrote no commit', null);
    return id;
  }

  /** Ends fast-import without a commit (nothing is written). */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.session.write('done\n');
    await this.session.end().catch(() => {});
  }
}

/** Writes `commit` in `git`'s repository and returns its id (see FastImport). */
export function commitChanges(git: Git, commit: NewCommit): Promise<string> {
  return FastImport.start(git).commit(commit);
}

/** A path as fast-import reads it: C-quoted when it starts with a quote or holds one, a backslash or a line break. */
function quotedPath(path: string): string {
  if (!/["\\\n]/.test(path)) return path;
  return `"${path.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}
