import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synth } from '../../engine';
import { userErrorsOf } from '../../engine/errors';
import { fleet } from '../../sites';
import { builtinCatalog, readTree, tempDir, withoutSealedValues } from '../helpers';

const fleetModule = join(import.meta.dirname, '..', '..', 'sites', 'index.ts');

describe('parallel synth', () => {
  it('writes byte-identical output with worker threads and without', async () => {
    const single = tempDir();
    const parallel = tempDir();
    const inWorkers = tempDir();
    const catalog = builtinCatalog();
    const one = await synth({ fleet, catalog, outDir: single, workers: 1 });
    const two = await synth({ fleet, catalog, outDir: parallel, workers: 2, fleetModule });
    // Every site rendered by the workers' compiled program, none by this thread.
    const progress: [number, number][] = [];
    const workersOnly = await synth({ fleet, catalog, outDir: inWorkers, workers: 3, fleetModule, renderInThisThread: false, onSiteDone: (done, total) => progress.push([done, total]) });
    expect(withoutSealedValues(readTree(parallel))).toStrictEqual(withoutSealedValues(readTree(single)));
    expect(withoutSealedValues(readTree(inWorkers))).toStrictEqual(withoutSealedValues(readTree(single)));
    expect(two.environments.map((e) => e.repo)).toStrictEqual(one.environments.map((e) => e.repo));
    expect(workersOnly.environments.map((e) => e.repo)).toStrictEqual(one.environments.map((e) => e.repo));
    // Each site counted once, as the workers finish it.
    expect(progress).toStrictEqual(fleet.map((_, i) => [i + 1, fleet.length]));
  });

  it('renders in a worker a site whose values were checked against their fingerprints in this thread, keeping its sealed values', async () => {
    const outDir = tempDir();
    const catalog = builtinCatalog();
    await synth({ fleet, catalog, outDir, workers: 1 });
    const before = readTree(outDir);
    // acme/prod and koca/prod seal values their vaults hold, with their fingerprints: a deleted
    // file makes each render (two sites, so that a worker thread is started).
    for (const repo of ['acme/prod', 'koca/prod']) {
      expect(before[`${repo}/manifests/secrets/sealedsecret-mysql-credentials.yaml`]).toContain('siteforge.dev/value-fingerprints');
      rmSync(join(outDir, repo, 'README.md'));
    }
    const rendered: string[] = [];
    const report = await synth({ fleet, catalog, outDir, workers: 2, fleetModule, renderInThisThread: false, onEnvironment: (e) => (e.rendered ? rendered.push(e.repo) : undefined) });
    expect(report.workerProgram).toBeDefined();
    expect(rendered.sort()).toStrictEqual(['acme/prod', 'koca/prod']);
    // Every value kept as it was sealed: byte for byte the same files.
    expect(readTree(outDir)).toStrictEqual(before);
  });

  it('reports no site done once a failure in this thread ended the synth, though fingerprint checks were still under way', async () => {
    const outDir = tempDir();
    const catalog = builtinCatalog();
    await synth({ fleet, catalog, outDir, workers: 1 });
    // demo/all-in-one reads no variable: missing a file, it is rendered at once, while the values
    // of acme, koca and rainbond are still checked against their fingerprints.
    rmSync(join(outDir, 'demo/all-in-one/README.md'));
    const late = await reportedAfterFailing('a bug in a callback', (report) => synth({
      fleet, catalog, outDir, workers: 1,
      onEnvironment: (e) => {
        report(e.repo);
        if (e.site === 'demo') throw new Error('a bug in a callback');
      },
      onSiteDone: (done) => report(`site ${done}`),
    }));
    expect(late).toStrictEqual([]);
  });

  it('reports no site done once finding the workers\' program failed, though fingerprint checks were still under way', async () => {
    const outDir = tempDir();
    const catalog = builtinCatalog();
    await synth({ fleet, catalog, outDir, workers: 1 });
    // demo and blueking read no variable: missing a file, they need two threads, while the
    // values of acme, koca and rainbond are still checked against their fingerprints.
    for (const repo of ['demo/all-in-one', 'blueking/prod']) rmSync(join(outDir, repo, 'README.md'));
    // Workers without the fleet's module: a programming error, found before any site is rendered.
    const late = await reportedAfterFailing('synth with workers needs fleetModule', (report) => synth({
      fleet, catalog, outDir, workers: 2,
      onEnvironment: (e) => report(e.repo),
      onSiteDone: (done) => report(`site ${done}`),
    }));
    expect(late).toStrictEqual([]);
  });

  it('fails, rather than waiting for ever, when what a site found unchanged by its fingerprint checks is reported throws', async () => {
    const outDir = tempDir();
    const catalog = builtinCatalog();
    await synth({ fleet, catalog, outDir, workers: 1 });
    // acme reads the vault password: it is found unchanged once its values are checked.
    const failed = synth({ fleet, catalog, outDir, workers: 1, onEnvironment: (e) => { if (e.site === 'acme') throw new Error('a bug in a callback'); } });
    const waited = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 20_000));
    await expect(Promise.race([failed, waited])).rejects.toThrow('a bug in a callback');
  });

  it('collects the user errors of sites rendered in workers and writes nothing', async () => {
    const outDir = tempDir();
    const brokenFleet = join(tempDir(), 'fleet.mts');
    const root = join(import.meta.dirname, '..', '..');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(brokenFleet, `
import { Site } from '${root}/constructs';
import type { SiteDefinition } from '${root}/sites';
const site = (name: string, nodes: number): SiteDefinition => ({ name, build(scope, catalog) {
  const s = new Site(scope, name, { domain: name + '.example.com' });
  const env = s.addEnvironment('prod');
  env.addCluster();
  env.addInstance('es', { service: catalog.service('elasticsearch'), profile: 'cluster', nodes });
  return s;
} });
export const fleet = [site('a', 3), site('b', 2), site('c', 4), site('d', 2)];
`);
    const { loadFleet } = await import('../../engine');
    const { fleet: loaded } = await loadFleet(brokenFleet);
    await expect(synth({ fleet: loaded, catalog: builtinCatalog(), outDir, workers: 2, fleetModule: brokenFleet, renderInThisThread: false }))
      .rejects.toThrow('b/prod/es: nodes must be at least 3 for profile cluster, got 2\nd/prod/es: nodes must be at least 3 for profile cluster, got 2');
    expect(readTree(outDir)).toStrictEqual({});
  });

  it('reports what staging refuses in a worker as the user error it is', async () => {
    const outDir = tempDir();
    const catalog = builtinCatalog();
    await synth({ fleet, catalog, outDir, workers: 1 });
    const { mkdirSync, rmSync } = await import('node:fs');
    rmSync(join(outDir, 'koca/test/README.md'));
    mkdirSync(join(outDir, 'koca/test/README.md'));
    const before = readTree(outDir);
    const error: unknown = await synth({ fleet, catalog, outDir, workers: 2, fleetModule, renderInThisThread: false, renderAll: true }).catch((e) => e);
    // A user error (exit 1, no stack), not a bug found in a worker.
    expect(userErrorsOf(error).map((e) => e.message)).toStrictEqual([`${join(outDir, 'koca/test/README.md')} is a folder where siteforge writes a file; move it out of the output folder and synth again`]);
    expect(readTree(outDir)).toStrictEqual(before);
  });
});

/**
 * What the synth `run` starts reports through `report` after it has failed with `message`,
 * waiting longer than its fingerprint checks take (about 100 ms each, two at a time).
 */
async function reportedAfterFailing(message: string, run: (report: (what: string) => void) => Promise<unknown>): Promise<string[]> {
  let rejected = false;
  const late: string[] = [];
  await expect(run((what) => (rejected ? late.push(what) : undefined))).rejects.toThrow(message);
  rejected = true;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return late;
}
