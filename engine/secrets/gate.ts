import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RenderedFile } from '../../constructs';
import { readEmittedYaml } from '../../constructs/emitted-yaml';
import { yamlLibrary } from '../../constructs/yaml';
import { UserError, UserErrors } from '../errors';
import type { HandledSecret } from './resolve';

/**
 * Shapes of credentials that must never be in a repository, whatever put them there. Each
 * names what it found; the match itself is never printed.
 */
export const CREDENTIAL_SHAPES: readonly {
  readonly name: string;
  readonly pattern: RegExp;
  /** Text every match contains: a cheap test that spares most files the pattern. @default - none */
  readonly contains?: string;
}[] = [
  { name: 'a PEM private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { name: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/ },
  { name: 'a GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { name: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'a Stripe live key', pattern: /\b[rs]k_live_[0-9A-Za-z]{24,}\b/ },
  { name: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  // An access token as a URL's user name (`https://<token>@git.example.com/…`, as git and many
  // CI systems take one): a long run of token characters, digits and capitals among them (a
  // long user name such as siteforge-deploy-robot has none).
  { name: 'a token in a URL', pattern: /\bhttps?:\/\/(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{20,}@/, contains: '://' },
  // A password that is only a reference filled in later (`${DB_PASSWORD}`, `$DB_PASSWORD`,
  // `$(DB_PASSWORD)`, `{{ db_password }}`) is not one; any other, `$` and braces included, is.
  { name: 'a password in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/${}]+:(?!(?:\$\{[^}\s@]*\}|\$\([^)\s@]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}\s@]*\}\})@)[^\s@/]+@/i, contains: '://' },
];

/**
 * Every reason the files of repository `repo` hold a plaintext secret: a Kubernetes `Secret`
 * with `data` or `stringData`, a value the synth handled (as it is or base64-encoded), or a
 * well-known credential shape. Messages name the file and what was found, never the value.
 */
export function plaintextSecretProblems(repo: string, files: readonly RenderedFile[], handled: readonly HandledSecret[] = []): string[] {
  const problems: string[] = [];
  // The value as it is, and as a writer would have escaped or encoded it into a file.
  const needles = handled.flatMap((h) => [
    { text: h.value, description: h.description },
    { text: JSON.stringify(h.value).slice(1, -1), description: `${h.description}, escaped` },
    { text: encodeURIComponent(h.value), description: `${h.description}, URL-encoded` },
    { text: Buffer.from(h.value, 'utf8').toString('base64'), description: `${h.description}, base64-encoded` },
  ]).filter((needle, i, all) => all.findIndex((other) => other.text === needle.text) === i);
  for (const file of files) {
    const where = `${repo}/${file.path}`;
    if (/\.(ya?ml|json)$/.test(file.path) && !file.content.startsWith('$ANSIBLE_VAULT;')) {
      for (const name of plaintextKubernetesSecrets(file)) {
        problems.push(`${where}: Secret ${name} holds plaintext data; credentials must be SealedSecrets, ExternalSecrets or Ansible Vault values (see the instance's credentials)`);
      }
    }
    for (const needle of needles) {
      if (file.content.includes(needle.text)) problems.push(`${where}: contains the value of ${needle.description} in plaintext`);
    }
    for (const shape of CREDENTIAL_SHAPES) {
      if ((shape.contains === undefined || file.content.includes(shape.contains)) && shape.pattern.test(file.content)) problems.push(`${where}: contains what looks like ${shape.name}; remove it or reference it as a Secret`);
    }
  }
  return problems;
}

/** Throws every plaintext secret problem of `files` at once (see plaintextSecretProblems). */
export function assertNoPlaintextSecrets(repo: string, files: readonly RenderedFile[], handled: readonly HandledSecret[] = []): void {
  UserErrors.throwIfAny(plaintextSecretProblems(repo, files, handled).map((p) => new UserError(p)));
}

/**
 * The gate on a repository folder as it is about to be committed (what `publish` calls):
 * every file under `dir` but `.git/`. `repo` names the repository in messages.
 */
export function assertRepositoryHasNoPlaintextSecrets(dir: string, repo: string, handled: readonly HandledSecret[] = []): void {
  const files: RenderedFile[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current).sort()) {
      if (entry === '.git') continue;
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push({ path: relative(dir, path).split('\\').join('/'), content: readFileSync(path, 'utf8') });
    }
  };
  walk(dir);
  assertNoPlaintextSecrets(repo, files, handled);
}

/** Names of the Kubernetes Secrets with data among the documents of `file`. */
function plaintextKubernetesSecrets(file: RenderedFile): string[] {
  const names: string[] = [];
  const documents = file.object !== undefined ? [file.object] : documentsOf(file.content);
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const object = value as { kind?: unknown; items?: unknown; data?: unknown; stringData?: unknown; metadata?: { name?: unknown } };
    if (object.kind === 'Secret' && (nonEmpty(object.data) || nonEmpty(object.stringData))) {
      names.push(typeof object.metadata?.name === 'string' ? object.metadata.name : '(unnamed)');
    }
    if (Array.isArray(object.items)) object.items.forEach(visit);
    if (Array.isArray(value)) value.forEach(visit);
  };
  documents.forEach(visit);
  return names;
}

/** The documents of a file that may hold a Secret; none when no document can be one or the text is not YAML. */
function documentsOf(content: string): unknown[] {
  // No document can be a Secret, or a List holding one, without the word (or an escape spelling it).
  if (!/Secret|\\[xuU]/.test(content)) return [];
  const emitted = readEmittedYaml(content);
  if (emitted) return [emitted.value];
  try {
    return yamlLibrary().parseAllDocuments(content, { maxAliasCount: 50 } as never).flatMap((d) => ('toJS' in d ? [d.toJS({ maxAliasCount: 50 })] : []));
  } catch {
    return [];
  }
}

function nonEmpty(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length > 0;
}
