import { createHash } from 'node:crypto';
import type { RenderedFile } from '../constructs';
import { environmentInputs } from '../constructs/environment-inputs';
import { renderEnvironmentSecurely } from './secrets';
import { assertValidObjects } from './validate-objects';
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

/** Stages one environment's files. */
export type Stager = (repo: string, files: readonly RenderedFile[], inputHash: string) => StagedEnvironment;

/** How `synthSite` renders and where it stages; the same in this thread and in workers. */
export interface SiteSynthContext {
  readonly selection: Selection;
  /** generatorFingerprint(), part of each environment's input hash. */
  readonly generator: string;
  /** Output folder, where previous secrets are read from. */
  readonly outDir: string;
  /** @default false */
  readonly rotateSecrets?: boolean;
  /** @default - a dry run: nothing is staged */
  readonly stage?: Stager;
}

/**
 * Builds one site, renders its selected environments with their secrets, checks every
 * Kubernetes object against its schema, and stages them. The site's construct
 * tree is dropped on return. Used in this thread and in worker threads alike, so the output
 * is the same whichever runs it. Bugs are thrown; user errors are returned.
 */
export function synthSite(definition: SiteDefinition, catalog: Catalog, context: SiteSynthContext): SiteOutcome {
  const { selection, generator, stage } = context;
  const rendered: { site: string; env: string; files: RenderedFile[]; inputHash: string }[] = [];
  try {
    const site = buildSite(definition, catalog);
    for (const env of selectEnvironments(site, selection)) {
      const inputHash = `sha256:${createHash('sha256').update(generator).update(JSON.stringify(environmentInputs(env))).digest('hex')}`;
      const files = renderEnvironmentSecurely(env, { outDir: context.outDir, rotateSecrets: context.rotateSecrets });
      assertValidObjects(`${site.name}/${env.name}`, files);
      rendered.push({ site: site.name, env: env.name, files, inputHash });
    }
  } catch (e) {
    const found = userErrorsOf(e);
    if (found.length === 0) throw e;
    return { results: [], errors: found.map((f) => f.message) };
  }
  const results = rendered.map(({ site, env, files, inputHash }) => {
    const repo = `${site}/${env}`;
    const staged = stage?.(repo, files, inputHash) ?? { repo, written: [], deleted: [], unchanged: 0, fresh: false };
    return { ...staged, site, env, files: files.length + 1, removed: false };
  });
  return { results, errors: [] };
}
