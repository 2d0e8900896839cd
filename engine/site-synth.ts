import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import * as model from '../constructs';
import { inputText, Site, UnwritableInput, type Environment } from '../constructs';
import { previewSecrets, readsVariables, type SecretsPreview } from './secrets/resolve';
import type { FingerprintCheck, FingerprintVerdict } from './secrets/generate';
import { publishedReads, type PublishedRead, type PublishedSecretFiles } from './secrets/published';
import type { RenderChecked } from './checked-render';
import type { SecureRender } from './secrets';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites/site-definition';
import { userErrorsOf } from './errors';
import { buildSite, selectEnvironments, type Selection } from './fleet';
import { sha256, stageEnvironment, type StagedEnvironment } from './output';
import { intactOutput, type IntactOutput, type OutputIndex } from './output-index';
import { remoteOf, type EnvironmentRemote } from './remotes';
import { clusterObjectsOf, type EnvironmentClusterObjects } from './shared-clusters';

/** What synth did to one environment repository. */
export interface EnvironmentResult extends StagedEnvironment {
  readonly site: string;
  readonly env: string;
  /** Number of files the repository holds after the synth (state file included). */
  readonly files: number;
  /** The environment is no longer in the fleet and its files were removed. */
  readonly removed: boolean;
  /**
   * The environment was rendered; false when its inputs and files were as the last synth left
   * them, so it was not.
   */
  readonly rendered: boolean;
}

/** The outcome of one site: its environments, or the user errors that stopped it. */
export interface SiteOutcome {
  readonly results: EnvironmentResult[];
  /** Messages of user errors; when there are any, nothing of the site was staged. */
  readonly errors: string[];
  /** The repository each selected environment publishes to; empty when the site could not be built. */
  readonly remotes: EnvironmentRemote[];
  /** What each selected environment puts on clusters the model names; empty when the site could not be built. */
  readonly clusterObjects: EnvironmentClusterObjects[];
  /**
   * Repositories to read credential files from before the site can be rendered (see
   * `SiteSynthContext.readsPublished`); then nothing was rendered, and `results` is empty.
   * @default - none: the site's outcome is final
   */
  readonly publishedReads?: PublishedRead[];
  /**
   * Values to check against the fingerprints their output holds before the site is rendered
   * (see `SiteSynthContext.checkedFingerprints`); then nothing was rendered, and `results` is
   * empty.
   * @default - none: the site's outcome is final
   */
  readonly fingerprintChecks?: FingerprintCheck[];
}

/** How `synthSite` renders and where it stages; the same in this thread and in workers (plain data, posted to them). */
export interface SiteSynthContext {
  readonly selection: Selection;
  /** generatorFingerprint(), part of each environment's input hash. */
  readonly generator: string;
  /** Output folder, where previous secrets are read from. */
  readonly outDir: string;
  /** Folder of the local bare repositories of sites with no gitRemote (see remotesDir). */
  readonly remotesDir: string;
  /** @default false */
  readonly rotateSecrets?: boolean;
  /**
   * Whether a site with no output in `outDir` yet keeps the credentials its published
   * repositories hold: before rendering it, `synthSite` asks for them (`publishedReads`)
   * unless `published` is given. Building the site is how to learn which to read, so the
   * thread that renders it asks.
   * @default false - such a site makes new values
   */
  readonly readsPublished?: boolean;
  /**
   * Credential files of the site's environments, from their published repositories, once read.
   * @default - not read yet
   */
  readonly published?: PublishedSecretFiles;
  /**
   * Values of the site's environments checked against the fingerprints their output holds,
   * by fingerprint (see SiteScan.fingerprintChecks).
   * @default - not checked yet: before rendering the site, `synthSite` asks for the checks
   * (`fingerprintChecks`), each about 100 ms of scrypt, so that they run beside the threads
   * that render
   */
  readonly checkedFingerprints?: ReadonlyMap<string, FingerprintVerdict>;
  /**
   * Render every environment, even one whose inputs and files are as the last synth left them.
   * @default false
   */
  readonly renderAll?: boolean;
  /**
   * Staging folder of the synth's output transaction.
   * @default - a dry run: nothing is staged
   */
  readonly stagingDir?: string;
  /**
   * The output index (see output-index.ts): files whose digest it holds are trusted unread.
   * @default - none: every file is read to find an environment intact
   */
  readonly index?: OutputIndex;
}

/**
 * Builds one site, renders its selected environments with their secrets, checks every
 * Kubernetes object against its schema, and stages them; an environment whose inputs and
 * files are as the last synth left them is not rendered. The site's construct tree is dropped
 * on return. Used in this thread and in worker threads alike, so the output is the same
 * whichever runs it. Bugs are thrown; user errors are returned.
 */
export function synthSite(definition: SiteDefinition, catalog: Catalog, context: SiteSynthContext, render: RenderChecked): SiteOutcome {
  let remotes: EnvironmentRemote[] = [];
  let clusterObjects: EnvironmentClusterObjects[] = [];
  try {
    const site = buildSite(definition, catalog);
    if (context.readsPublished && context.published === undefined && !existsSync(join(context.outDir, site.name))) {
      const reads = publishedReads(site, selectEnvironments(site, context.selection), context.remotesDir);
      if (reads.length > 0) return { results: [], errors: [], remotes, clusterObjects, publishedReads: reads };
    }
    const plans = planEnvironments(site, context);
    remotes = plans.map((plan) => plan.remote);
    clusterObjects = plans.map((plan) => plan.clusterObjects);
    if (context.checkedFingerprints === undefined) {
      const checks = plans.filter((plan) => plan.intact === undefined).flatMap((plan) => previewOf(plan, context)?.checks ?? []);
      if (checks.length > 0) return { results: [], errors: [], remotes, clusterObjects, fingerprintChecks: checks };
    }
    // Every environment is rendered even after one failed, so each one's problems are
    // reported (in the site's order), not only the first's.
    const errors: string[] = [];
    const rendered = plans.map((plan) => {
      if (plan.intact !== undefined) return undefined;
      try {
        return render(plan.env, plan.repo, context);
      } catch (e) {
        const found = userErrorsOf(e);
        if (found.length === 0) throw e;
        errors.push(...found.map((f) => f.message));
        return undefined;
      }
    });
    if (errors.length > 0) return { results: [], errors, remotes, clusterObjects };
    // Staged only once every environment rendered: a site with an error stages nothing (what
    // staging itself refuses is undone with the whole synth).
    return { results: plans.map((plan, i) => (rendered[i] ? stagedResult(plan, rendered[i], context) : intactResult(plan, plan.intact!))), errors: [], remotes, clusterObjects };
  } catch (e) {
    const found = userErrorsOf(e);
    if (found.length === 0) throw e;
    return { results: [], errors: found.map((f) => f.message), remotes, clusterObjects };
  }
}

/** What the scan of a site found before any thread renders it (see scanSite). */
export interface SiteScan {
  /**
   * The site's outcome when every selected environment has intact output, once every one of
   * `fingerprintChecks` confirms its value.
   * @default - none: it is rendered
   */
  readonly unchanged?: SiteOutcome;
  /**
   * The values its environments read from the environment (or their vaults) and check against
   * the fingerprints their output holds: each check is about 100 ms of scrypt, which synth runs
   * for the sites it scans, one a core, beside the threads that render (see checkFingerprints).
   * @default - not looked for: `synthSite` asks for them (see SiteOutcome.fingerprintChecks)
   */
  readonly fingerprintChecks?: readonly FingerprintCheck[];
}

/**
 * Looks at a site before it is rendered: whether its selected environments all have intact
 * output (then it needs no rendering at all), and which values it checks against their
 * fingerprints. An environment that reads variables is intact when its files are as rendered
 * from its tree and the secret material its secrets resolve to, taking each value as the one
 * its fingerprint was made from (see previewSecrets). Sites with no output, or that cannot be
 * built, are left to `synthSite` (which reports why), as are all in a dry run or when
 * rendering all or rotating secrets.
 */
export function scanSite(definition: SiteDefinition, catalog: Catalog, context: SiteSynthContext): SiteScan {
  const rendered: SiteScan = {};
  if (!mayKeepOutput(context) || !existsSync(join(context.outDir, definition.name))) return rendered;
  let plans: PlannedEnvironment[];
  try {
    plans = planEnvironments(buildSite(definition, catalog), context);
  } catch (e) {
    if (userErrorsOf(e).length > 0) return rendered;
    throw e;
  }
  const checks: FingerprintCheck[] = [];
  const intact = plans.map((plan) => {
    if (plan.intact !== undefined || plan.siteHash === undefined) return plan.intact;
    const preview = previewOf(plan, context);
    if (!preview) return undefined;
    checks.push(...preview.checks);
    return intactOutput(context.outDir, plan.repo, environmentInputHash(plan.siteHash, plan.env.name, preview.digest), context.index?.[plan.repo]);
  });
  if (!intact.every((found) => found !== undefined)) return { fingerprintChecks: checks };
  const unchanged = { results: plans.map((plan, i) => intactResult(plan, intact[i]!)), errors: [], remotes: plans.map((plan) => plan.remote), clusterObjects: plans.map((plan) => plan.clusterObjects) };
  return { unchanged, fingerprintChecks: checks };
}

/**
 * What the secrets of `plan`'s environment resolve to, its values taken as unchanged (see
 * previewSecrets); none when it reads no variables, or has no previous credential files whose
 * fingerprints its values could be checked against.
 */
function previewOf(plan: PlannedEnvironment, context: SiteSynthContext): SecretsPreview | undefined {
  const published = context.published?.[plan.repo];
  const repoDir = join(context.outDir, plan.repo);
  if (!plan.readsVariables || (published === undefined && !existsSync(repoDir))) return undefined;
  return previewSecrets(plan.env, { repoDir, published, rotate: context.rotateSecrets });
}

/** A selected environment, and whether it needs rendering. */
interface PlannedEnvironment {
  readonly env: Environment;
  readonly repo: string;
  readonly remote: EnvironmentRemote;
  readonly clusterObjects: EnvironmentClusterObjects;
  /** Whether it reads environment variables (see readsVariables). */
  readonly readsVariables: boolean;
  /** @default - none: the site's tree holds a value that cannot be written down */
  readonly siteHash?: string;
  /**
   * @default - none: the environment's inputs cannot all be written down, or it reads
   * variables, whose input hash is known once its secrets are resolved
   */
  readonly inputHash?: string;
  /** Its repository when it is as the last synth left it. @default - it must be rendered */
  readonly intact?: IntactOutput;
}

/**
 * Whether an environment with intact output may keep it: not in a dry run (which renders and
 * checks everything), nor when told to render all or to rotate secrets.
 */
function mayKeepOutput(context: SiteSynthContext): boolean {
  return context.stagingDir !== undefined && !context.renderAll && !context.rotateSecrets;
}

function planEnvironments(site: Site, context: SiteSynthContext): PlannedEnvironment[] {
  const siteHash = siteInputHash(site, context.generator);
  const mayKeep = mayKeepOutput(context);
  return selectEnvironments(site, context.selection).map((env) => {
    const repo = `${site.name}/${env.name}`;
    const reads = readsVariables(env);
    const inputHash = siteHash === undefined || reads ? undefined : environmentInputHash(siteHash, env.name);
    const intact = inputHash !== undefined && mayKeep ? intactOutput(context.outDir, repo, inputHash, context.index?.[repo]) : undefined;
    return { env, repo, remote: remoteOf(site, env, context.remotesDir), clusterObjects: clusterObjectsOf(site, env), readsVariables: reads, siteHash, inputHash, intact };
  });
}

/**
 * What an environment is rendered from: its site's tree and siteforge's code (`siteHash`),
 * its name, and for one that reads variables the digest of its secret material (see
 * secretMaterialDigest), which stands for the values without giving them away.
 */
function environmentInputHash(siteHash: string, envName: string, secretsDigest?: string): string {
  return sha256(secretsDigest === undefined ? `${siteHash}\0${envName}` : `${siteHash}\0${envName}\0${secretsDigest}`);
}

function stagedResult(plan: PlannedEnvironment, rendered: SecureRender, context: SiteSynthContext): EnvironmentResult {
  const inputHash = plan.readsVariables && plan.siteHash !== undefined ? environmentInputHash(plan.siteHash, plan.env.name, rendered.secretsDigest) : plan.inputHash;
  const staged = context.stagingDir === undefined
    ? { repo: plan.repo, written: [], deleted: [], unchanged: 0, fresh: false }
    : stageEnvironment(context.outDir, context.stagingDir, plan.repo, rendered.files, inputHash);
  return { ...staged, site: Site.of(plan.env).name, env: plan.env.name, files: rendered.files.length + 1, removed: false, rendered: true };
}

function intactResult(plan: PlannedEnvironment, intact: IntactOutput): EnvironmentResult {
  const { files, seenStats } = intact;
  return { repo: plan.repo, written: [], deleted: [], unchanged: files, fresh: false, seenStats, site: Site.of(plan.env).name, env: plan.env.name, files, removed: false, rendered: false };
}

/**
 * The hash of everything the environments of `site` are rendered from besides their names:
 * siteforge's code (`generator`) and the site's whole tree, since an environment's files can
 * depend on its siblings (one Argo CD for the site). Undefined when the tree holds a value
 * that cannot be written down.
 */
function siteInputHash(site: Site, generator: string): string | undefined {
  try {
    return sha256(`${generator}\0${inputText(site, { classes: MODEL_CLASSES })}`);
  } catch (e) {
    if (e instanceof UnwritableInput) return undefined;
    throw e;
  }
}

/** siteforge's model classes, whose code the generator fingerprint hashes. */
const MODEL_CLASSES: ReadonlySet<Function> = new Set<Function>([Construct, ...(Object.values(model) as unknown[]).filter((v): v is Function => typeof v === 'function')]);

