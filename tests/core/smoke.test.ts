import { describe, expect, it } from 'vitest';
import { tensor, FerrogradError } from '../../ts/index.js';

describe('tensor basics', () => {
  it('adds with broadcasting and backpropagates', () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    const b = tensor([10, 20], { dtype: 'float32' });
    const y = a.add(b).mul(a).sum();
    expect(y.item()).toBe(11 + 44 + 39 + 96);
    y.backward();
    // d/da of (a + b)·a = 2a + b
    expect(a.grad?.toArray()).toEqual([[12, 24], [16, 28]]);
  });

  it('throws a FerrogradError naming the op and shapes', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
    expect(() => a.matmul(a)).toThrow(FerrogradError);
    expect(() => a.matmul(a)).toThrow('matmul: cannot multiply [2, 3] by [2, 3]: inner dimensions 3 and 2 differ');
  });

  it('data(out) writes into a given array, a view of a larger one included, and refuses a wrong one clearly', () => {
    const x = tensor([[1.5, -2], [3, 4]], { dtype: 'float32' });
    const big = new Float32Array(8).fill(9);
    const view = big.subarray(2, 6);
    expect(x.data(view)).toBe(view);
    expect([...big]).toEqual([9, 9, 1.5, -2, 3, 4, 9, 9]);
    const ints = tensor([5, -6], { dtype: 'int32' });
    expect([...ints.data(new Int32Array(2))]).toEqual([5, -6]);
    expect(() => x.data(new Float32Array(3))).toThrow('data: out must be a Float32Array of 4 elements for a float32 tensor of shape [2, 2], got a Float32Array of 3');
    expect(() => x.data(new Int32Array(4))).toThrow('data: out must be a Float32Array of 4 elements for a float32 tensor of shape [2, 2], got an Int32Array of 4');
    expect(() => ints.data(new Float32Array(2))).toThrow(FerrogradError);
    expect([...x.data()]).toEqual([1.5, -2, 3, 4]);
  });
});
