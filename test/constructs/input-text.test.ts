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
    expect(inputText(tree())).toBe(inputText(tree()));
  });

  it('changes when any value the tree holds changes, however deep or hidden', () => {
    const base = inputText(tree());
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
    const texts = variants.map((v) => inputText(tree(v)));
    texts.forEach((text) => expect(text).not.toBe(base));
    expect(new Set(texts).size).toBe(variants.length);
    expect(inputText(tree(VALUE(), 'another hidden value'))).not.toBe(base);
  });

  it('names the class of each construct and object', () => {
    expect(inputText(tree(VALUE(), undefined, OtherHolder))).not.toBe(inputText(tree()));
    class Point { constructor(public readonly x: number) {} }
    class Size { constructor(public readonly x: number) {} }
    expect(inputText(tree(new Point(1)))).not.toBe(inputText(tree(new Size(1))));
  });

  it('writes a construct met in a field as a reference to its path', () => {
    const text = inputText(tree());
    expect(text).toContain('"other":ref(site/b)');
    expect(text.match(/@site\/b /g)).toHaveLength(1);
  });

  it('writes an object that names its own content by that name only', () => {
    const service = (identity: string, template: () => string) => ({ [INPUT_IDENTITY]: identity, template });
    const text = inputText(tree({ service: service('redis@sha256:1', () => 'a') }));
    expect(text).toBe(inputText(tree({ service: service('redis@sha256:1', () => 'b') })));
    expect(text).not.toBe(inputText(tree({ service: service('redis@sha256:2', () => 'a') })));
  });

  it('refuses what it cannot read, naming where it is', () => {
    const refused = (value: unknown) => {
      try {
        inputText(tree(value));
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
  });

  it('writes an object shared by two fields twice, which is no loop', () => {
    const shared = { port: 1 };
    expect(inputText(tree({ a: shared, b: shared }))).toBe(inputText(tree({ a: { port: 1 }, b: { port: 1 } })));
  });
});
