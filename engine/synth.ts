import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvironment, type RenderedFile } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { UserError, UserErrors, userErrorsOf } from './errors';
import { buildSite, selectEnvironments, selectSites, type Selection } from './fleet';
import { OutputTransaction, readState, type EnvironmentChanges } from './output';
import { assertValidObjects } from './validate-objects';

export interface SynthOptions extends Selection {
  readonly fleet: readonly SiteDefinition[];
  readonly catalog: Catalog;
  /** Folder that receives `<site>/<env>/` repositories. */
  readonly outDir: string;
  /**
   * Render and check everything, write nothing.
   * @default false
   */
  readonly dryRun?: boolean;
  /** Called after each environment is rendered. */
  readonly onEnvironment?: (result: EnvironmentResult) => void;
}

/** What synth did to one environment repository. */
export interface EnvironmentResult extends EnvironmentChanges {
  readonly site: string;
  readonly env: string;
  /** Number of files the repository holds after the synth (state file included). */
  readonly files: number;
  /** The environment is no longer in the fleet and its files were removed. */
  readonly removed: boolean;
}

export interface SynthReport {
  readonly environments: readonly EnvironmentResult[];
}

/**
 * Builds, renders and writes the selected environments. Sites are built one at a time and
 * dropped once rendered. Every user error of every selected site is collected and thrown
 * together, and then nothing is written: the previous output stays as it was. A full synth
 * (no selection) also removes the repositories of environments that left the fleet.
 */
export async function synth(options: SynthOptions): Promise<SynthReport> {
  const transaction = options.dryRun ? undefined : new OutputTransaction(options.outDir);
  try {
    const errors: UserError[] = [];
    const results: EnvironmentResult[] = [];
    const kept = new Set<string>();
    for (const definition of selectSites(options.fleet, options)) {
      const rendered: { site: string; env: string; files: RenderedFile[] }[] = [];
      try {
        const site = buildSite(definition, options.catalog);
        for (const env of selectEnvironments(site, options)) {
          const files = renderEnvironment(env);
          assertValidObjects(`${site.name}/${env.name}`, files);
          rendered.push({ site: site.name, env: env.name, files });
        }
      } catch (e) {
        const found = userErrorsOf(e);
        if (found.length === 0) throw e;
        errors.push(...found);
        continue;
      }
      for (const { site, env, files } of rendered) {
        const repo = `${site}/${env}`;
        kept.add(repo);
        const changes = transaction?.stage(repo, files) ?? { repo, written: [], deleted: [], unchanged: 0 };
        const result = { ...changes, site, env, files: files.length + 1, removed: false };
        results.push(result);
        options.onEnvironment?.(result);
      }
    }
    UserErrors.throwIfAny(errors);
    if (transaction && options.site === undefined && options.env === undefined) {
      for (const repo of managedRepositories(options.outDir).filter((r) => !kept.has(r))) {
        const [site, env] = repo.split('/');
        const result = { ...transaction.stageRemoval(repo), site, env, files: 0, removed: true };
        results.push(result);
        options.onEnvironment?.(result);
      }
    }
    transaction?.commit();
    return { environments: results };
  } finally {
    transaction?.abort();
  }
}

/** `<site>/<env>` of every repository under `outDir` that siteforge wrote. */
function managedRepositories(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  const repos: string[] = [];
  for (const site of readdirSync(outDir, { withFileTypes: true })) {
    if (!site.isDirectory() || site.name.startsWith('.')) continue;
    for (const env of readdirSync(join(outDir, site.name), { withFileTypes: true })) {
      if (env.isDirectory() && readState(join(outDir, site.name, env.name))) repos.push(`${site.name}/${env.name}`);
    }
  }
  return repos.sort();
}
