import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PageBuffers } from './page-buffers.js';

async function* chunksOf(text: string, size: number): AsyncGenerator<Buffer> {
  for (let start = 0; start < text.length; start += size) yield Buffer.from(text.slice(start, start + size));
}

describe('PageBuffers', () => {
  it('reads a body whole, in a buffer of its own, whatever size was announced', async () => {
    const pool = new PageBuffers();
    const text = `${'x'.repeat(200_000)}the end`;
    for (const expected of [text.length, 10, undefined, 1_000_000]) {
      const bytes = await pool.read(chunksOf(text, 65_536), expected);
      assert.equal(bytes.toString(), text);
    }
  });

  it('lends a given-back buffer to the next page, and never one still in use', async () => {
    const pool = new PageBuffers();
    const first = await pool.read(chunksOf('a'.repeat(100_000), 4096), 100_000);
    const second = await pool.read(chunksOf('b'.repeat(100_000), 4096), 100_000);
    assert.notEqual(first.buffer, second.buffer);
    assert.equal(first.toString(), 'a'.repeat(100_000));
    pool.give(first);
    const third = await pool.read(chunksOf('c'.repeat(90_000), 4096), 90_000);
    assert.equal(third.buffer, first.buffer);
    assert.equal(second.toString(), 'b'.repeat(100_000));
    assert.equal(third.toString(), 'c'.repeat(90_000));
  });

  it('takes back only its own buffers, once', () => {
    const pool = new PageBuffers();
    const stranger = Buffer.alloc(1 << 20);
    pool.give(stranger);
    assert.notEqual(pool.take(1000).buffer, stranger.buffer);
    const own = pool.take(1000);
    pool.give(own);
    pool.give(own);
    assert.equal(pool.take(1000).buffer, own.buffer);
    assert.notEqual(pool.take(1000).buffer, own.buffer);
  });
});
