import type { Construct } from 'constructs';
import { errorAt, receivedValue } from './errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why `value` is not an RFC 1123 label (what Kubernetes requires of names and what keeps a
 * name from escaping its folder), or undefined when it is one.
 */
export function dnsLabelProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `must be at most 63 characters (this one has ${value.length})`;
  if (!DNS_LABEL.test(value)) {
    return 'must be an RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `value` is not an RFC 1123 subdomain (a DNS name such as `acme.example.com`). */
export function dnsSubdomainProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > 253) return `must be at most 253 characters (this one has ${value.length})`;
  for (const label of value.split('.')) {
    if (!DNS_LABEL.test(label) || label.length > 63) {
      return 'must be a DNS name: dot-separated RFC 1123 labels of lower-case letters, digits and "-"';
    }
  }
  return undefined;
}

/** Throws an error naming `path` unless `value` is an RFC 1123 label. */
export function assertDnsLabel(path: string, what: string, value: unknown): asserts value is string {
  const problem = dnsLabelProblem(value);
  if (problem) throw errorAt(path, `${what} ${problem}, got ${receivedValue(value)}`);
}

/** Throws an error naming `path` unless `value` is an RFC 1123 subdomain. */
export function assertDnsSubdomain(path: string, what: string, value: unknown): asserts value is string {
  const problem = dnsSubdomainProblem(value);
  if (problem) throw errorAt(path, `${what} ${problem}, got ${receivedValue(value)}`);
}

/**
 * A group or user name as CODEOWNERS and Argo CD read them (`ops`, `acme/platform-team`, an
 * OIDC group in any script): one word, no control characters, not starting with the `@`
 * siteforge adds or a `#` that would start a comment.
 */
const GROUP_NAME = /^[^\s@#\p{C}][^\s\p{C}]*$/u;

/** Throws an error naming `path` unless every one of `names` (`what`, e.g. owners) is a group name. */
export function assertGroupNames(path: string, what: string, names: unknown): asserts names is readonly string[] {
  if (!Array.isArray(names)) throw errorAt(path, `${what} must be a list of group names, got ${receivedValue(names)}`);
  const bad = names.find((name) => typeof name !== 'string' || !GROUP_NAME.test(name));
  if (bad !== undefined) {
    throw errorAt(path, `${what} must be group or user names such as ops or acme/platform-team (one word, no control characters, not starting with "#" or the "@" siteforge adds), got ${receivedValue(bad)}`);
  }
}

/**
 * The construct path a child `id` of `scope` will have, for errors raised before the child
 * exists (so a bad name is refused before any construct or path is built from it). Control
 * characters are shown escaped.
 */
export function childPath(scope: Construct, id: string): string {
  const shown = typeof id === 'string' ? JSON.stringify(id).slice(1, -1) : `(${String(id)})`;
  return scope.node.path ? `${scope.node.path}/${shown}` : shown || '(unnamed)';
}

/**
 * Orders things by name, code unit by code unit: the same order on every machine, where
 * `localeCompare` follows the machine's locale (in Danish, `aa` sorts after `z`).
 */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The one of `candidates` that `name` most likely misspells, for a "did you mean" hint: the
 * same name in another case, or the nearest by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours), when it is at most a third of the name's length
 * (at least 1) and no other candidate is as near. Undefined when none is near enough.
 */
export function closestName(name: unknown, candidates: readonly string[]): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return undefined;
  const folded = candidates.filter((c) => c.toLowerCase() === name.toLowerCase() && c !== name);
  if (folded.length === 1) return folded[0];
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance, tie] = [candidate, distance, false];
    else if (distance === bestDistance) tie = true;
  }
  return bestDistance <= limit && !tie ? best : undefined;
}

/** ` (did you mean "x"?)` when `name` likely misspells one of `candidates`, else "". */
export function didYouMean(name: unknown, candidates: readonly string[]): string {
  const closest = closestName(name, candidates);
  return closest === undefined ? '' : ` (did you mean ${JSON.stringify(closest)}?)`;
}

/** Optimal string alignment distance: edits that turn `a` into `b`, a swap of neighbours counting one. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}
