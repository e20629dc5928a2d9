import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseQuery } from './query-params.js';

const entries = (query: URLSearchParams) => [...query.entries()];

describe('parseQuery (Go url.ParseQuery)', () => {
  it('splits on &, reads + as a space and decodes escapes, keeping repeated keys in order', () => {
    const query = parseQuery('labelSelector=app%3Dweb%2Btier+x&dryRun=All&dryRun=None&watch&limit=');
    assert.deepEqual(entries(query), [
      ['labelSelector', 'app=web+tier x'],
      ['dryRun', 'All'],
      ['dryRun', 'None'],
      ['watch', ''],
      ['limit', ''],
    ]);
    assert.deepEqual(query.getAll('dryRun'), ['All', 'None']);
    assert.equal(entries(parseQuery('')).length, 0);
  });

  it('leaves out empty pairs, pairs with a semicolon and escapes that do not decode', () => {
    assert.deepEqual(entries(parseQuery('&a=1&&b=2;c=3&d=%zz&e=%4&f=%E2%82%AC')), [
      ['a', '1'],
      ['f', '€'],
    ]);
  });

  it('reads any well-formed form-encoded query as URLSearchParams does (property)', () => {
    const text = fc.string({ unit: 'grapheme' });
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text)), (pairs) => {
        const encoded = new URLSearchParams(pairs).toString();
        assert.deepEqual(entries(parseQuery(encoded)), entries(new URLSearchParams(encoded)));
      }),
    );
  });
});
