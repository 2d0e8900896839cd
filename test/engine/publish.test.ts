import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Construct } from 'constructs';
import { Environment, Site } from '../../constructs';
import { commitMessage, publish, type PublishOptions } from '../../engine/publish';
import { assertSafeBranch, assertSafeRemote } from '../../engine/git';
import { synth } from '../../engine/synth';
import { buildSite } from '../../engine/fleet';
import type { SiteDefinition } from '../../sites';
import { fleet as exampleFleet } from '../../sites';
import { builtinCatalog, readTree, redisSite, seenNow, tempDir } from '../helpers';
import { readOutputIndex, recordSeenOutput } from '../../engine/output-index';
import { bareRepository, commitByHand, git, gitDaemonForSuite, gitDaemonTests, SSHD, startSshd, subjects, treeOf, writeFile, type SshServer } from '../git-helpers';

const catalog = builtinCatalog();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ShopOptions {
  readonly gitRemote?: string;
  readonly maxConnections?: number;
  readonly withRedis?: boolean;
  readonly name?: string;
}

/** A small site, `shop/prod`, whose MySQL setting and Redis instance vary between publishes. */
function shop(options: ShopOptions = {}): SiteDefinition {
  const name = options.name ?? 'shop';
  return {
    name,
    build(scope: Construct) {
      const site = new Site(scope, name, { domain: `${name}.example.com`, gitRemote: options.gitRemote });
      const env = site.addEnvironment('prod');
      env.addCluster();
      env.addInstance('mysql', { service: catalog.service('mysql'), settings: { maxConnections: options.maxConnections ?? 500 } });
      if (options.withRedis ?? true) env.addInstance('redis', { service: catalog.service('redis') });
      return site;
    },
  };
}

function options(outDir: string, fleet: SiteDefinition[], extra: Partial<PublishOptions> = {}): PublishOptions {
  return { fleet, catalog, outDir, direct: true, ...extra };
}

/** The local bare repository publish uses for `shop/prod` with no gitRemote. */
const localRemote = (outDir: string) => join(outDir, '.remotes', 'shop-prod.git');

describe('publish to local bare repositories', () => {
  it('creates the repository and the target branch on first publish, with a tree equal to dist', async () => {
    // GIVEN a site with no gitRemote and no repository yet
    const outDir = tempDir();
    // WHEN it is published straight to main
    const report = await publish(options(outDir, [shop()]));
    // THEN the bare repository exists, main holds exactly the synthesized files
    expect(report.repositories).toMatchObject([{ site: 'shop', env: 'prod', branch: 'main', outcome: 'published', attempts: 1 }]);
    expect(report.repositories[0].filesChanged).toBe(Object.keys(readTree(join(outDir, 'shop/prod'))).length);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
    expect(subjects(localRemote(outDir))).toStrictEqual([expect.stringMatching(/^siteforge: shop\/prod: objects \d+ added; \d+ other files changed$/)]);
    expect(git(localRemote(outDir), 'rev-parse', '--short=7', 'main')).toBe(report.repositories[0].commit);
    // AND its working clone, made beside the output, is gone
    expect(existsSync(join(outDir, '.siteforge-work'))).toBe(false);
  });

  it('publishes to a review branch by default, on top of an empty main', async () => {
    const outDir = tempDir();
    const report = await publish(options(outDir, [shop()], { direct: false, branch: 'first-install' }));
    expect(report.repositories).toMatchObject([{ branch: 'siteforge/first-install', outcome: 'published' }]);
    expect(subjects(localRemote(outDir))).toStrictEqual(['siteforge: start shop/prod']);
    expect(treeOf(localRemote(outDir))).toStrictEqual({});
    expect(treeOf(localRemote(outDir), 'siteforge/first-install')).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('names the default review branch after the changed instances and the output', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], { direct: false }));
    expect(report.repositories[0]).toMatchObject({ outcome: 'published', branch: expect.stringMatching(/^siteforge\/mysql-[0-9a-f]{7}$/) });
    expect(git(localRemote(outDir), 'branch', '--list', '--format=%(refname:short)')).toBe(`main\n${report.repositories[0].branch}`);
  });

  it('names the review branch and the commit after the instances a change adds, not after their files or the shared ones', async () => {
    // GIVEN shop/prod published for review for the first time, with mysql only
    const outDir = tempDir();
    const first = await publish(options(outDir, [shop({ withRedis: false })], { direct: false }));
    // THEN the branch and the message name mysql, not the AppProject, the root, the namespace or the secrets
    expect(first.repositories[0].branch).toMatch(/^siteforge\/mysql-[0-9a-f]{7}$/);
    expect(git(localRemote(outDir), 'log', '-1', '--format=%B', first.repositories[0].branch)).toContain('\n\nInstances: mysql\n\n');
    // WHEN redis is added and published to main, then for review
    await publish(options(outDir, [shop({ withRedis: false })]));
    const added = await publish(options(outDir, [shop()], { direct: false }));
    // THEN they name redis alone, not application-redis, kustomization or secrets
    expect(added.repositories[0].branch).toMatch(/^siteforge\/redis-[0-9a-f]{7}$/);
    expect(git(localRemote(outDir), 'log', '-1', '--format=%B', added.repositories[0].branch)).toContain('\n\nInstances: redis\n\n');
  });

  it('gives a review against another target a review branch of its own, built on that target', async () => {
    // GIVEN the output reviewed against main
    const outDir = tempDir();
    const first = await publish(options(outDir, [shop()], { direct: false }));
    // WHEN the same output is published for review against release
    const second = await publish(options(outDir, [shop()], { direct: false, target: 'release' }));
    // THEN release starts empty, and the review branch is another one, whose history starts there
    expect(second.repositories).toMatchObject([{ outcome: 'published', branch: expect.stringMatching(/^siteforge\/[a-z0-9-]+-[0-9a-f]{7}$/) }]);
    expect(second.repositories[0].branch).not.toBe(first.repositories[0].branch);
    expect(subjects(localRemote(outDir), second.repositories[0].branch)).toStrictEqual([expect.stringMatching(/^siteforge: shop\/prod: /), 'siteforge: start shop/prod']);
    expect(git(localRemote(outDir), 'merge-base', '--is-ancestor', 'release', second.repositories[0].branch)).toBe('');
    // AND publishing it again against either target changes nothing
    expect((await publish(options(outDir, [shop()], { direct: false, target: 'release' }))).repositories).toMatchObject([{ outcome: 'unchanged', attempts: 0, branch: second.repositories[0].branch }]);
    expect((await publish(options(outDir, [shop()], { direct: false }))).repositories).toMatchObject([{ outcome: 'unchanged', branch: first.repositories[0].branch }]);
  });

  it('makes no commit when a second identical publish changes nothing', async () => {
    const outDir = tempDir();
    const first = await publish(options(outDir, [shop()]));
    const second = await publish(options(outDir, [shop()]));
    expect(second.repositories).toMatchObject([{ outcome: 'unchanged', filesChanged: 0, commit: first.repositories[0].commit }]);
    expect(subjects(localRemote(outDir))).toHaveLength(1);
  });

  it('publishes unchanged output with one look at the remote, and in full again once the remote moved', async () => {
    // GIVEN a published site
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    // WHEN it is published again unchanged, THEN no clone or push is attempted (attempts 0)
    expect((await publish(options(outDir, [shop()]))).repositories).toMatchObject([{ outcome: 'unchanged', attempts: 0 }]);
    // WHEN someone commits to the remote, THEN the next publish looks at the repository in full
    commitByHand(localRemote(outDir), 'Add runbook', (dir) => writeFile(dir, 'docs/runbook.md', '# Runbook\n'));
    expect((await publish(options(outDir, [shop()]))).repositories).toMatchObject([{ outcome: 'unchanged', attempts: 1 }]);
  });

  it('builds each site once: the repositories come from the synth', async () => {
    // GIVEN a site that counts how often it is built, published once: built once, to find
    // that its repository holds no credentials to keep (it has no output yet), and to render it
    const outDir = tempDir();
    let builds = 0;
    const counted = (definition: SiteDefinition): SiteDefinition => ({ name: definition.name, build: (scope, c) => (builds++, definition.build(scope, c)) });
    await publish(options(outDir, [counted(shop())]));
    expect(builds).toBe(1);
    // WHEN a changed site is published
    builds = 0;
    const report = await publish(options(outDir, [counted(shop({ maxConnections: 600 }))]));
    // THEN it was built to find it changed and once more to render it, not a third time for its repository
    expect(report.repositories).toMatchObject([{ outcome: 'published' }]);
    expect(builds).toBe(2);
    // AND publishing without synth builds it once, for its repository
    builds = 0;
    await publish(options(outDir, [counted(shop({ maxConnections: 600 }))], { synthesize: false }));
    expect(builds).toBe(1);
  });

  it('reads the branch of a local bare repository whose refs git packed', async () => {
    // GIVEN a published site whose bare repository had its refs packed (as git gc does)
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    git(localRemote(outDir), 'pack-refs', '--all');
    expect(existsSync(join(localRemote(outDir), 'refs/heads/main'))).toBe(false);
    // WHEN it is published again unchanged, THEN the packed ref is found: no clone
    expect((await publish(options(outDir, [shop()]))).repositories).toMatchObject([{ outcome: 'unchanged', attempts: 0 }]);
    // WHEN the branch moves and is packed again, THEN the move is seen
    commitByHand(localRemote(outDir), 'Add runbook', (dir) => writeFile(dir, 'docs/runbook.md', '# Runbook\n'));
    git(localRemote(outDir), 'pack-refs', '--all');
    expect((await publish(options(outDir, [shop()]))).repositories).toMatchObject([{ outcome: 'unchanged', attempts: 1 }]);
  });

  it('makes exactly one commit for a changed site, whose tree equals dist, and describes the change', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })]));
    expect(report.repositories).toMatchObject([{ outcome: 'published', filesChanged: 2 }]);
    expect(subjects(localRemote(outDir))).toHaveLength(2);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
    expect(git(localRemote(outDir), 'log', '-1', '--format=%B', 'main')).toBe([
      'siteforge: shop/prod: no object changes; 1 other file changed',
      '',
      'Instances: mysql',
      '',
      'changed values/mysql.yaml',
    ].join('\n'));
  });

  it('publishes what synth wrote, as it is, with synthesize false (--no-synth)', async () => {
    // GIVEN a published site, then a synth of a changed definition
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    await synth({ fleet: [shop({ maxConnections: 900 })], catalog, outDir });
    const synthesized = readTree(join(outDir, 'shop/prod'));
    // WHEN the output is published without synthesizing, from a definition that differs again
    const report = await publish(options(outDir, [shop({ maxConnections: 100 })], { synthesize: false }));
    // THEN what synth wrote is published, and dist is left as synth wrote it
    expect(report.repositories).toMatchObject([{ outcome: 'published', filesChanged: 2 }]);
    expect(readTree(join(outDir, 'shop/prod'))).toStrictEqual(synthesized);
    expect(treeOf(localRemote(outDir))['values/mysql.yaml']).toContain('900');
  });

  it('refuses two environments that would share one repository, also when only one is selected, before anything is written', async () => {
    const outDir = tempDir();
    const fleet = [redisSite('a-b', 'c'), redisSite('a', 'b-c'), redisSite('a-c', 'b')];
    const message = `a-b/c and a/b-c would publish to the same repository, ${join(outDir, '.remotes', 'a-b-c.git')}, each replacing the other's files: rename a site or an environment`;
    await expect(publish(options(outDir, fleet))).rejects.toThrow(message);
    await expect(publish(options(outDir, fleet, { site: 'a-b' }))).rejects.toThrow(message);
    await expect(publish(options(outDir, fleet, { site: 'a' }))).rejects.toThrow(message.replace('a-b/c and a/b-c', 'a/b-c and a-b/c'));
    expect(existsSync(join(outDir, 'a-b'))).toBe(false);
    // The same with a template that leaves out what tells them apart
    const remote = 'file:///srv/git/{site}-{env}.git';
    await expect(publish(options(outDir, [redisSite('a-b', 'c', remote), redisSite('a', 'b-c', remote)]))).rejects.toThrow(
      'a-b/c and a/b-c would publish to the same repository, file:///srv/git/a-b-c.git, each replacing the other\'s files: rename a site or an environment, or give gitRemote a template that keeps them apart');
    // A site that cannot be confused with them is published on its own
    expect((await publish(options(outDir, fleet, { site: 'a-c' }))).repositories).toMatchObject([{ site: 'a-c', outcome: 'published' }]);
  });

  it('refuses a review branch with a direct publish, before anything is written', async () => {
    const outDir = tempDir();
    await expect(publish(options(outDir, [shop()], { branch: 'tune' }))).rejects.toThrow('a review branch (siteforge/tune) and a direct publish to main exclude each other: choose one');
    expect(existsSync(outDir) && existsSync(join(outDir, 'shop'))).toBe(false);
  });

  it('refuses to publish without synthesizing an environment that has no output', async () => {
    const outDir = tempDir();
    await expect(publish(options(outDir, [shop()], { synthesize: false }))).rejects.toThrow(
      `shop/prod: ${join(outDir, 'shop/prod')} holds no synthesized output; run siteforge synth first, or publish without --no-synth`);
    expect(existsSync(localRemote(outDir))).toBe(false);
  });

  it('fails the repository whose output was edited to hold a plaintext secret, and publishes the others', async () => {
    // GIVEN two synthesized sites, one of whose outputs someone edited by hand
    const outDir = tempDir();
    await synth({ fleet: [shop(), shop({ name: 'mall' })], catalog, outDir });
    writeFileSync(join(outDir, 'shop/prod/values/mysql.yaml'), 'password: https://admin:hunter2@db.example.com\n');
    // WHEN the output is published
    const report = await publish(options(outDir, [shop(), shop({ name: 'mall' })], { synthesize: false }));
    // THEN the edited one fails, as it is not what synth wrote, and nothing of it is pushed; the
    // other is published
    expect(report.repositories.map((r) => [r.site, r.outcome, r.error])).toStrictEqual([
      ['shop', 'failed', 'shop/prod: values/mysql.yaml was changed since synth wrote it; publish only sends what synth wrote: run siteforge synth to put it back (or change the site definition)'],
      ['mall', 'published', undefined],
    ]);
    expect(existsSync(join(localRemote(outDir), 'refs/heads/main'))).toBe(false);
  });

  it.each([
    ['an edited file', (repo: string) => writeFileSync(join(repo, 'values/mysql.yaml'), 'mysql_password: hunter2-in-plain-text\n'), 'values/mysql.yaml was'],
    ['a deleted file', (repo: string) => rmSync(join(repo, 'values/mysql.yaml')), 'values/mysql.yaml was'],
    ['a folder where a file was', (repo: string) => { rmSync(join(repo, 'values/mysql.yaml')); mkdirSync(join(repo, 'values/mysql.yaml')); }, 'values/mysql.yaml was'],
    ['an edited state file', (repo: string) => writeFileSync(join(repo, '.siteforge/state.json'), readFileSync(join(repo, '.siteforge/state.json'), 'utf8').replace(/"values\/mysql.yaml": "[^"]*"/, '"values/mysql.yaml": "sha256:0"')), '.siteforge/state.json was'],
  ])('without synth, fails a repository holding %s, even one unchanged since its last publish; the others are published', async (_what, edit, changed) => {
    // GIVEN two sites published once, then changed and synthesized again
    const outDir = tempDir();
    await publish(options(outDir, [shop(), shop({ name: 'mall' })]));
    await synth({ fleet: [shop(), shop({ name: 'mall', maxConnections: 900 })], catalog, outDir });
    const before = git(localRemote(outDir), 'rev-parse', 'main');
    // WHEN shop's output, unchanged since it was published, is edited by hand and the output published as it is
    edit(join(outDir, 'shop/prod'));
    const report = await publish(options(outDir, [shop(), shop({ name: 'mall', maxConnections: 900 })], { synthesize: false }));
    // THEN shop fails, naming what changed, and its repository is as it was; mall is published
    expect(report.repositories.map((r) => [r.site, r.outcome, r.error])).toStrictEqual([
      ['shop', 'failed', `shop/prod: ${changed} changed since synth wrote it; publish only sends what synth wrote: run siteforge synth to put it back (or change the site definition)`],
      ['mall', 'published', undefined],
    ]);
    expect(git(localRemote(outDir), 'rev-parse', 'main')).toBe(before);
    // AND a synth puts the file back (a folder in its place must go first, see synth), after
    // which shop is unchanged and mall's record was kept
    rmSync(join(outDir, 'shop/prod/values/mysql.yaml'), { recursive: true, force: true });
    await synth({ fleet: [shop(), shop({ name: 'mall', maxConnections: 900 })], catalog, outDir });
    const again = await publish(options(outDir, [shop(), shop({ name: 'mall', maxConnections: 900 })], { synthesize: false }));
    expect(again.repositories.map((r) => [r.site, r.outcome, r.attempts])).toStrictEqual([['shop', 'unchanged', 0], ['mall', 'unchanged', 0]]);
  });

  it('without synth, trusts the files the output index vouches for, without reading them', async () => {
    // GIVEN a site published once, whose output is then edited by hand
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    writeFileSync(join(outDir, 'shop/prod/values/mysql.yaml'), 'edited by hand\n');
    // WHEN the index is recorded as if synth had just read the edit and found it right
    recordSeenOutput(outDir, readOutputIndex(outDir), [seenNow(outDir, 'shop/prod')], []);
    const report = await publish(options(outDir, [shop()], { synthesize: false }));
    // THEN publish without synth does not look inside: unchanged since its last publish
    expect(report.repositories.map((r) => [r.site, r.outcome])).toStrictEqual([['shop', 'unchanged']]);
    // AND once the index no longer vouches for it, the edit is found
    rmSync(join(outDir, '.siteforge-index.json'));
    const unindexed = await publish(options(outDir, [shop()], { synthesize: false }));
    expect(unindexed.repositories.map((r) => [r.site, r.outcome, r.error])).toStrictEqual([
      ['shop', 'failed', 'shop/prod: values/mysql.yaml was changed since synth wrote it; publish only sends what synth wrote: run siteforge synth to put it back (or change the site definition)'],
    ]);
  });

  it('publishes everything again, without failing, when its record of what it published is not one', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    for (const text of ['null', '[]', '{"shop/prod": null}', '{"shop/prod": {"url": 1}}']) {
      writeFileSync(join(outDir, '.siteforge-published.json'), text);
      const report = await publish(options(outDir, [shop()]));
      // Read again from the repository: nothing changed there.
      expect(report.repositories.map((r) => [r.outcome, r.attempts])).toStrictEqual([['unchanged', 1]]);
    }
  });

  it('removes the files of an instance that is no longer generated', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    expect(Object.keys(treeOf(localRemote(outDir)))).toContain('values/redis.yaml');
    await publish(options(outDir, [shop({ withRedis: false })]));
    const tree = treeOf(localRemote(outDir));
    expect(Object.keys(tree).filter((p) => p.includes('redis'))).toStrictEqual([]);
    expect(tree).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('leaves files it does not manage alone', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'Add runbook', (dir) => writeFile(dir, 'docs/runbook.md', '# Runbook\n'));
    await publish(options(outDir, [shop({ withRedis: false })]));
    expect(treeOf(localRemote(outDir))).toStrictEqual({ ...readTree(join(outDir, 'shop/prod')), 'docs/runbook.md': '# Runbook\n' });
  });

  it('publishes a new managed file even when the .gitignore of the repository matches it', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop({ withRedis: false })]));
    commitByHand(localRemote(outDir), 'Ignore values', (dir) => writeFile(dir, '.gitignore', 'values/\n'));
    await publish(options(outDir, [shop()]));
    expect(treeOf(localRemote(outDir))).toStrictEqual({ ...readTree(join(outDir, 'shop/prod')), '.gitignore': 'values/\n' });
  });

  it('stops on drift, naming the file and the commit that changed it, and pushes nothing', async () => {
    // GIVEN a published repository where someone edited a managed file by hand
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const edit = commitByHand(localRemote(outDir), 'Hotfix mysql values', (dir) => writeFile(dir, 'values/mysql.yaml', 'hand: edited\n'));
    const head = git(localRemote(outDir), 'rev-parse', 'main');
    // WHEN the site is published again
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })]));
    // THEN the repository is reported as drifted and left as it was
    expect(report.repositories).toMatchObject([{
      outcome: 'drift',
      commit: edit,
      drift: [{ path: 'values/mysql.yaml', change: 'edited', commits: [`${edit} Hand Editor: Hotfix mysql values`] }],
      error: `managed file changed in the repository since siteforge wrote it: values/mysql.yaml (edited in ${edit}); move the change into the site definition, or publish with --overwrite-drift to replace it`,
    }]);
    expect(git(localRemote(outDir), 'rev-parse', 'main')).toBe(head);
  });

  it('names a commit that changed a managed file and the state file together', async () => {
    // GIVEN a hand commit that edits a managed file and, in the same commit, the state file
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const edit = commitByHand(localRemote(outDir), 'Tune mysql and its state', (dir) => {
      writeFile(dir, 'values/mysql.yaml', 'hand: edited\n');
      writeFile(dir, '.siteforge/state.json', `${readFileSync(join(dir, '.siteforge/state.json'), 'utf8')}\n`);
    });
    // WHEN the site is published again
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })]));
    // THEN that commit is named, and siteforge's own commits are not
    expect(report.repositories[0].drift).toStrictEqual([{ path: 'values/mysql.yaml', change: 'edited', commits: [`${edit} Hand Editor: Tune mysql and its state`] }]);
  });

  it('detects a managed file deleted by hand as drift', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const edit = commitByHand(localRemote(outDir), 'Remove redis values', (dir) => git(dir, 'rm', '--quiet', 'values/redis.yaml'));
    const report = await publish(options(outDir, [shop()]));
    expect(report.repositories[0].drift).toStrictEqual([{ path: 'values/redis.yaml', change: 'deleted', commits: [`${edit} Hand Editor: Remove redis values`] }]);
  });

  it('detects a managed file made executable by hand as drift, and makes it a regular file again with --overwrite-drift', async () => {
    // GIVEN a published repository where someone made a managed file executable, content unchanged
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const edit = commitByHand(localRemote(outDir), 'Make mysql values executable', (dir) => chmodSync(join(dir, 'values/mysql.yaml'), 0o755));
    // WHEN the site is published again, THEN the mode change is drift, naming the commit
    const report = await publish(options(outDir, [shop()]));
    expect(report.repositories).toMatchObject([{
      outcome: 'drift',
      drift: [{ path: 'values/mysql.yaml', change: 'made executable', commits: [`${edit} Hand Editor: Make mysql values executable`] }],
      error: `managed file changed in the repository since siteforge wrote it: values/mysql.yaml (made executable in ${edit}); move the change into the site definition, or publish with --overwrite-drift to replace it`,
    }]);
    // WHEN it is published with --overwrite-drift, THEN the file is a regular file again, with the same content
    expect((await publish(options(outDir, [shop()], { overwriteDrift: true }))).repositories).toMatchObject([{ outcome: 'published', filesChanged: 1 }]);
    expect(git(localRemote(outDir), 'ls-tree', 'main', '--', 'values/mysql.yaml')).toMatch(/^100644 blob /);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('replaces drifted files with --overwrite-drift', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'Hotfix mysql values', (dir) => writeFile(dir, 'values/mysql.yaml', 'hand: edited\n'));
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], { overwriteDrift: true }));
    expect(report.repositories).toMatchObject([{ outcome: 'published', drift: [{ path: 'values/mysql.yaml' }] }]);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
    expect(git(localRemote(outDir), 'log', '-1', '--format=%B', 'main')).toContain('Overwrote drift in: values/mysql.yaml');
  });

  it('replaces a symbolic link the repository holds where siteforge writes, with --overwrite-drift', async () => {
    // GIVEN a published repository where someone replaced the values folder with a link
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'Link values', (dir) => {
      git(dir, 'rm', '--quiet', '-r', 'values');
      symlinkSync('/etc', join(dir, 'values'));
    });
    // WHEN the site is published: the values are drift, then overwritten
    const stopped = await publish(options(outDir, [shop({ maxConnections: 900 })]));
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], { overwriteDrift: true }));
    // THEN the link gave way to the generated files, and nothing was written outside the repository
    expect(stopped.repositories).toMatchObject([{ outcome: 'drift', drift: [
      { path: 'values', change: 'in the way' }, { path: 'values/mysql.yaml', change: 'deleted' }, { path: 'values/redis.yaml', change: 'deleted' },
    ] }]);
    expect(stopped.repositories[0].error).toMatch(/^managed files changed .*: values\/mysql\.yaml \(deleted in [0-9a-f]{7}\); values\/redis\.yaml \(deleted in [0-9a-f]{7}\); a path stands where siteforge writes .*: values \(in the way in [0-9a-f]{7}\); move the change into the site definition, or publish with --overwrite-drift to replace them$/);
    expect(report.repositories).toMatchObject([{ outcome: 'published' }]);
    expect(git(localRemote(outDir), 'ls-tree', 'main', 'values')).toMatch(/^040000 tree /);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('rebuilds the commit on the new head and retries when the remote moved between fetch and push', async () => {
    // GIVEN a repository that someone pushes to while siteforge is publishing
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], {
      beforePush: async (remote, attempt) => {
        if (attempt === 1) commitByHand(remote.url, 'Add runbook meanwhile', (dir) => writeFile(dir, 'docs/runbook.md', '# Runbook\n'));
      },
    }));
    // THEN the second attempt lands on top of the other commit, nothing is lost
    expect(report.repositories).toMatchObject([{ outcome: 'published', attempts: 2 }]);
    expect(subjects(localRemote(outDir))).toStrictEqual([
      'siteforge: shop/prod: no object changes; 1 other file changed',
      'Add runbook meanwhile',
      expect.stringMatching(/^siteforge: shop\/prod: objects/),
    ]);
    expect(treeOf(localRemote(outDir))).toStrictEqual({ ...readTree(join(outDir, 'shop/prod')), 'docs/runbook.md': '# Runbook\n' });
  });

  it('rebuilds on a branch someone moved back meanwhile, and does not bring back what they dropped', async () => {
    // GIVEN a published repository where someone committed a leaked note by hand
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'Add a leaked note', (dir) => writeFile(dir, 'docs/leak.md', 'token\n'));
    // WHEN they move main back to drop it while siteforge publishes on top of it
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], {
      beforePush: async (remote, attempt) => {
        if (attempt === 1) git(remote.url, 'update-ref', 'refs/heads/main', 'refs/heads/main~1');
      },
    }));
    // THEN the push built on the leak is refused, and the commit is rebuilt on the moved-back main
    expect(report.repositories).toMatchObject([{ outcome: 'published', attempts: 2 }]);
    expect(subjects(localRemote(outDir))).toStrictEqual([
      'siteforge: shop/prod: no object changes; 1 other file changed',
      expect.stringMatching(/^siteforge: shop\/prod: objects/),
    ]);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('stops on a link where it writes a folder and a folder where it writes a file, and replaces them only when told', async () => {
    // GIVEN a repository someone started by hand: manifests is a link to docs, CODEOWNERS a folder
    const outDir = tempDir();
    const remote = bareRepository(localRemote(outDir));
    const work = tempDir();
    git(work, 'init', '--quiet', '--initial-branch=main');
    writeFile(work, 'docs/runbook.md', '# Runbook\n');
    writeFile(work, 'CODEOWNERS/team', 'ops\n');
    symlinkSync('docs', join(work, 'manifests'));
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'Start by hand');
    git(work, 'push', '--quiet', remote, 'main');
    const before = git(remote, 'rev-parse', 'main');
    // WHEN the site is published, THEN nothing is pushed, and both are named, with the commit that made them
    const report = await publish(options(outDir, [shop()]));
    expect(report.repositories).toMatchObject([{ outcome: 'drift', drift: [
      { path: 'CODEOWNERS', change: 'in the way', commits: [expect.stringMatching(/^[0-9a-f]{7} Hand Editor: Start by hand$/)] },
      { path: 'manifests', change: 'in the way', commits: [expect.stringMatching(/Start by hand$/)] },
    ] }]);
    expect(report.repositories[0].error).toMatch(/^paths stand where siteforge writes \(.*\): CODEOWNERS \(in the way in [0-9a-f]{7}\); manifests \(in the way in [0-9a-f]{7}\); move them out of the way, or publish with --overwrite-drift to replace them$/);
    expect(git(remote, 'rev-parse', 'main')).toBe(before);
    // AND with --overwrite-drift they are replaced by what siteforge writes; other files stay
    expect((await publish(options(outDir, [shop()], { overwriteDrift: true }))).repositories).toMatchObject([{ outcome: 'published' }]);
    expect(treeOf(remote)).toStrictEqual({ ...readTree(join(outDir, 'shop/prod')), 'docs/runbook.md': '# Runbook\n' });
  });

  it('stops on a file it did not write where it writes another, and leaves one holding what it writes alone', async () => {
    // GIVEN a published site, and then someone's own values/redis-extra.yaml and values/sentinel.yaml,
    // the one as siteforge will write it, the other not
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    const withSentinel = (): SiteDefinition => ({ name: 'shop', build(scope: Construct) {
      const site = shop().build(scope, catalog) as Site;
      site.node.findAll().filter((c): c is Environment => c instanceof Environment)[0].addInstance('sentinel', { service: catalog.service('redis') });
      return site;
    } });
    await synth({ fleet: [withSentinel()], catalog, outDir });
    const ours = readFileSync(join(outDir, 'shop/prod/values/sentinel.yaml'), 'utf8');
    const hand = commitByHand(localRemote(outDir), 'Tune sentinel by hand', (dir) => writeFile(dir, 'values/sentinel.yaml', `${ours}# tuned by ops\n`));
    // WHEN the site with that instance is published, THEN nothing is pushed and the file is named
    const report = await publish(options(outDir, [withSentinel()]));
    expect(report.repositories).toMatchObject([{ outcome: 'drift', drift: [{ path: 'values/sentinel.yaml', change: 'in the way', commits: [expect.stringMatching(new RegExp(`^${hand} Hand Editor: Tune sentinel by hand$`))] }] }]);
    expect(report.repositories[0].error).toMatch(/^a path stands where siteforge writes \(a file it did not write, .*\): values\/sentinel\.yaml \(in the way in [0-9a-f]{7}\); move it out of the way, or publish with --overwrite-drift to replace it$/);
    expect(readTree(join(outDir, 'shop/prod'))['values/sentinel.yaml']).toBe(ours);
    // AND one holding what siteforge writes, but executable, is in the way too
    commitByHand(localRemote(outDir), 'Agree with siteforge, executable', (dir) => {
      writeFile(dir, 'values/sentinel.yaml', ours);
      chmodSync(join(dir, 'values/sentinel.yaml'), 0o755);
    });
    expect((await publish(options(outDir, [withSentinel()]))).repositories).toMatchObject([{ outcome: 'drift', drift: [{ path: 'values/sentinel.yaml', change: 'in the way' }] }]);
    // AND once that file holds what siteforge writes, it is published over it
    commitByHand(localRemote(outDir), 'Agree with siteforge', (dir) => chmodSync(join(dir, 'values/sentinel.yaml'), 0o644));
    expect((await publish(options(outDir, [withSentinel()]))).repositories).toMatchObject([{ outcome: 'published', drift: [] }]);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('stops when the state file was deleted in the repository: every file it would change is someone\'s until told', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'Drop the state, tune mysql', (dir) => {
      rmSync(join(dir, '.siteforge/state.json'));
      writeFileSync(join(dir, 'values/mysql.yaml'), `${readFileSync(join(dir, 'values/mysql.yaml'), 'utf8')}# Jane\n`);
    });
    const report = await publish(options(outDir, [shop()]));
    expect(report.repositories).toMatchObject([{ outcome: 'drift', drift: [{ path: 'values/mysql.yaml', change: 'in the way' }] }]);
    expect(treeOf(localRemote(outDir))['values/mysql.yaml']).toMatch(/# Jane\n$/);
    expect((await publish(options(outDir, [shop()], { overwriteDrift: true }))).repositories).toMatchObject([{ outcome: 'published' }]);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });

  it('keeps the output folder to itself while it publishes: a synth started meanwhile is refused, and writes nothing', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    let meanwhile: unknown;
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], {
      beforePush: async () => {
        meanwhile = await synth({ fleet: [shop({ maxConnections: 1000 })], catalog, outDir }).catch((e) => e);
      },
    }));
    expect(report.repositories).toMatchObject([{ outcome: 'published' }]);
    expect((meanwhile as Error).message).toMatch(new RegExp(`^another siteforge \\(process ${process.pid}\\) is writing to ${outDir}; `));
    expect(readFileSync(join(outDir, 'shop/prod/values/mysql.yaml'), 'utf8')).toContain('900');
    expect(existsSync(join(outDir, '.siteforge-lock'))).toBe(false);
  });

  it('fails cleanly after the bounded number of retries when the remote keeps moving', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    let n = 0;
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], {
      retries: 1,
      beforePush: async (remote) => {
        commitByHand(remote.url, `Meanwhile ${++n}`, (dir) => writeFile(dir, `docs/${n}.md`, `${n}\n`));
      },
    }));
    expect(report.repositories).toMatchObject([{ outcome: 'failed', attempts: 2, error: expect.stringMatching(/^the remote kept moving; gave up after 2 attempts/) }]);
    expect(subjects(localRemote(outDir))).toStrictEqual(['Meanwhile 2', 'Meanwhile 1', expect.stringMatching(/^siteforge:/)]);
  });

  it('fails at once, without retrying, when the remote declines the push', async () => {
    // GIVEN a repository whose pre-receive hook protects main
    const base = tempDir();
    const remote = bareRepository(join(base, 'shop-prod.git'));
    writeFileSync(join(remote, 'hooks/pre-receive'), '#!/bin/sh\necho "main is protected" >&2\nexit 1\n');
    chmodSync(join(remote, 'hooks/pre-receive'), 0o755);
    // WHEN siteforge publishes straight to main
    const report = await publish(options(tempDir(), [shop({ gitRemote: `file://${base}/{site}-{env}.git` })]));
    // THEN the repository fails with git's reason after one attempt
    expect(report.repositories).toMatchObject([{ outcome: 'failed', attempts: 1 }]);
    expect(report.repositories[0].error).toMatch(/^main is protected; ! \[remote rejected\] [0-9a-f]{7} -> main \(pre-receive hook declined\)$/);
    expect(git(remote, 'branch', '--list')).toBe('');
  });

  it('fails at once, with git\'s reason, a review branch that cannot be made beside a branch of its name', async () => {
    // GIVEN a repository with a branch named `siteforge`, where `siteforge/<name>` cannot be created
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    git(localRemote(outDir), 'branch', 'siteforge', 'main');
    // WHEN a review branch is published, THEN it fails after one attempt, saying why
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], { direct: false, branch: 'tune' }));
    expect(report.repositories).toMatchObject([{ outcome: 'failed', attempts: 1 }]);
    expect(report.repositories[0].error).toMatch(/^cannot lock ref 'refs\/heads\/siteforge\/tune': 'refs\/heads\/siteforge' exists; cannot create 'refs\/heads\/siteforge\/tune'; ! \[remote rejected\] [0-9a-f]{7} -> siteforge\/tune \(failed to update ref\)$/);
  });

  it('tries again while the branch is locked in the remote, then says so, with git\'s reason', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    writeFileSync(join(localRemote(outDir), 'refs/heads/main.lock'), '');
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })], { retries: 1 }));
    expect(report.repositories).toMatchObject([{ outcome: 'failed', attempts: 2 }]);
    expect(report.repositories[0].error).toMatch(/^main stayed locked in the remote \(another push kept it busy, or a lock file was left behind\); gave up after 2 attempts \(cannot lock ref 'refs\/heads\/main': Unable to create '.*main\.lock': File exists\./);
    // AND once the lock is gone, it publishes
    rmSync(join(localRemote(outDir), 'refs/heads/main.lock'));
    expect((await publish(options(outDir, [shop({ maxConnections: 900 })]))).repositories).toMatchObject([{ outcome: 'published', attempts: 1 }]);
  });

  it('lands both of two concurrent publishes to one repository, one after the other', async () => {
    // GIVEN two publishers (two CI jobs) with different output for the same repository
    const base = tempDir();
    const remote = bareRepository(join(base, 'shop-prod.git'));
    const gitRemote = `file://${base}/{site}-{env}.git`;
    const [outA, outB] = [tempDir(), tempDir()];
    await publish(options(outA, [shop({ gitRemote })]));
    // WHEN both fetch the same head and push at the same moment
    let arrived = 0;
    let release: () => void = () => {};
    const bothReady = new Promise<void>((resolve) => (release = resolve));
    const barrier = async (_: unknown, attempt: number) => {
      if (attempt > 1) return;
      if (++arrived === 2) release();
      await bothReady;
    };
    const [a, b] = await Promise.all([
      publish(options(outA, [shop({ gitRemote, maxConnections: 700 })], { beforePush: barrier })),
      publish(options(outB, [shop({ gitRemote, withRedis: false })], { beforePush: barrier })),
    ]);
    // THEN both land: one at once, the other rebuilt on top of it
    const results = [a.repositories[0], b.repositories[0]];
    expect(results.map((r) => r.outcome)).toStrictEqual(['published', 'published']);
    expect(results.map((r) => r.attempts).sort()).toStrictEqual([1, 2]);
    expect(subjects(remote)).toHaveLength(3);
    const last = results.find((r) => r.attempts === 2)!;
    const lastOut = last === results[0] ? outA : outB;
    expect(git(remote, 'rev-parse', '--short=7', 'main')).toBe(last.commit);
    expect(treeOf(remote)).toStrictEqual(readTree(join(lastOut, 'shop/prod')));
  });

  it('keeps dist/.remotes when a full synth prunes environments that left the fleet', async () => {
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    await synth({ fleet: [shop({ name: 'other' })], catalog, outDir });
    expect(existsSync(join(outDir, 'shop/prod'))).toBe(false);
    expect(existsSync(join(localRemote(outDir), 'HEAD'))).toBe(true);
  });

  it('publishes the example fleet and the repositories can be cloned', async () => {
    const outDir = tempDir();
    const report = await publish(options(outDir, [...exampleFleet]));
    const environments = exampleFleet.flatMap((d) => buildSite(d, builtinCatalog()).environments.map((e) => `${d.name}/${e.name}`));
    expect(report.repositories.map((r) => `${r.site}/${r.env} ${r.outcome}`)).toStrictEqual(environments.map((e) => `${e} published`));
    expect(environments.length).toBe(13);
    expect(treeOf(join(outDir, '.remotes/acme-prod.git'))).toStrictEqual(readTree(join(outDir, 'acme/prod')));
  });
});

describe('commitMessage', () => {
  it('lists as instances the owners of instance files in every layout, leaving out the environment\'s shared files', () => {
    // GIVEN a change to one file of each kind an instance has (Argo CD, Flux, Helm values, Ansible), and to shared files
    const instanceFiles = [
      'apps/application-web.yaml', 'apps/kustomization-api.yaml', 'apps/kustomization-queue-manifests.yaml', 'apps/releases/cache/helmrelease-cache.yaml',
      'manifests/db/statefulset-db.yaml', 'values/search.yaml', 'ansible/group_vars/logs/vault.yml', 'ansible/roles/mysql/templates/orders/etc/mysql/conf.d/siteforge.cnf.j2',
    ];
    const sharedFiles = [
      'README.md', 'CODEOWNERS', 'artifacts.lock.json', 'apps/project.yaml', 'apps/root-project.yaml', 'apps/root.yaml', 'apps/kustomization.yaml',
      'apps/application-namespace.yaml', 'apps/application-secrets.yaml', 'apps/kustomization-namespace.yaml', 'apps/kustomization-secrets.yaml',
      'apps/kustomization-values.yaml', 'apps/gitrepository.yaml', 'values/kustomization.yaml', 'manifests/namespace/namespace-shop-prod.yaml',
      'manifests/secrets/externalsecret-db-credentials.yaml', 'ansible/group_vars/all/main.yml', 'ansible/host_vars/db1.yml',
      'ansible/inventory.yml', 'ansible/playbook.yml', 'ansible/roles/mysql/tasks/main.yml',
    ];
    const files = [...instanceFiles, ...sharedFiles].map((path) => ({ change: 'changed' as const, path, fields: [], lines: [] }));
    // WHEN its commit message is written
    const message = commitMessage({ site: 'shop', env: 'prod' }, { objects: [], files }, []);
    // THEN it names the instances, each once, and nothing else
    expect(message.split('\n').slice(0, 4)).toStrictEqual([
      `siteforge: shop/prod: no object changes; ${files.length} other files changed`, '', 'Instances: api, cache, db, logs, orders, queue, search, web', '',
    ]);
  });
});

describe('publish over git:// and ssh://', () => {
  const daemon = gitDaemonForSuite();

  it.skipIf(!gitDaemonTests)('publishes to a git daemon on 127.0.0.1 and reports an unreachable remote among three', async () => {
    // GIVEN three sites: two served by the daemon, one on a port nothing listens on
    bareRepository(join(daemon.served, 'one-prod.git'));
    bareRepository(join(daemon.served, 'two-prod.git'));
    const outDir = tempDir();
    const fleet = [
      shop({ name: 'one', gitRemote: `${daemon.url}/{site}-{env}.git` }),
      shop({ name: 'two', gitRemote: `${daemon.url}/{site}-{env}.git` }),
      shop({ name: 'three', gitRemote: 'git://127.0.0.1:9/{site}-{env}.git' }),
    ];
    // WHEN the fleet is published
    const report = await publish(options(outDir, fleet));
    // THEN two land and the third fails with git's reason
    expect(report.repositories.map((r) => [r.site, r.outcome])).toStrictEqual([['one', 'published'], ['two', 'published'], ['three', 'failed']]);
    expect(report.repositories[2].error).toMatch(/unable to connect to 127\.0\.0\.1/);
    expect(treeOf(join(daemon.served, 'two-prod.git'))).toStrictEqual(readTree(join(outDir, 'two/prod')));
  });

  it('uses core.sshCommand from git configuration for ssh:// remotes, and commits without a configured identity', async () => {
    // GIVEN an ssh:// remote and a global git config whose core.sshCommand runs the command locally
    const home = tempDir('siteforge-home-');
    const repos = tempDir('siteforge-ssh-');
    bareRepository(join(repos, 'shop-prod.git'));
    const ssh = join(home, 'fake-ssh');
    writeFileSync(ssh, '#!/bin/sh\n# last argument is the git command to run on the "server"\nfor last; do :; done\necho "$@" >> "$(dirname "$0")/ssh.log"\nexec sh -c "$last"\n');
    chmodSync(ssh, 0o755);
    writeFileSync(join(home, '.gitconfig'), `[core]\n\tsshCommand = ${ssh}\n[ssh]\n\tvariant = simple\n`);
    const previous = process.env.HOME;
    process.env.HOME = home;
    try {
      // WHEN the site is published
      const outDir = tempDir();
      const report = await publish(options(outDir, [shop({ gitRemote: `ssh://git@deploy.example.internal${repos}/{site}-{env}.git` })]));
      // THEN git went through the configured command and the content landed
      expect(report.repositories).toMatchObject([{ outcome: 'published' }]);
      expect(readFileSync(join(home, 'ssh.log'), 'utf8')).toContain(`git@deploy.example.internal git-receive-pack '${repos}/shop-prod.git'`);
      expect(treeOf(join(repos, 'shop-prod.git'))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
      // AND with no user.name/user.email in that configuration, commits get siteforge's identity
      expect(git(join(repos, 'shop-prod.git'), 'log', '-1', '--format=%an <%ae> / %cn <%ce>', 'main')).toBe('siteforge <siteforge@localhost> / siteforge <siteforge@localhost>');
    } finally {
      process.env.HOME = previous;
    }
  });
});

/** sshd tests run where OpenSSH's server is installed, and always under CI (.ci/run installs it). */
const sshdTests = existsSync(SSHD) || process.env.CI === 'true';

describe.skipIf(!sshdTests)('publish over ssh to an OpenSSH server on 127.0.0.1', () => {
  let server: SshServer;
  const serverDir = mkdtempSync(join(tmpdir(), 'siteforge-sshd-'));
  beforeAll(async () => {
    server = await startSshd(serverDir);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(serverDir, { recursive: true, force: true });
  });
  /** A home whose git configuration sets up ssh as a user would, but without BatchMode: ssh may ask about an unknown host. */
  const homeKnowing = (knownHosts: string) => {
    const home = tempDir('siteforge-home-');
    writeFileSync(join(home, 'known_hosts'), knownHosts);
    writeFileSync(join(home, '.gitconfig'), `[core]\n\tsshCommand = ssh -i ${server.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${join(home, 'known_hosts')}\n`);
    return home;
  };
  const remote = (repos: string) => `ssh://${userInfo().username}@127.0.0.1:${server.port}${repos}/{site}-{env}.git`;

  it('fails at once at a terminal where ssh would ask whether to trust an unknown host, saying what to do', () => {
    // GIVEN a remote whose host key is not in known_hosts, and publish run on a terminal (script's pty)
    const repos = tempDir('siteforge-ssh-');
    bareRepository(join(repos, 'shop-prod.git'));
    const home = homeKnowing('');
    const runner = join(tempDir('siteforge-runner-'), 'publish.mts');
    writeFileSync(runner, [
      `import { publish } from ${JSON.stringify(join(ROOT, 'engine/publish.ts'))};`,
      `import { loadCatalog } from ${JSON.stringify(join(ROOT, 'catalog/index.ts'))};`,
      `import { Site } from ${JSON.stringify(join(ROOT, 'constructs/index.ts'))};`,
      'const catalog = loadCatalog();',
      'const fleet = [{ name: "shop", build(scope) {',
      '  const site = new Site(scope, "shop", { domain: "shop.example.com", gitRemote: process.argv[2] });',
      '  const env = site.addEnvironment("prod");',
      '  env.addCluster();',
      '  env.addInstance("redis", { service: catalog.service("redis") });',
      '  return site;',
      '} }];',
      'const report = await publish({ fleet, catalog, outDir: process.argv[3], direct: true });',
      'console.log("REPORT " + JSON.stringify(report.repositories.map((r) => [r.outcome, r.error])));',
      '',
    ].join('\n'));
    const command = [process.execPath, '--import', 'tsx', runner, remote(repos), tempDir()].map((a) => `'${a}'`).join(' ');
    // WHEN it runs (a prompt would wait for an answer until the timeout)
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 60_000 });
    // THEN the repository failed with ssh's reason and what to do about it, and nothing was asked
    expect(run.error).toBeUndefined();
    expect(run.stdout).not.toContain('Are you sure you want to continue connecting');
    expect(run.stdout).toMatch(/REPORT \[\["failed","[^"]*Host key verification failed\.[^"]*\(the host's key is not in ~\/\.ssh\/known_hosts, or is not the one recorded there: check its fingerprint and add it, e\.g\. with ssh-keyscan\)"\]\]/);
    expect(git(join(repos, 'shop-prod.git'), 'for-each-ref')).toBe('');
  });

  it('publishes over real ssh once the host key is known', async () => {
    // GIVEN the server's key in known_hosts
    const repos = tempDir('siteforge-ssh-');
    bareRepository(join(repos, 'shop-prod.git'));
    const home = homeKnowing(server.knownHostsLine);
    const previous = process.env.HOME;
    process.env.HOME = home;
    try {
      // WHEN the site is published over ssh://
      const outDir = tempDir();
      const report = await publish(options(outDir, [shop({ gitRemote: remote(repos) })]));
      // THEN it landed
      expect(report.repositories).toMatchObject([{ outcome: 'published' }]);
      expect(treeOf(join(repos, 'shop-prod.git'))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
    } finally {
      process.env.HOME = previous;
    }
  });
});

describe('publish, with what repositories hold and git is configured with', () => {
  it('commits as git would in the repository: author.* settings and includeIf sections apply', async () => {
    // GIVEN a git configuration whose includeIf gives repositories of this remote another identity
    const home = tempDir('siteforge-home-');
    writeFileSync(join(home, 'corp.inc'), '[user]\n\tname = Corp Name\n\temail = corp@example.com\n');
    writeFileSync(join(home, '.gitconfig'), [
      '[user]\n\tname = Personal\n\temail = me@personal.example\n',
      '[author]\n\temail = me@author.example\n',
      `[includeIf "hasconfig:remote.*.url:**/shop-prod.git"]\n\tpath = ${join(home, 'corp.inc')}\n`,
    ].join(''));
    const previous = process.env.HOME;
    process.env.HOME = home;
    try {
      // WHEN the site is published
      const outDir = tempDir();
      expect((await publish(options(outDir, [shop()]))).repositories).toMatchObject([{ outcome: 'published' }]);
      // THEN the commit carries the identity git gives that repository
      expect(git(localRemote(outDir), 'log', '-1', '--format=%an <%ae> / %cn <%ce>', 'main')).toBe('Corp Name <me@author.example> / Corp Name <corp@example.com>');
    } finally {
      process.env.HOME = previous;
    }
  });

  it('publishes over a state file that lists paths outside the repository, touching nothing there', async () => {
    // GIVEN a repository whose state file someone made list ../outside and ./x
    const outDir = tempDir();
    await publish(options(outDir, [shop()]));
    commitByHand(localRemote(outDir), 'List odd paths', (dir) => {
      const state = JSON.parse(readFileSync(join(dir, '.siteforge/state.json'), 'utf8')) as { files: Record<string, string> };
      writeFileSync(join(dir, '.siteforge/state.json'), JSON.stringify({ ...state, files: { ...state.files, '../outside': 'sha256:0', './x': 'sha256:0' } }, null, 2));
    });
    // WHEN the site is published and compared again
    const report = await publish(options(outDir, [shop({ maxConnections: 900 })]));
    // THEN it is published, and the repository holds exactly the output
    expect(report.repositories).toMatchObject([{ outcome: 'published', drift: [] }]);
    expect(treeOf(localRemote(outDir))).toStrictEqual(readTree(join(outDir, 'shop/prod')));
  });
});

describe('git hardening', () => {
  it.each([
    'ext::sh -c touch% /tmp/pwned',
    '--upload-pack=touch /tmp/pwned',
    '-oProxyCommand=x',
    'ssh://-oProxyCommand=x/repo.git',
    'fd::17',
    'https://example.com/a b.git',
  ])('refuses the remote %j', (url) => {
    expect(() => assertSafeRemote(url)).toThrow(/is not allowed: use an https:\/\/, http:\/\/, ssh:\/\/, git:\/\/, file:\/\/ or user@host:path URL/);
  });

  it.each([
    'https://git.example.com/delivery/acme-prod.git', 'http://git.example.com/delivery/acme-prod.git', 'ssh://git@git.example.com:2222/acme.git',
    'git://127.0.0.1:9418/x.git', 'file:///srv/git/acme-prod.git', 'git@git.example.com:delivery/acme-prod.git',
  ])(
    'accepts the remote %j, of a form its error lists',
    (url) => expect(() => assertSafeRemote(url)).not.toThrow(),
  );

  it.each(['-f', '--force', 'a..b', 'siteforge/.hidden', 'x.lock', 'a b', 'HEAD', 'refs//x'])('refuses the branch %j', (name) => {
    expect(() => assertSafeBranch(name)).toThrow(`branch ${JSON.stringify(name)} is not a valid branch name: use letters, digits, '.', '_', '-' and '/' (not starting with '-' or '.', no '..')`);
  });

  it('refuses a review branch given as an option before touching any repository', async () => {
    const outDir = tempDir();
    await expect(publish(options(outDir, [shop()], { direct: false, branch: '-f' }))).rejects.toThrow('review branch "siteforge/-f" is not a valid branch name');
    expect(existsSync(localRemote(outDir))).toBe(false);
  });
});
