// A standalone random generator for shuffling and splitting, like torch.Generator:
// the core's algorithms (splitmix64 seeding, xoshiro128++, Lemire's unbiased bounded
// integers, Fisher-Yates) with its own state, so that a DataLoader's order or a
// split can be fixed without touching, or being moved by, the global seed.

import { FerrogradError } from '../errors.js';

const MASK64 = (1n << 64n) - 1n;

/**
 * A seeded random generator for `DataLoader({ generator })` and `randomSplit`. For
 * the same seed, `randperm(n)` gives the same permutation as the core's `randperm`
 * right after `manualSeed(seed)`.
 *
 * @example
 * ```ts
 * const g = new data.Generator(42);
 * const loader = new data.DataLoader(ds, { shuffle: true, generator: g });
 * ```
 */
export class Generator {
  readonly #s = new Uint32Array(4);

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Reseeds the generator; returns it, as torch.Generator.manual_seed does. */
  manualSeed(seed: number): this {
    if (!Number.isInteger(seed)) throw new FerrogradError('value', `Generator.manualSeed: the seed must be an integer, got ${seed}`);
    // The core converts the seed with Rust's saturating `as u64`; do the same.
    let x = seed <= 0 ? 0n : seed >= 2 ** 64 ? MASK64 : BigInt(seed);
    const next = (): bigint => {
      x = (x + 0x9e3779b97f4a7c15n) & MASK64;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      return z ^ (z >> 31n);
    };
    const a = next();
    const b = next();
    this.#s.set([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
    return this;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const rotl = (v: number, k: number): number => ((v << k) | (v >>> (32 - k))) >>> 0;
    const result = (rotl((s[0] + s[3]) >>> 0, 7) + s[0]) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform integer in [0, n) for 1 ≤ n ≤ 2³², without modulo bias. */
  below(n: number): number {
    // The 64-bit product u32 × n does not fit a double, hence BigInt.
    const big = BigInt(n);
    let m = BigInt(this.nextU32()) * big;
    let low = Number(m & 0xffffffffn);
    if (low < n) {
      const threshold = (2 ** 32 - n) % n;
      while (low < threshold) {
        m = BigInt(this.nextU32()) * big;
        low = Number(m & 0xffffffffn);
      }
    }
    return Number(m >> 32n);
  }

  /** A random permutation of 0..n-1. */
  randperm(n: number): number[] {
    if (!Number.isInteger(n) || n < 0) throw new FerrogradError('value', `Generator.randperm: n must be a non-negative integer, got ${n}`);
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i >= 1; i--) {
      const j = this.below(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }
}
