import { describe, expect, it } from 'vitest';
import { tensor, weightedSum, zeros, FerrogradError } from '../../ts/index.js';

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('weightedSum', () => {
  it('sums weighted terms into a tensor of the given shape', () => {
    const t = weightedSum([new Float32Array([1, 2, 3, 4]), new Float32Array([4, 8, 12, 16])], [0.5, 0.25], [2, 2]);
    expect(t.shape).toEqual([2, 2]);
    // 0.5·[1, 2, 3, 4] + 0.25·[4, 8, 12, 16]
    expect(t.toArray()).toEqual([[1.5, 3], [4.5, 6]]);
  });

  it('gives the bits of a scale and in-place adds in the same order, from shared memory where there is any', () => {
    const n = 1000;
    // Pages that are not cross-origin isolated have no SharedArrayBuffer.
    const Memory = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : ArrayBuffer;
    const terms = [0, 1, 2].map((k) => {
      const a = new Float32Array(new Memory(4 * n));
      for (let i = 0; i < n; i++) a[i] = Math.sin(1 + i * 0.37 + k) * 10 ** ((i % 13) - 6);
      return a;
    });
    const weights = [21 / 64, 22 / 64, 21 / 64];
    const expected = tensor(Float32Array.from(terms[0]), { shape: [10, 100] }).mul_(weights[0]);
    expected.add_(tensor(Float32Array.from(terms[1]), { shape: [10, 100] }), weights[1]);
    expected.add_(tensor(Float32Array.from(terms[2]), { shape: [10, 100] }), weights[2]);
    const got = weightedSum(terms, weights, [10, 100]);
    expect(bits(got.data() as Float32Array)).toEqual(bits(expected.data() as Float32Array));
  });

  it('takes a term of weight 1 as it is, and gives zeros without terms', () => {
    const a = new Float32Array([1e-45, -0, 3.4e38, 0.1]);
    expect(bits(weightedSum([a], [1], [4]).data() as Float32Array)).toEqual(bits(a));
    expect(weightedSum([], [], [2, 3]).toArray()).toEqual(zeros([2, 3]).toArray());
  });

  it('refuses mismatched terms clearly and stays usable', () => {
    const a = new Float32Array(6);
    expect(() => weightedSum([a, a], [0.5], [6])).toThrow(/weightedSum: 2 terms but 1 weights/);
    expect(() => weightedSum([a, new Float32Array(5)], [0.5, 0.5], [2, 3])).toThrow(/term 1 holds 5 values, but shape \[2, 3\] needs a Float32Array of 6/);
    // Reflect.apply: passes what the types forbid, to test the runtime check.
    expect(() => Reflect.apply(weightedSum, undefined, [[new Int32Array(6)], [1], [6]])).toThrow(FerrogradError);
    expect(() => weightedSum([a], [1], [2, -3])).toThrow(/weightedSum/);
    expect(weightedSum([new Float32Array([2])], [3], [1]).item()).toBe(6);
  });
});
