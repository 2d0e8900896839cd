import { Construct } from 'constructs';
import { RootConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { INPUT_IDENTITY, inputText, UnwritableInput } from '../../constructs';

/** A construct holding every kind of value the walk reads, with a private field. */
class Holder extends Construct {
  public other?: Construct;
  constructor(scope: Construct, id: string, public readonly value: unknown, private readonly hidden: unknown = 'hidden') {
    super(scope, id);
  }
  public get secretField(): unknown {
    return this.hidden;
  }
}

class OtherHolder extends Holder {}
class Point { constructor(public readonly x: number) {} }
class Size { constructor(public readonly x: number) {} }
class Stranger { constructor(public readonly x: number) {} }

/** The classes whose code the test counts as hashed, as siteforge counts its model's. */
const OPTIONS = { classes: new Set<Function>([RootConstruct, Construct, Holder, OtherHolder, Point, Size]) };
const text = (root: RootConstruct) => inputText(root, OPTIONS);

const VALUE = () => ({
  text: 'a', count: 2, flag: true, nothing: null, missing: undefined, big: 10n,
  list: [1, 'two', [3]], map: new Map<unknown, unknown>([['k', { deep: 1 }]]), set: new Set(['x']),
  when: new Date(0), pattern: /a+/g, bytes: Buffer.from('hi'),
});

function tree(value: unknown = VALUE(), hidden?: unknown, kind: typeof Holder = Holder): RootConstruct {
  const root = new RootConstruct();
  const site = new Construct(root, 'site');
  const a = new kind(site, 'a', value, hidden);
  a.other = new Holder(site, 'b', 'b');
  return root;
}

describe('inputText', () => {
  it('is the same for trees built the same way', () => {
    expect(text(tree())).toBe(text(tree()));
  });

  it('changes when any value the tree holds changes, however deep or hidden', () => {
    const base = text(tree());
    const variants: unknown[] = [
      { ...VALUE(), text: 'b' },
      { ...VALUE(), count: '2' },
      { ...VALUE(), missing: null },
      { ...VALUE(), list: [1, 'two', [4]] },
      { ...VALUE(), map: new Map([['k', { deep: 2 }]]) },
      { ...VALUE(), set: new Set(['y']) },
      { ...VALUE(), when: new Date(1) },
      { ...VALUE(), pattern: /a+/ },
      { ...VALUE(), bytes: Buffer.from('ho') },
      { ...VALUE(), extra: 1 },
    ];
    const texts = variants.map((v) => text(tree(v)));
    texts.forEach((text) => expect(text).not.toBe(base));
    expect(new Set(texts).size).toBe(variants.length);
    expect(text(tree(VALUE(), 'another hidden value'))).not.toBe(base);
  });

  it('names the class of each construct and object', () => {
    expect(text(tree(VALUE(), undefined, OtherHolder))).not.toBe(text(tree()));
    expect(text(tree(new Point(1)))).not.toBe(text(tree(new Size(1))));
  });

  it('writes a construct met in a field as a reference to its path', () => {
    const written = text(tree());
    expect(written).toContain('"other":ref(site/b)');
    expect(written.match(/@site\/b /g)).toHaveLength(1);
  });

  it('keeps the order of keys and the holes of arrays, which templates see', () => {
    expect(text(tree({ a: 1, b: 2 }))).not.toBe(text(tree({ b: 2, a: 1 })));
    // eslint-disable-next-line no-sparse-arrays
    const holed = [, '/a'];
    const texts = [holed, [undefined, '/a'], ['/a']].map((paths) => text(tree({ paths })));
    expect(new Set(texts).size).toBe(3);
  });

  it('writes an object that names its own content by that name only', () => {
    const service = (identity: string, template: () => string) => ({ [INPUT_IDENTITY]: identity, template });
    const written = text(tree({ service: service('redis@sha256:1', () => 'a') }));
    expect(written).toBe(text(tree({ service: service('redis@sha256:1', () => 'b') })));
    expect(written).not.toBe(text(tree({ service: service('redis@sha256:2', () => 'a') })));
  });

  it('refuses what it cannot read, naming where it is', () => {
    const refused = (value: unknown, kind: typeof Holder = Holder) => {
      try {
        text(tree(value, undefined, kind));
      } catch (e) {
        expect(e).toBeInstanceOf(UnwritableInput);
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ render: () => 'x' })).toBe('site/a.value.render holds a function');
    expect(refused([Symbol('s')])).toBe('site/a.value[0] holds a symbol');
    expect(refused({ cache: new WeakMap() })).toBe('site/a.value.cache holds a WeakMap');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(refused(loop)).toBe('site/a.value.self refers back to an object that contains it');
    // Methods and getters of a class whose code is not hashed could render anything.
    expect(refused({ where: new Stranger(1) })).toBe('site/a.value.where is a Stranger, a class whose code is not hashed');
    class Subclassed extends Holder {}
    expect(refused('plain', Subclassed)).toBe('site/a is a Subclassed, a class whose code is not hashed');
    // A subclass of a built-in decides what a renderer reads (here, what iterating it gives).
    class Owners extends Array<string> {
      public override *[Symbol.iterator](): ArrayIterator<string> {
        for (let i = 0; i < this.length; i++) yield `${this[i]}-suffix`;
      }
    }
    expect(refused({ owners: Owners.from(['a']) })).toBe('site/a.value.owners is a Owners, a class whose code is not hashed');
    class Registry extends Map<string, string> {}
    expect(refused({ registry: new Registry() })).toBe('site/a.value.registry is a Registry, a class whose code is not hashed');
    // An object made from another inherits fields the walk would not write, its name among them.
    const service = Object.defineProperty({ tag: '1.0' }, INPUT_IDENTITY, { value: 'redis@sha256:1' });
    const copy = Object.assign(Object.create(service) as object, { tag: '2.0' });
    expect(refused({ service: copy })).toBe("site/a.value.service inherits from an object that is not a class's prototype");
    expect(refused({ point: Object.create(new Point(1)) })).toBe("site/a.value.point inherits from an object that is not a class's prototype");
    // A construct of another tree would be written as its path only, not its content.
    const elsewhere = new Holder(new Construct(new RootConstruct(), 'other-site'), 'x', 'its content');
    expect(refused({ uses: elsewhere })).toBe('site/a.value.uses refers to other-site/x, which is not in the tree written');
  });

  it('writes an object without a prototype, and the built-ins it reads, as a plain object would be', () => {
    const bare = Object.assign(Object.create(null) as object, { port: 1 });
    expect(text(tree({ bare }))).not.toBe(text(tree({ bare: Object.assign(Object.create(null) as object, { port: 2 }) })));
    expect(text(tree({ bytes: Buffer.from('a') }))).not.toBe(text(tree({ bytes: Buffer.from('b') })));
    expect(text(tree({ bytes: new Uint8Array([1]) }))).not.toBe(text(tree({ bytes: new Uint8Array([2]) })));
  });

  it('writes an object shared by two fields twice, which is no loop', () => {
    const shared = { port: 1 };
    expect(text(tree({ a: shared, b: shared }))).toBe(text(tree({ a: { port: 1 }, b: { port: 1 } })));
  });
});
