import { readEmittedYaml } from '../constructs/emitted-yaml';
import { yamlLibrary } from '../constructs/yaml';
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
  /**
   * JSON path: `spec.template.spec.containers[name=app].image`, `metadata.labels["a.b/c"]`,
   * `images[source=docker.io/library/redis:7].tag` (a list item by its key, see compareLists),
   * `resources[3]` (by position: the old one for a removed item, the new one otherwise).
   */
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
/** Item keys whose value names what the item holds, as an object's keys do. */
const NAMING_KEYS = new Set(['name', 'key']);
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
  const emitted = readEmittedYaml(content);
  if (emitted) return emitted.value === null ? [] : [emitted.value];
  try {
    const docs = yamlLibrary().parseAllDocuments(content, { uniqueKeys: true, strict: true, customTags: [] });
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

/** A key of an object, a position in a list, or a list item by the value of its key field. */
type Segment = string | number | { readonly key: string; readonly value: string };

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
    compareLists(a, b, path, out, secretKind);
    return;
  }
  out.push(field('changed', path, a, b, secretKind));
}

/**
 * Fields that identify an item of a list of objects, tried in this order: `name` (containers,
 * env, ports), then what other lists the output holds are keyed by (the artifact lock's images
 * by `source`, charts by `repository`, volume mounts by `mountPath`, ConfigMap items by `key`,
 * Ingress rules by `host` and paths by `path`...).
 */
const ITEM_KEYS = ['name', 'source', 'image', 'repository', 'path', 'mountPath', 'key', 'host', 'hostname', 'secretName', 'id'];

/**
 * The field that identifies every item of both lists: the first of ITEM_KEYS that every item
 * has, as a string or number, once per list. Undefined when there is none (a list of scalars,
 * or of objects that share no such field), or when both lists are empty.
 */
function itemKey(lists: readonly unknown[][]): string | undefined {
  if (lists.every((list) => list.length === 0)) return undefined;
  if (!lists.every((list) => list.every(isRecord))) return undefined;
  return ITEM_KEYS.find((key) => lists.every((list) => {
    const seen = new Set<string>();
    for (const item of list as Record<string, unknown>[]) {
      const value = item[key];
      if ((typeof value !== 'string' && typeof value !== 'number') || seen.has(String(value))) return false;
      seen.add(String(value));
    }
    return true;
  }));
}

/**
 * Adds to `out` every difference between the lists `a` and `b`. Items with a key field (see
 * itemKey) are matched by it, wherever they are: `containers[name=web]: + {...}`. Other items
 * are matched by equality in order (a longest common subsequence), so removing one item reports
 * that item removed, not every later one changed; between two matched items, an item removed
 * and one added in the same place are compared field by field, as one changed item.
 */
function compareLists(a: unknown[], b: unknown[], path: Segment[], out: FieldChange[], secretKind: boolean): void {
  const key = itemKey([a, b]);
  if (key !== undefined) {
    const keyOf = (item: unknown) => String((item as Record<string, unknown>)[key]);
    const before = new Map(a.map((item) => [keyOf(item), item]));
    const after = new Map(b.map((item) => [keyOf(item), item]));
    for (const value of [...new Set([...before.keys(), ...after.keys()])]) {
      const next = [...path, { key, value }];
      if (!before.has(value)) out.push(field('added', next, undefined, after.get(value), secretKind));
      else if (!after.has(value)) out.push(field('removed', next, before.get(value), undefined, secretKind));
      else compareValues(before.get(value), after.get(value), next, out, secretKind);
    }
    return;
  }
  let removed: number[] = [];
  let added: number[] = [];
  const flush = () => {
    const paired = Math.min(removed.length, added.length);
    for (let k = 0; k < paired; k++) compareValues(a[removed[k]], b[added[k]], [...path, added[k]], out, secretKind);
    for (const i of removed.slice(paired)) out.push(field('removed', [...path, i], a[i], undefined, secretKind));
    for (const j of added.slice(paired)) out.push(field('added', [...path, j], undefined, b[j], secretKind));
    removed = [];
    added = [];
  };
  for (const step of alignSequences(a.length, b.length, (i, j) => deepEqual(a[i], b[j]))) {
    if (step.op === 'removed') removed.push(step.i);
    else if (step.op === 'added') added.push(step.j);
    else flush();
  }
  flush();
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
    const key = itemKey([value]);
    return value.map((item, i) => redact(item, [...path, key !== undefined ? { key, value: String((item as Record<string, unknown>)[key]) } : i], secretKind));
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
    // An item named like a credential (an env var DB_PASSWORD, the key of a Secret's item) may
    // hold it; an item's path, host or image only says where something is.
    const key = typeof segment === 'string' ? segment : typeof segment === 'number' || !NAMING_KEYS.has(segment.key) ? '' : segment.value;
    if (ALWAYS_SECRET_KEYS.has(key)) return true;
    if (secretKind && key === 'data') return true;
    return SECRET_WORD.test(key) && (typeof segment !== 'string' || !REFERENCE_KEY.test(key));
  });
}

function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'object') text += `[${segment.key}=${segment.value}]`;
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
  return alignSequences(x.length, y.length, (i, j) => x[i] === y[j]).flatMap((step): LineChange[] => {
    if (step.op === 'removed') return [{ change: 'removed', line: step.i + 1, text: maskLine(x[step.i]) }];
    if (step.op === 'added') return [{ change: 'added', line: step.j + 1, text: maskLine(y[step.j]) }];
    return [];
  });
}

/** One step from one sequence to another: an item kept (`i` old, `j` new), removed or added. */
type Step =
  | { readonly op: 'same'; readonly i: number; readonly j: number }
  | { readonly op: 'removed'; readonly i: number }
  | { readonly op: 'added'; readonly j: number };

/**
 * The steps from a sequence of `n` items to one of `m`, keeping a longest common subsequence
 * of the items for which `same(i, j)` holds; a removal comes before the addition beside it.
 * Past 4 million pairs (after the common start and end), the middle is removed and added whole.
 */
function alignSequences(n: number, m: number, same: (i: number, j: number) => boolean): Step[] {
  let start = 0;
  while (start < n && start < m && same(start, start)) start++;
  let endX = n;
  let endY = m;
  while (endX > start && endY > start && same(endX - 1, endY - 1)) {
    endX--;
    endY--;
  }
  const steps: Step[] = [];
  for (let k = 0; k < start; k++) steps.push({ op: 'same', i: k, j: k });
  const xs = endX - start;
  const ys = endY - start;
  if (xs * ys > 4_000_000) {
    for (let i = start; i < endX; i++) steps.push({ op: 'removed', i });
    for (let j = start; j < endY; j++) steps.push({ op: 'added', j });
  } else {
    // lcs[i][j]: length of the longest common subsequence of the middles from i and j on
    const lcs: Uint32Array[] = Array.from({ length: xs + 1 }, () => new Uint32Array(ys + 1));
    for (let i = xs - 1; i >= 0; i--) {
      for (let j = ys - 1; j >= 0; j--) {
        lcs[i][j] = same(start + i, start + j) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < xs || j < ys) {
      if (i < xs && j < ys && same(start + i, start + j)) {
        steps.push({ op: 'same', i: start + i, j: start + j });
        i++;
        j++;
      } else if (i < xs && (j === ys || lcs[i + 1][j] >= lcs[i][j + 1])) {
        steps.push({ op: 'removed', i: start + i });
        i++;
      } else {
        steps.push({ op: 'added', j: start + j });
        j++;
      }
    }
  }
  for (let k = 0; k < n - endX; k++) steps.push({ op: 'same', i: endX + k, j: endY + k });
  return steps;
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
