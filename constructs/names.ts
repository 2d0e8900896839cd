import type { Construct } from 'constructs';
import { errorAt } from './errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why `value` is not an RFC 1123 label (what Kubernetes requires of names and what keeps a
 * name from escaping its folder), or undefined when it is one.
 */
export function dnsLabelProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${typeof value}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `must be at most 63 characters, got ${value.length}`;
  if (!DNS_LABEL.test(value)) {
    return 'must be an RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';
  }
  return undefined;
}

/** Why `value` is not an RFC 1123 subdomain (a DNS name such as `acme.example.com`). */
export function dnsSubdomainProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${typeof value}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > 253) return `must be at most 253 characters, got ${value.length}`;
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
  if (problem) throw errorAt(path, `${what} ${problem}, got ${JSON.stringify(value)}`);
}

/** Throws an error naming `path` unless `value` is an RFC 1123 subdomain. */
export function assertDnsSubdomain(path: string, what: string, value: unknown): asserts value is string {
  const problem = dnsSubdomainProblem(value);
  if (problem) throw errorAt(path, `${what} ${problem}, got ${JSON.stringify(value)}`);
}

/**
 * A group or user name as CODEOWNERS and Argo CD read them (`ops`, `acme/platform-team`, an
 * OIDC group in any script): one word, no control characters, not starting with the `@`
 * siteforge adds or a `#` that would start a comment.
 */
const GROUP_NAME = /^[^\s@#\p{C}][^\s\p{C}]*$/u;

/** Throws an error naming `path` unless every one of `names` (`what`, e.g. owners) is a group name. */
export function assertGroupNames(path: string, what: string, names: unknown): asserts names is readonly string[] {
  if (!Array.isArray(names)) throw errorAt(path, `${what} must be a list of group names, got ${JSON.stringify(names)}`);
  const bad = names.find((name) => typeof name !== 'string' || !GROUP_NAME.test(name));
  if (bad !== undefined) {
    throw errorAt(path, `${what} must be group or user names such as ops or acme/platform-team (one word, no control characters, not starting with "#" or the "@" siteforge adds), got ${JSON.stringify(bad)}`);
  }
}

/**
 * The construct path a child `id` of `scope` will have, for errors raised before the child
 * exists (so a bad name is refused before any construct or path is built from it). Control
 * characters are shown escaped.
 */
export function childPath(scope: Construct, id: string): string {
  const shown = JSON.stringify(id).slice(1, -1);
  return scope.node.path ? `${scope.node.path}/${shown}` : shown || '(unnamed)';
}

/**
 * Orders things by name, code unit by code unit: the same order on every machine, where
 * `localeCompare` follows the machine's locale (in Danish, `aa` sorts after `z`).
 */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
