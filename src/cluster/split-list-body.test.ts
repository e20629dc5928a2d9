import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitListBody } from './split-list-body.js';

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
