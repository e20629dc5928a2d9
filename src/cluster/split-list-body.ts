// A list page split into its items without parsing them all at once. JSON.parse of a 500-pod page builds some
// 15 MB of objects that outlive several young-generation collections while the page is consumed, so V8 promotes
// them and the old space grows to ~200 MB of garbage before it marks (measured on a 20,000-pod list, --trace-gc).
// Parsed one at a time as the consumer asks, each item dies young and the page costs only its bytes.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export interface SplitListBody {
  /** Every top-level member of the list object except `items`, parsed (kind, apiVersion, metadata). */
  members: Record<string, unknown>;
  /** Where each element of `items` lies in the bytes: start and end offsets, interleaved. */
  itemRanges: number[];
}

/**
 * Finds the members and the item boundaries of a JSON list object (`{"metadata": {...}, "items": [...]}`, in
 * any member order). Throws SyntaxError on anything that is not such an object, so the caller can fall back to
 * JSON.parse and its usual error.
 */
export function splitListBody(bytes: Buffer): SplitListBody {
  const members: Record<string, unknown> = {};
  const itemRanges: number[] = [];
  const text = (start: number, end: number): string => bytes.toString('utf8', start, end);
  let index = skipWhitespace(bytes, 0);
  expect(bytes, index, OPEN_BRACE);
  index = skipWhitespace(bytes, index + 1);
  if (bytes[index] === CLOSE_BRACE) return { members, itemRanges };
  for (;;) {
    expect(bytes, index, QUOTE);
    const keyEnd = endOfString(bytes, index);
    const key = JSON.parse(text(index, keyEnd)) as string;
    index = skipWhitespace(bytes, keyEnd);
    expect(bytes, index, COLON);
    index = skipWhitespace(bytes, index + 1);
    if (key === 'items' && bytes[index] === OPEN_BRACKET) {
      index = skipWhitespace(bytes, index + 1);
      if (bytes[index] === CLOSE_BRACKET) index += 1;
      else {
        for (;;) {
          const end = endOfValue(bytes, index);
          itemRanges.push(index, end);
          index = skipWhitespace(bytes, end);
          if (bytes[index] === CLOSE_BRACKET) {
            index += 1;
            break;
          }
          expect(bytes, index, COMMA);
          index = skipWhitespace(bytes, index + 1);
        }
      }
    } else {
      const end = endOfValue(bytes, index);
      members[key] = JSON.parse(text(index, end));
      index = end;
    }
    index = skipWhitespace(bytes, index);
    if (bytes[index] === CLOSE_BRACE) break;
    expect(bytes, index, COMMA);
    index = skipWhitespace(bytes, index + 1);
  }
  if (skipWhitespace(bytes, index + 1) !== bytes.length) throw new SyntaxError('text after the list object');
  return { members, itemRanges };
}

/** Bytes two items must share at their start for ListItems to find the others by searching for them. */
const MIN_SHARED_START = 12;
const MAX_SHARED_START = 64;

/**
 * The items of a list body, each parsed when asked for, in order. Scanning every byte of a page in JavaScript to
 * find where its items end cost a third as much as parsing them. A compact body whose items all start alike
 * (`{"metadata":{"name":"virt-launcher-` from the apiserver, `{"apiVersion":"v1","kind":"Pod",...` from kubectl
 * dumps and the simulator) is split instead by searching natively for that start after a `},`; parsing an item
 * then confirms its range: text that begins where an item begins and parses as one JSON value ends where the item
 * ends. A range that does not parse (an inner array of objects that start the same way, another layout) makes
 * the scanner split the whole body, once.
 */
export class ListItems {
  #bytes: Buffer;
  #split: SplitListBody;
  /** The ranges came from the search and are confirmed one by one, in order. */
  #guessed: boolean;
  #next = 0;

  /** Throws SyntaxError, as splitListBody, on a body that is not a list object. */
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
    const guessed = guessListBody(bytes);
    this.#split = guessed ?? splitListBody(bytes);
    this.#guessed = guessed !== undefined;
  }

  /** The list's members other than items (kind, apiVersion, metadata). */
  get members(): Record<string, unknown> {
    return this.#split.members;
  }

  /** Items in the body; it may drop when a guessed range is found wrong, never for items already parsed. */
  get count(): number {
    return this.#split.itemRanges.length / 2;
  }

  item(index: number): unknown {
    // Only a range that starts right after a confirmed one is known to start where an item starts.
    if (this.#guessed && index !== this.#next) this.#scan();
    this.#next = index + 1;
    const ranges = this.#split.itemRanges;
    const text = this.#bytes.toString('utf8', ranges[index * 2], ranges[index * 2 + 1]);
    if (!this.#guessed) return JSON.parse(text) as unknown;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.#scan();
      return this.item(index);
    }
  }

  /** The bytes are no longer this list's (they go back to a pool): it has no items any more. */
  release(): void {
    this.#bytes = Buffer.alloc(0);
    this.#split = { members: this.#split.members, itemRanges: [] };
    this.#guessed = false;
  }

  #scan(): void {
    this.#split = splitListBody(this.#bytes);
    this.#guessed = false;
  }
}

/**
 * The members before `items` and a guess at the item ranges, when the body has the apiserver's layout: compact,
 * metadata (the continue token) before items, items last, their first two starting with the same bytes. Else
 * undefined, and the body is scanned.
 */
function guessListBody(bytes: Buffer): SplitListBody | undefined {
  const members: Record<string, unknown> = {};
  let index = skipWhitespace(bytes, 0);
  if (bytes[index] !== OPEN_BRACE) return undefined;
  index = skipWhitespace(bytes, index + 1);
  for (;;) {
    if (bytes[index] !== QUOTE) return undefined;
    const keyEnd = endOfString(bytes, index);
    const key = JSON.parse(bytes.toString('utf8', index, keyEnd)) as string;
    index = skipWhitespace(bytes, keyEnd);
    if (bytes[index] !== COLON) return undefined;
    index = skipWhitespace(bytes, index + 1);
    if (key === 'items') break;
    const end = endOfValue(bytes, index);
    members[key] = JSON.parse(bytes.toString('utf8', index, end));
    index = skipWhitespace(bytes, end);
    if (bytes[index] !== COMMA) return undefined;
    index = skipWhitespace(bytes, index + 1);
  }
  if (!Object.hasOwn(members, 'metadata') || bytes[index] !== OPEN_BRACKET) return undefined;
  // items is the last member: the body ends with `]}`.
  let close = bytes.length - 1;
  while (isWhitespace(bytes[close])) close -= 1;
  if (bytes[close] !== CLOSE_BRACE) return undefined;
  close -= 1;
  while (isWhitespace(bytes[close])) close -= 1;
  if (bytes[close] !== CLOSE_BRACKET) return undefined;
  const first = skipWhitespace(bytes, index + 1);
  if (bytes[first] !== OPEN_BRACE) return undefined;
  const firstEnd = endOfValue(bytes, first);
  const itemRanges = [first, firstEnd];
  if (skipWhitespace(bytes, firstEnd) === close) return { members, itemRanges };
  if (bytes[firstEnd] !== COMMA) return undefined;
  let start = firstEnd + 1;
  let shared = 0;
  while (
    shared < MAX_SHARED_START &&
    start + shared < close &&
    bytes[first + shared] === bytes[start + shared]
  )
    shared += 1;
  if (shared < MIN_SHARED_START) return undefined;
  const separator = Buffer.concat([Buffer.from('},'), bytes.subarray(first, first + shared)]);
  for (;;) {
    const found = bytes.indexOf(separator, start);
    if (found < 0 || found >= close) break;
    itemRanges.push(start, found + 1);
    start = found + 2;
  }
  itemRanges.push(start, close);
  return { members, itemRanges };
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function expect(bytes: Uint8Array, index: number, byte: number): void {
  if (bytes[index] !== byte) {
    throw new SyntaxError(`expected '${String.fromCharCode(byte)}' at byte ${index} of a list body`);
  }
}

function skipWhitespace(bytes: Uint8Array, start: number): number {
  let index = start;
  for (;;) {
    const byte = bytes[index];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return index;
    index += 1;
  }
}

/** `start` is at an opening quote; returns the offset just past the closing one. */
function endOfString(bytes: Uint8Array, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) throw new SyntaxError('unterminated string in a list body');
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    // An even run of backslashes escapes itself, not the quote.
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** `start` is at the first byte of a JSON value; returns the offset just past it. */
function endOfValue(bytes: Uint8Array, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return endOfString(bytes, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let index = start;
    while (index < bytes.length) {
      const byte = bytes[index];
      if (byte === QUOTE) {
        index = endOfString(bytes, index);
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth -= 1;
        if (depth === 0) return index + 1;
      }
      index += 1;
    }
    throw new SyntaxError('unterminated object or array in a list body');
  }
  // A number, true, false or null: up to the next delimiter.
  let index = start;
  while (index < bytes.length) {
    const byte = bytes[index];
    if (
      byte === COMMA ||
      byte === CLOSE_BRACE ||
      byte === CLOSE_BRACKET ||
      byte === 0x20 ||
      byte === 0x0a ||
      byte === 0x0d ||
      byte === 0x09
    )
      break;
    index += 1;
  }
  if (index === start) throw new SyntaxError(`expected a value at byte ${start} of a list body`);
  return index;
}
