import type { Environment, RenderedFile } from '../constructs';
import { renderEnvironmentSecurely } from './secrets';
import { assertValidObjects } from './validate-objects';
import type { SiteSynthContext } from './site-synth';

/**
 * Renders one environment with its secrets and checks every Kubernetes object against its
 * schema. A module of its own because it loads cdk8s and the schemas (about 0.4 s): a synth
 * that renders nothing never loads it.
 */
export function renderChecked(env: Environment, repo: string, options: Pick<SiteSynthContext, 'outDir' | 'rotateSecrets' | 'published' | 'confirmedFingerprints'>): RenderedFile[] {
  const files = renderEnvironmentSecurely(env, { outDir: options.outDir, rotateSecrets: options.rotateSecrets, published: options.published?.[repo], confirmedFingerprints: options.confirmedFingerprints });
  assertValidObjects(repo, files);
  return files;
}

/** The renderer `synthSite` is given: renderChecked, loaded by whoever renders. */
export type RenderChecked = typeof renderChecked;
