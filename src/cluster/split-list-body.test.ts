import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ListItems, splitListBody } from './split-list-body.js';

function items(text: string): unknown[] {
  const bytes = Buffer.from(text);
  const { itemRanges } = splitListBody(bytes);
  const parsed: unknown[] = [];
  for (let index = 0; index < itemRanges.length; index += 2) {
    parsed.push(JSON.parse(bytes.toString('utf8', itemRanges[index], itemRanges[index + 1])));
  }
  return parsed;
}

describe('splitListBody', () => {
  it('finds every item and parses the other members, whatever their order', () => {
    const list = {
      kind: 'PodList',
      apiVersion: 'v1',
      items: [
        {
          metadata: { name: 'a', labels: { 'x/y': 'z' } },
          spec: { containers: [{ name: 'c', args: ['[', '{'] }] },
        },
        { metadata: { name: 'b' }, status: { message: 'quote " brace } bracket ] backslash \\' } },
        'text with \\" and ] inside',
        42,
        -1.5e3,
        true,
        null,
        [1, [2, { three: '}' }]],
        { name: 'ünïcødé ✓', escaped: '\\\\' },
      ],
      metadata: { resourceVersion: '12', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' },
    };
    const text = JSON.stringify(list, undefined, 2);
    assert.deepEqual(items(text), list.items);
    const { members } = splitListBody(Buffer.from(text));
    assert.deepEqual(members, { kind: 'PodList', apiVersion: 'v1', metadata: list.metadata });
  });

  it('handles empty lists and null items', () => {
    assert.deepEqual(items('{"kind":"PodList","metadata":{},"items":[]}'), []);
    assert.deepEqual(items(' { } '), []);
    const { members, itemRanges } = splitListBody(Buffer.from('{"metadata":{},"items":null}'));
    assert.deepEqual(itemRanges, []);
    assert.equal(members.items, null);
  });

  it('rejects what is not one JSON object', () => {
    for (const text of [
      '',
      '[]',
      '{"items":[{"a":1}',
      '{"items":[1 2]}',
      '{"metadata":{}} trailing',
      '{"items":["unterminated]}',
      '{"a" 1}',
    ]) {
      assert.throws(() => splitListBody(Buffer.from(text)), SyntaxError, text);
    }
  });
});

/** Every item ListItems gives, in order, as kube-api asks for them (the count may drop as ranges are confirmed). */
function listItems(text: string): { members: Record<string, unknown>; items: unknown[] } {
  const list = new ListItems(Buffer.from(text));
  const items: unknown[] = [];
  for (let index = 0; index < list.count; index += 1) items.push(list.item(index));
  return { members: list.members, items };
}

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: `virt-launcher-${name}`, namespace: 'vms' },
  spec: { containers: [{ name: 'compute' }] },
  ...extra,
});

describe('ListItems', () => {
  it('gives the items of a compact apiserver list, whatever their content', () => {
    const list = {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '7', continue: 'abc' },
      items: [
        pod('a'),
        pod('b', { status: { message: 'a string with },{"metadata":{"name":"virt-launcher- inside' } }),
        pod('c', { status: { message: 'ünïcødé ✓ and \\ and "quotes"' } }),
        pod('d'),
      ],
    };
    const { members, items: parsed } = listItems(JSON.stringify(list));
    assert.deepEqual(parsed, list.items);
    assert.deepEqual(members, { kind: 'PodList', apiVersion: 'v1', metadata: list.metadata });
  });

  it('splits right when an item holds objects that start as the items do', () => {
    // The search finds `},{"metadata":{"name":"virt-launcher-` inside b: its range does not parse, the scanner
    // takes over, and no item is lost, split or counted twice.
    const inner = [pod('x'), pod('y'), pod('z')];
    const list = { metadata: {}, items: [pod('a'), pod('b', { inner }), pod('c', { inner }), pod('d')] };
    assert.deepEqual(listItems(JSON.stringify(list)).items, list.items);
  });

  it('gives the items of other layouts: pretty-printed, metadata after items, unlike items, one or none', () => {
    const items = [pod('a'), { other: 1 }, 'text', 42, null, pod('b')];
    for (const text of [
      JSON.stringify({ metadata: { continue: 'x' }, items }, undefined, 2),
      JSON.stringify({ items, metadata: { continue: 'x' } }),
      JSON.stringify({ metadata: {}, items }),
      JSON.stringify({ metadata: {}, items: [pod('a')] }),
      JSON.stringify({ metadata: {}, items: [] }),
      JSON.stringify({ metadata: {}, items: [pod('a'), pod('b')], kind: 'PodList' }),
    ]) {
      const expected = JSON.parse(text) as { items: unknown[] };
      assert.deepEqual(listItems(text).items, expected.items, text);
    }
  });

  it('gives exactly the items of any list of objects sharing a start (property)', () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const item = fc.record({
      metadata: fc.record({ name: fc.string(), labels: fc.dictionary(fc.string(), fc.string()) }),
      inner: fc.array(fc.record({ metadata: fc.record({ name: fc.string() }), rest: value })),
      rest: value,
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), fc.boolean(), (items, pretty) => {
        const list = { kind: 'List', metadata: { continue: 'c' }, items };
        const text = pretty ? JSON.stringify(list, undefined, 1) : JSON.stringify(list);
        const got = listItems(text);
        // JSON.parse gives -0 where the text says -0; compare as the text would round-trip.
        assert.equal(JSON.stringify(got.items), JSON.stringify(JSON.parse(text).items));
        assert.deepEqual(got.members, { kind: 'List', metadata: { continue: 'c' } });
      }),
    );
  });
});
