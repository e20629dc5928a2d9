// Buffers for list pages, used again from one page to the next. A 500-pod page is 4-5 MB. Read into a fresh buffer,
// it lives as long as its items are being parsed (a hundred milliseconds, several young-generation collections),
// so V8 promotes the Buffer object and frees its bytes only at the next full collection, which V8 starts once some
// 64 MB of such bytes have piled up: diagnose's peak memory swung by 60 MB with it (process.memoryUsage().external,
// 100,000 pods). A page given back once its items are parsed lends its bytes to the next page instead.

/** Bytes held for pages not in use, at most (a few pages of pods, many of events). */
const MAX_FREE_BYTES = 32 * 1024 * 1024;

export class PageBuffers {
  readonly #free: Buffer[] = [];
  #freeBytes = 0;
  /** The memory of the buffers this pool made: only those come back to it. */
  readonly #own = new WeakSet<ArrayBufferLike>();
  /** The size of the last body read, the guess for a body of unknown size (gzip). */
  #lastLength = 0;

  /** A buffer of at least `size` bytes, with nothing else reading or writing it until it is given back. */
  take(size: number): Buffer {
    let best = -1;
    this.#free.forEach((buffer, index) => {
      if (buffer.length >= size && (best < 0 || buffer.length < (this.#free[best]?.length ?? 0)))
        best = index;
    });
    const [found] = best < 0 ? [] : this.#free.splice(best, 1);
    if (found) {
      this.#freeBytes -= found.length;
      return found;
    }
    // Rounded up, so that pages of about the same size fit each other's buffers.
    const made = Buffer.allocUnsafeSlow(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.max(size, 1)))));
    this.#own.add(made.buffer);
    return made;
  }

  /** Gives back a buffer from take() (or a view from its start) that nothing reads any more. */
  give(bytes: Buffer): void {
    if (!this.#own.has(bytes.buffer)) return;
    const buffer = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
    if (this.#free.some((free) => free.buffer === buffer.buffer)) return;
    if (this.#freeBytes + buffer.length > MAX_FREE_BYTES) return;
    this.#free.push(buffer);
    this.#freeBytes += buffer.length;
  }

  /**
   * The body of a response read into a buffer of the pool: a view of the bytes read, to give back once parsed.
   * `expected` is the size announced (Content-Length), else the last body's; a longer body moves to a larger buffer.
   */
  async read(chunks: AsyncIterable<Buffer>, expected: number | undefined): Promise<Buffer> {
    let buffer = this.take(expected ?? this.#lastLength);
    let length = 0;
    for await (const chunk of chunks) {
      if (length + chunk.length > buffer.length) {
        const larger = this.take(2 * (length + chunk.length));
        buffer.copy(larger, 0, 0, length);
        this.give(buffer);
        buffer = larger;
      }
      chunk.copy(buffer, length);
      length += chunk.length;
    }
    this.#lastLength = length;
    return buffer.subarray(0, length);
  }
}
