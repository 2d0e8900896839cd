import type { Environment } from '../constructs';
import { renderWithSecretMaterial, type SecureRender } from './secrets';
import { assertValidObjects } from './validate-objects';
import type { SiteSynthContext } from './site-synth';

/**
 * Renders one environment with its secrets (see renderWithSecretMaterial) and checks every
 * Kubernetes object against its schema. A module of its own because it loads cdk8s and the
 * schemas (about 0.4 s): a synth that renders nothing never loads it.
 */
export function renderChecked(env: Environment, repo: string, options: Pick<SiteSynthContext, 'outDir' | 'rotateSecrets' | 'published' | 'checkedFingerprints' | 'stagingDir'>): SecureRender {
  const rendered = renderWithSecretMaterial(env, {
    outDir: options.outDir, rotateSecrets: options.rotateSecrets, published: options.published?.[repo], checkedFingerprints: options.checkedFingerprints,
    // A dry run (validate) stages nothing: fingerprints would be thrown away with the files.
    makeFingerprints: options.stagingDir !== undefined,
  });
  assertValidObjects(repo, rendered.files);
  return rendered;
}

/** The renderer `synthSite` is given: renderChecked, loaded by whoever renders. */
export type RenderChecked = typeof renderChecked;
