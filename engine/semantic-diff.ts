import { parseAllDocuments } from 'yaml';
import { STATE_FILE } from './output';

/**
 * A semantic diff of two versions of an environment repository: Kubernetes objects by
 * (kind, namespace, name) with the fields that changed, Helm values, Ansible and JSON files by
 * key, anything else by line. Unchanged things are not mentioned. Secret values are masked.
 */

export type Change = 'added' | 'removed' | 'changed';

/** Shown instead of a value that may be a secret. */
export const MASK = '***';

/** One field of an object or a structured file. */
export interface FieldChange {
  readonly change: Change;
  /** JSON path: `spec.template.spec.containers[name=app].image`, `metadata.labels["a.b/c"]`. */
  readonly path: string;
  /** Previous value (absent when added); `***` when masked. */
  readonly old?: unknown;
  /** New value (absent when removed); `***` when masked. */
  readonly new?: unknown;
  /** For a multi-line string that changed: the lines removed and added. @default - not a multi-line change */
  readonly lines?: readonly LineChange[];
}

/** A Kubernetes object added, removed or changed. */
export interface ObjectChange {
  readonly change: Change;
  readonly kind: string;
  /** @default - cluster-scoped */
  readonly namespace?: string;
  readonly name: string;
  /** File that holds the object (the new one when it moved). */
  readonly file: string;
  /** The changed fields; empty for added and removed objects. */
  readonly fields: readonly FieldChange[];
}

/** A line added or removed in a file compared by line. */
export interface LineChange {
  readonly change: 'added' | 'removed';
  /** Line number in the old file (removed) or the new file (added), 1-based. */
  readonly line: number;
  readonly text: string;
}

/** A file that is not a Kubernetes object: compared by key (YAML, JSON) or by line. */
export interface FileChange {
  readonly change: Change;
  readonly path: string;
  readonly fields: readonly FieldChange[];
  readonly lines: readonly LineChange[];
}

export interface TreeDiff {
  readonly objects: readonly ObjectChange[];
  readonly files: readonly FileChange[];
}

/** Whether `diff` holds any change. */
export function isEmptyDiff(diff: TreeDiff): boolean {
  return diff.objects.length === 0 && diff.files.length === 0;
}

const SECRET_KINDS = new Set(['Secret', 'SealedSecret', 'ExternalSecret', 'ClusterExternalSecret', 'SopsSecret']);
const ALWAYS_SECRET_KEYS = new Set(['stringData', 'encryptedData']);
const SECRET_WORD = /(password|passwd|passphrase|secret|token|credential|api[-_]?key|private[-_]?key|client[-_]?key)/i;
/** Keys that name a secret rather than hold one. */
const REFERENCE_KEY = /(ref|refs|name|names)$/i;
const SECRET_LINE = /^(.*?[A-Za-z0-9_.-]*(password|passwd|passphrase|secret|token|credential|api[-_]?key|private[-_]?key)[A-Za-z0-9_.-]*["']?\s*[:=]\s*)(\S.*)$/i;

/** Compares two versions of a repository (path → content). The state file is bookkeeping and skipped. */
export function diffTrees(oldFiles: ReadonlyMap<string, string>, newFiles: ReadonlyMap<string, string>): TreeDiff {
  const oldObjects = new Map<string, KubeObject>();
  const newObjects = new Map<string, KubeObject>();
  const files: FileChange[] = [];
  const plain = new Map<string, { old?: string; new?: string }>();
  for (const [side, source, objects] of [['old', oldFiles, oldObjects], ['new', newFiles, newObjects]] as const) {
    for (const [path, content] of source) {
      // A file identical on both sides holds the same objects on both sides: nothing to compare.
      if (path === STATE_FILE || oldFiles.get(path) === newFiles.get(path)) continue;
      const found = kubeObjects(path, content);
      if (found) {
        for (const object of found) objects.set(object.key, object);
      } else {
        const entry = plain.get(path) ?? {};
        entry[side] = content;
        plain.set(path, entry);
      }
    }
  }

  const objects: ObjectChange[] = [];
  for (const key of [...new Set([...oldObjects.keys(), ...newObjects.keys()])].sort()) {
    const before = oldObjects.get(key);
    const after = newObjects.get(key);
    const id = (after ?? before)!;
    const base = { kind: id.kind, ...(id.namespace !== undefined ? { namespace: id.namespace } : {}), name: id.name, file: id.file };
    if (!before) objects.push({ change: 'added', ...base, fields: [] });
    else if (!after) objects.push({ change: 'removed', ...base, fields: [] });
    else {
      const fields: FieldChange[] = [];
      compareValues(before.value, after.value, [], fields, SECRET_KINDS.has(id.kind));
      if (fields.length > 0) objects.push({ change: 'changed', ...base, fields });
    }
  }

  for (const path of [...plain.keys()].sort()) {
    const { old: before, new: after } = plain.get(path)!;
    if (before === after) continue;
    const change: Change = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    if (change !== 'changed') {
      files.push({ change, path, fields: [], lines: [] });
      continue;
    }
    const structured = [parseStructured(path, before!), parseStructured(path, after!)];
    if (structured[0] !== undefined && structured[1] !== undefined) {
      const fields: FieldChange[] = [];
      compareValues(structured[0].value, structured[1].value, [], fields, false);
      if (fields.length > 0) files.push({ change, path, fields, lines: [] });
      continue;
    }
    files.push({ change, path, fields: [], lines: diffLines(before!, after!) });
  }
  return { objects, files };
}

interface KubeObject {
  readonly key: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly file: string;
  readonly value: unknown;
}

/** The Kubernetes objects of a YAML file, or undefined when it holds anything else. */
function kubeObjects(path: string, content: string): KubeObject[] | undefined {
  if (!/\.ya?ml$/.test(path)) return undefined;
  const values = parseYamlDocuments(content);
  if (!values || values.length === 0) return undefined;
  const objects: KubeObject[] = [];
  for (const value of values) {
    const v = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    if (!isRecord(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string' || !isRecord(v.metadata) || typeof v.metadata.name !== 'string') {
      return undefined;
    }
    const namespace = typeof v.metadata.namespace === 'string' ? v.metadata.namespace : undefined;
    objects.push({ key: `${v.kind}\u0000${namespace ?? ''}\u0000${v.metadata.name}`, kind: v.kind, namespace, name: v.metadata.name, file: path, value: v });
  }
  return objects;
}

/** YAML documents read with alias limits; undefined when the text is not plain YAML. */
function parseYamlDocuments(content: string): unknown[] | undefined {
  try {
    const docs = parseAllDocuments(content, { uniqueKeys: true, strict: true, customTags: [] });
    if (!Array.isArray(docs)) return undefined;
    if (docs.some((d) => d.errors.length > 0 || d.warnings.length > 0)) return undefined;
    return docs.map((d) => d.toJS({ maxAliasCount: 50 })).filter((v) => v !== null && v !== undefined);
  } catch {
    return undefined;
  }
}

function parseStructured(path: string, content: string): { value: unknown } | undefined {
  if (/\.json$/.test(path)) {
    try {
      return { value: JSON.parse(content) };
    } catch {
      return undefined;
    }
  }
  if (/\.ya?ml$/.test(path)) {
    const docs = parseYamlDocuments(content);
    if (!docs) return undefined;
    return { value: docs.length === 1 ? docs[0] : docs };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Segment = string | number | { readonly name: string };

/** Adds to `out` every difference between `a` and `b` under `path`. */
function compareValues(a: unknown, b: unknown, path: Segment[], out: FieldChange[], secretKind: boolean): void {
  if (deepEqual(a, b)) return;
  if (isRecord(a) && isRecord(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const next = [...path, key];
      if (!(key in a)) out.push(field('added', next, undefined, b[key], secretKind));
      else if (!(key in b)) out.push(field('removed', next, a[key], undefined, secretKind));
      else compareValues(a[key], b[key], next, out, secretKind);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (keyedByName(a) && keyedByName(b)) {
      const before = new Map(a.map((item) => [item.name as string, item]));
      const after = new Map(b.map((item) => [item.name as string, item]));
      for (const name of [...new Set([...before.keys(), ...after.keys()])]) {
        const next = [...path, { name }];
        if (!before.has(name)) out.push(field('added', next, undefined, after.get(name), secretKind));
        else if (!after.has(name)) out.push(field('removed', next, before.get(name), undefined, secretKind));
        else compareValues(before.get(name), after.get(name), next, out, secretKind);
      }
      return;
    }
    const length = Math.max(a.length, b.length);
    for (let i = 0; i < length; i++) {
      const next = [...path, i];
      if (i >= a.length) out.push(field('added', next, undefined, b[i], secretKind));
      else if (i >= b.length) out.push(field('removed', next, a[i], undefined, secretKind));
      else compareValues(a[i], b[i], next, out, secretKind);
    }
    return;
  }
  out.push(field('changed', path, a, b, secretKind));
}

function keyedByName(items: unknown[]): items is { name: string }[] {
  const names = new Set<string>();
  for (const item of items) {
    if (!isRecord(item) || typeof item.name !== 'string' || names.has(item.name)) return false;
    names.add(item.name);
  }
  return items.length > 0;
}

function field(change: Change, path: Segment[], before: unknown, after: unknown, secretKind: boolean): FieldChange {
  const old = redact(before, path, secretKind);
  const next = redact(after, path, secretKind);
  const multiLine = change === 'changed' && typeof old === 'string' && typeof next === 'string' && (old.includes('\n') || next.includes('\n'));
  return {
    change,
    path: formatPath(path),
    ...(change !== 'added' ? { old } : {}),
    ...(change !== 'removed' ? { new: next } : {}),
    ...(multiLine ? { lines: diffLines(old, next) } : {}),
  };
}

/** `value` at `path` with every value that may be a credential replaced by `***`. */
function redact(value: unknown, path: Segment[], secretKind: boolean): unknown {
  if (typeof value === 'boolean' || value === null || value === undefined) return value;
  if (isSecretPath(path, secretKind)) return MASK;
  if (Array.isArray(value)) {
    const named = keyedByName(value);
    return value.map((item, i) => redact(item, [...path, named ? { name: (item as { name: string }).name } : i], secretKind));
  }
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, [...path, k], secretKind)]));
  }
  if (typeof value === 'string' && value.includes('\n')) return value.split('\n').map(maskLine).join('\n');
  return value;
}

/** Whether a value at `path` may hold a credential, and must not be shown. */
export function isSecretPath(path: readonly Segment[], secretKind: boolean): boolean {
  return path.some((segment) => {
    const key = typeof segment === 'string' ? segment : typeof segment === 'number' ? '' : segment.name;
    if (ALWAYS_SECRET_KEYS.has(key)) return true;
    if (secretKind && key === 'data') return true;
    return SECRET_WORD.test(key) && (typeof segment !== 'string' || !REFERENCE_KEY.test(key));
  });
}

function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'object') text += `[name=${segment.name}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? '.' : text;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => k in (b as object) && deepEqual((a as any)[k], (b as any)[k]));
}

/** Lines removed and added between `a` and `b` (longest common subsequence), secrets masked. */
export function diffLines(a: string, b: string): LineChange[] {
  const x = a.split('\n');
  const y = b.split('\n');
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
    endX--;
    endY--;
  }
  const xs = x.slice(start, endX);
  const ys = y.slice(start, endY);
  const changes: LineChange[] = [];
  const push = (change: 'added' | 'removed', line: number, text: string) => changes.push({ change, line, text: maskLine(text) });
  if (xs.length * ys.length > 4_000_000) {
    xs.forEach((t, i) => push('removed', start + i + 1, t));
    ys.forEach((t, i) => push('added', start + i + 1, t));
    return changes;
  }
  // lcs[i][j]: length of the longest common subsequence of xs[i..] and ys[j..]
  const lcs: Uint32Array[] = Array.from({ length: xs.length + 1 }, () => new Uint32Array(ys.length + 1));
  for (let i = xs.length - 1; i >= 0; i--) {
    for (let j = ys.length - 1; j >= 0; j--) {
      lcs[i][j] = xs[i] === ys[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < xs.length || j < ys.length) {
    if (i < xs.length && j < ys.length && xs[i] === ys[j]) {
      i++;
      j++;
    } else if (i < xs.length && (j === ys.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      push('removed', start + i + 1, xs[i]);
      i++;
    } else {
      push('added', start + j + 1, ys[j]);
      j++;
    }
  }
  return changes;
}

function maskLine(text: string): string {
  if (/PRIVATE KEY/.test(text)) return MASK;
  const match = SECRET_LINE.exec(text);
  return match ? `${match[1]}${MASK}` : text;
}

/** One-line summary counts of `diff`. */
export function summarize(diff: TreeDiff): { added: number; changed: number; removed: number; files: number } {
  const count = (c: Change) => diff.objects.filter((o) => o.change === c).length;
  return { added: count('added'), changed: count('changed'), removed: count('removed'), files: diff.files.length };
}
