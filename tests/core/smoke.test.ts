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
});
