import { renderEnvironment, type RenderedFile } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { userErrorsOf } from './errors';
import { buildSite, selectEnvironments, type Selection } from './fleet';
import type { StagedEnvironment } from './output';

/** What synth did to one environment repository. */
export interface EnvironmentResult extends StagedEnvironment {
  readonly site: string;
  readonly env: string;
  /** Number of files the repository holds after the synth (state file included). */
  readonly files: number;
  /** The environment is no longer in the fleet and its files were removed. */
  readonly removed: boolean;
}

/** The outcome of one site: its environments, or the user errors that stopped it. */
export interface SiteOutcome {
  readonly results: EnvironmentResult[];
  /** Messages of user errors; when there are any, nothing of the site was staged. */
  readonly errors: string[];
}

/** Stages one environment's files; undefined for a dry run. */
export type Stager = (repo: string, files: readonly RenderedFile[]) => StagedEnvironment;

/**
 * Builds one site, renders its selected environments and stages them. The site's construct
 * tree is dropped on return. Used in this thread and in worker threads alike, so the output
 * is the same whichever runs it. Bugs are thrown; user errors are returned.
 */
export function synthSite(definition: SiteDefinition, catalog: Catalog, selection: Selection, stage?: Stager): SiteOutcome {
  const rendered: { site: string; env: string; files: RenderedFile[] }[] = [];
  try {
    const site = buildSite(definition, catalog);
    for (const env of selectEnvironments(site, selection)) {
      rendered.push({ site: site.name, env: env.name, files: renderEnvironment(env) });
    }
  } catch (e) {
    const found = userErrorsOf(e);
    if (found.length === 0) throw e;
    return { results: [], errors: found.map((f) => f.message) };
  }
  const results = rendered.map(({ site, env, files }) => {
    const repo = `${site}/${env}`;
    const staged = stage?.(repo, files) ?? { repo, written: [], deleted: [], unchanged: 0, fresh: false };
    return { ...staged, site, env, files: files.length + 1, removed: false };
  });
  return { results, errors: [] };
}
