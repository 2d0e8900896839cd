import { types } from 'node:util';
import { Construct } from 'constructs';

/**
 * The key under which an object names its own content for {@link inputText}, instead of being
 * walked: a catalog service, whose templates are compiled functions, says `name@fingerprint`.
 * Two objects with the same identity must render the same.
 */
export const INPUT_IDENTITY: unique symbol = Symbol.for('siteforge.input-identity');

/** An object that names its content for {@link inputText}. */
export interface HasInputIdentity {
  readonly [INPUT_IDENTITY]: string;
}

/** Why a tree has no input text: a value it holds cannot be written down. */
export class UnwritableInput extends Error {}

/** Options of {@link inputText}. */
export interface InputTextOptions {
  /**
   * The classes whose code is hashed beside the text (siteforge's own). An instance of any
   * other class, construct or not, makes the tree unwritable: its methods and getters could
   * render anything. Plain objects, arrays and the built-ins below need no entry.
   */
  readonly classes: ReadonlySet<Function>;
}

/**
 * Everything a construct tree holds, written as one text: every construct under `root` in tree
 * order with its class, then each of its own fields (private ones included) in the object's
 * own order, walked to the end. Constructs met inside a field are written as a reference to
 * their path, since the walk writes them where they stand. Renderers are pure functions of the tree (this
 * folder reads no file, clock or variable), so two trees with the same text render the same;
 * that is what makes it safe to skip an environment whose input text did not change.
 *
 * Throws {@link UnwritableInput} for a value whose content cannot be read: a function, a symbol,
 * an instance of a class whose code is not hashed (see {@link InputTextOptions.classes}; a
 * subclass of Array or Map is such a class, as its methods decide what a renderer reads), an
 * object that inherits from another object (whose fields the walk would not write), a
 * construct outside `root`, or a built-in object other than an array, Map, Set, Date, RegExp or
 * byte array. Such a tree is rendered every time.
 */
export function inputText(root: Construct, options: InputTextOptions): string {
  const walk: Walk = { out: [], root, options };
  for (const construct of root.node.findAll()) {
    assertKnownClass(construct, construct.node.path, options);
    walk.out.push(`\n@${construct.node.path} ${construct.constructor.name}`);
    writeFields(construct, construct.node.path, new Set([construct]), walk, true);
  }
  return walk.out.join('');
}

/** What one inputText call writes to, and from. */
interface Walk {
  readonly out: string[];
  readonly root: Construct;
  readonly options: InputTextOptions;
}

/** Refuses an object that is neither plain nor a direct instance of a class whose code is hashed. */
function assertKnownClass(object: object, where: string, options: InputTextOptions): void {
  const prototype = Object.getPrototypeOf(object) as object | null;
  if (prototype === null || prototype === Object.prototype) return;
  const constructor = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as unknown;
  if (typeof constructor !== 'function' || constructor.prototype !== prototype) {
    throw new UnwritableInput(`${where} inherits from an object that is not a class's prototype`);
  }
  if (!options.classes.has(constructor)) throw new UnwritableInput(`${where} is a ${constructor.name}, a class whose code is not hashed`);
}

/** Whether `object` is an instance of the built-in `tag` names itself, not of a subclass of it. */
function isBuiltIn(object: object, tag: string): boolean {
  const builtIn = (globalThis as Record<string, unknown>)[tag.slice('[object '.length, -1)] as { prototype?: unknown } | undefined;
  const prototype = Object.getPrototypeOf(object) as unknown;
  return prototype === builtIn?.prototype || (prototype === Buffer.prototype && Buffer.isBuffer(object));
}

function writeFields(value: object, where: string, path: Set<object>, walk: Walk, isConstruct: boolean): void {
  const { out } = walk;
  out.push('{');
  // Every own key, hidden and symbol ones too, in the object's own order (which templates see).
  for (const key of Reflect.ownKeys(value)) {
    // A construct's `node` holds its place in the tree, which the walk writes itself.
    if (isConstruct && key === 'node') continue;
    out.push(typeof key === 'symbol' ? `symbol(${Symbol.keyFor(key) ?? key.description})` : JSON.stringify(key), ':');
    write((value as Record<string | symbol, unknown>)[key], `${where}.${String(key)}`, path, walk);
    out.push(',');
  }
  out.push('}');
}

function write(value: unknown, where: string, path: Set<object>, walk: Walk): void {
  const { out } = walk;
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
    case 'boolean':
    case 'bigint':
      out.push(`${typeof value}(${String(value)})`);
      return;
    case 'undefined':
      out.push('undefined');
      return;
    case 'function':
    case 'symbol':
      throw new UnwritableInput(`${where} holds a ${typeof value}`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const object = value as object;
  if (Construct.isConstruct(object)) {
    // Written where it stands in the tree; one outside it would not be written at all.
    if (!object.node.scopes.includes(walk.root)) throw new UnwritableInput(`${where} refers to ${object.node.path}, which is not in the tree written`);
    out.push(`ref(${object.node.path})`);
    return;
  }
  // Its own: an object made from it with Object.create inherits the name, not the content.
  const identity = Object.getOwnPropertyDescriptor(object, INPUT_IDENTITY)?.value as unknown;
  if (typeof identity === 'string') {
    out.push(`id(${JSON.stringify(identity)})`);
    return;
  }
  if (path.has(object)) throw new UnwritableInput(`${where} refers back to an object that contains it`);
  path.add(object);
  const tag = Object.prototype.toString.call(object);
  // A subclass's methods decide what a renderer reads: it is written as a class instance.
  if (tag !== '[object Object]' && !isBuiltIn(object, tag)) {
    assertKnownClass(object, where, walk.options);
    out.push(object.constructor.name);
    writeFields(object, where, path, walk, false);
  } else if (Array.isArray(object)) {
    out.push('[');
    for (let i = 0; i < object.length; i++) {
      if (i in object) write(object[i], `${where}[${i}]`, path, walk);
      else out.push('hole');
      out.push(',');
    }
    out.push(']');
  } else if (types.isMap(object)) {
    out.push('Map');
    write([...object], where, path, walk);
  } else if (types.isSet(object)) {
    out.push('Set');
    write([...object], where, path, walk);
  } else if (types.isDate(object) || types.isRegExp(object)) {
    out.push(`${tag}(${String(types.isDate(object) ? object.getTime() : object)})`);
  } else if (ArrayBuffer.isView(object)) {
    out.push(`${tag}(${Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('hex')})`);
  } else if (tag === '[object Object]') {
    assertKnownClass(object, where, walk.options);
    out.push(object.constructor?.name ?? 'null');
    writeFields(object, where, path, walk, false);
  } else {
    throw new UnwritableInput(`${where} holds a ${tag.slice(8, -1)}`);
  }
  path.delete(object);
}
