import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { Placement, Site } from '../../constructs';
import { renderEnvironmentSecurely } from '../../engine/secrets';
import { ansible, ansibleTests, suiteFolders, writeFiles } from './ansible-helpers';

/** The plays of a run's output in order, each with the hosts that reported a task result in it (sorted: forks answer in any order). */
function batches(stdout: string): { play: string; hosts: string[] }[] {
  const plays: { play: string; hosts: string[] }[] = [];
  for (const line of stdout.split('\n')) {
    const play = /^PLAY \[(.*)\]/.exec(line);
    if (play) plays.push({ play: play[1], hosts: [] });
    const result = /^(?:ok|changed|skipping): \[([^\]]+)\]/.exec(line);
    if (result && plays.length > 0 && !plays.at(-1)!.hosts.includes(result[1])) plays.at(-1)!.hosts.push(result[1]);
  }
  return plays.map((p) => ({ ...p, hosts: p.hosts.sort() }));
}

/**
 * A real run of the playbook of an Elasticsearch cluster on three hosts (all this machine,
 * ansible_connection=local, each with its own root): an upgrade goes one host at a time, an
 * install on every host at once.
 */
/** The playbook's first play, which checks the OS family (skipped here: packages and services are off). */
const CHECK_PLAY = 'Check that the hosts run Debian or Ubuntu';

describe('the upgrade of an Elasticsearch cluster on VMs', () => {
  const catalog = loadCatalog();
  const hosts = ['es-1', 'es-2', 'es-3'];
  const { repo, root } = suiteFolders();

  if (ansibleTests) {
    // GIVEN the repository of an environment with Elasticsearch (cluster) on three hosts
    const site = new Site(new App({ outdir: '/nonexistent' }), 'lab', { domain: 'lab.example.com' });
    const env = site.addEnvironment('local');
    const group = env.addHostGroup('machines', {
      hosts: hosts.map((name, i) => ({ name, address: `127.0.0.${i + 1}`, roles: ['middleware' as const], local: true })),
    });
    env.addInstance('logs', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes: 3, placement: Placement.vm({ group }) });
    const outDir = mkdtempSync(join(tmpdir(), 'siteforge-out-'));
    try {
      writeFiles(repo, renderEnvironmentSecurely(env, { outDir, variables: { ...process.env } }));
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    // One root per host, as three machines would have.
    for (const host of hosts) appendFileSync(join(repo, 'ansible/host_vars', `${host}.yml`), `siteforge_root: ${JSON.stringify(join(root, host))}\n`);
  }
  const run = (extra: string[] = []) => ansible('ansible-playbook', [
    '-i', 'ansible/inventory.yml', 'ansible/playbook.yml',
    '-e', JSON.stringify({ siteforge_install_packages: false, siteforge_manage_services: false, ansible_become: false }),
    ...extra,
  ], repo);

  it.skipIf(!ansibleTests)('installs every node at once', async () => {
    // WHEN the playbook runs without tags (install)
    const install = await run();

    // THEN the instance's play runs once, on the three hosts together, without the upgrade's waits
    expect(install.stderr + install.stdout).not.toMatch(/fatal|ERROR!/);
    expect(install.status).toBe(0);
    expect(batches(install.stdout)).toStrictEqual([{ play: CHECK_PLAY, hosts }, { play: 'Instance logs (elasticsearch 7.8.1)', hosts }]);
    expect(install.stdout).not.toContain('before upgrading the next host');
  });

  it.skipIf(!ansibleTests)('upgrades one node at a time, each through its restart and wait before the next', async () => {
    // WHEN the playbook runs with --tags upgrade
    const upgrade = await run(['--tags', 'upgrade']);

    // THEN the play runs once per host, in host order, each batch writing, restarting and waiting on its host alone
    expect(upgrade.stderr + upgrade.stdout).not.toMatch(/fatal|ERROR!/);
    expect(upgrade.status).toBe(0);
    expect(batches(upgrade.stdout)).toStrictEqual([
      { play: CHECK_PLAY, hosts },
      ...hosts.map((host) => ({ play: 'Instance logs (elasticsearch 7.8.1)', hosts: [host] })),
    ]);
    const tasks = upgrade.stdout.split(/^PLAY \[/m).slice(2).map((batch) => [...batch.matchAll(/^TASK \[elasticsearch : (.*)\]/gm)].map((m) => m[1]));
    for (const batch of tasks) {
      expect(batch).toStrictEqual([
        'Allocate only primaries while this node restarts',
        'Install the Elasticsearch package of this catalog version',
        'Create the config directories of elasticsearch',
        'Write /etc/elasticsearch/elasticsearch.yml',
        'Write /etc/elasticsearch/jvm.options.d/heap.options',
        'Start and enable elasticsearch',
        'Restart elasticsearch now if its upgrade changed it',
        'Wait until this node answers',
        'Allocate every shard again',
        'Wait until the cluster is green before the next host',
      ]);
    }
  });
});
