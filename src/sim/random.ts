// A small seeded PRNG for the simulator: the same --seed lays down the same cluster, byte for byte, so tests can
// deep-equal two builds and a bug seen in a demo can be replayed.

/** The alphabet the API server draws generateName suffixes from (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0/1/3). */
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const HEX = '0123456789abcdef';
const HEX_CODES = Array.from(HEX, (char) => char.charCodeAt(0));

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** Picks by relative weight: `[[value, weight], ...]`. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T;
  chance(probability: number): boolean;
  /** A generateName suffix, as the API server appends it (`virt-launcher-testvm-c2zhc`). */
  suffix(length?: number): string;
  /** Lower-case hex digits (container IDs, event name suffixes). */
  hex(length: number): string;
  /** A version-4-shaped UUID drawn from this generator (not crypto: only the shape matters). */
  uuid(): string;
  /** A copy of items in a random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

/**
 * mulberry32: a 32-bit state generator, fast and good enough to make clusters look random
 * (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c).
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(next() * items.length)] as T;
  };
  // Hex strings are built from character codes in one go: Number#toString(16) and appending pieces are slow and
  // leave ropes behind, and a 100k-pod scenario draws half a million container IDs.
  const hex = (length: number): string => {
    const codes = new Array<number>(length);
    for (let at = 0; at < length; at += 8) {
      const word = nextUint32();
      for (let shift = 28, i = at; shift >= 0 && i < length; shift -= 4, i++)
        codes[i] = HEX_CODES[(word >>> shift) & 0xf] as number;
    }
    return String.fromCharCode(...codes);
  };
  return {
    next,
    int,
    pick,
    weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
      const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
      let point = next() * total;
      for (const [value, weight] of choices) {
        point -= weight;
        if (point < 0) return value;
      }
      const last = choices[choices.length - 1];
      if (last === undefined) throw new RangeError('weighted pick from an empty list');
      return last[0];
    },
    chance: (probability) => next() < probability,
    suffix(length = 5): string {
      let out = '';
      for (let i = 0; i < length; i++) {
        out += NAME_SUFFIX_ALPHABET[Math.floor(next() * NAME_SUFFIX_ALPHABET.length)];
      }
      return out;
    },
    hex,
    uuid(): string {
      const raw = hex(32);
      // Version nibble 4 and variant bits 10xx, as RFC 4122 §4.4 lays them out.
      const variant = HEX[8 + (Number.parseInt(raw[16] ?? '0', 16) & 0x3)];
      return [
        raw.slice(0, 8),
        raw.slice(8, 12),
        `4${raw.slice(13, 16)}`,
        `${variant}${raw.slice(17, 20)}`,
        raw.slice(20, 32),
      ].join('-');
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
  };
}

/** A seed for a sub-stream (one churn step, one scenario part), so that it does not depend on how much was drawn before. */
export function deriveSeed(seed: number, ...parts: Array<number | string>): number {
  // FNV-1a over the seed and the parts: cheap, and different parts give unrelated streams.
  let hash = 0x811c9dc5;
  const mix = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  };
  mix(String(seed >>> 0));
  for (const part of parts) mix(`/${part}`);
  return hash >>> 0;
}
