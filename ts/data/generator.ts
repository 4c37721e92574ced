// A standalone random generator for shuffling, like torch.Generator: same
// algorithms as the core's (splitmix64 seeding, xoshiro128++, Lemire's bounded
// integers, Fisher-Yates) but with its own state, so a DataLoader's order can be
// reproduced independently of the global seed.

const MASK64 = (1n << 64n) - 1n;

/**
 * @example
 * ```ts
 * const g = new data.Generator().manualSeed(42);
 * new data.DataLoader(ds, { shuffle: true, generator: g });
 * ```
 */
export class Generator {
  #s = new Uint32Array(4);

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    let x = BigInt.asUintN(64, BigInt(Math.trunc(seed)));
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

  /** Uniform integer in [0, n), n ≥ 1, without bias. */
  below(n: number): number {
    let m = BigInt(this.nextU32()) * BigInt(n);
    let low = Number(m & 0xffffffffn);
    if (low < n) {
      const threshold = (2 ** 32 - n) % n;
      while (low < threshold) {
        m = BigInt(this.nextU32()) * BigInt(n);
        low = Number(m & 0xffffffffn);
      }
    }
    return Number(m >> 32n);
  }

  /** A random permutation of 0..n-1 (the same one the core's randperm gives for the same seed). */
  randperm(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i >= 1; i--) {
      const j = this.below(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
