import { describe, expect, it } from 'vitest';
import { tensor, randn, tidy, keep, noGrad, memory, FerrogradError, type Tensor } from '../../ts/index.js';

describe('scopes', () => {
  it('frees what a tidy creates, except what it returns', () => {
    const before = memory().tensors;
    let inner: Tensor | undefined;
    const out = tidy(() => {
      inner = randn([10, 10]);
      return inner.mul(2).sum(1);
    });
    expect(memory().tensors).toBe(before + 1);
    expect(out.shape).toEqual([10]);
    expect(inner?.isDisposed).toBe(true);
    out.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('keeps returned tensors inside arrays and objects, and kept ones', () => {
    const before = memory().tensors;
    let kept: Tensor | undefined;
    const { a, rest } = tidy(() => {
      kept = keep(randn([3]));
      randn([3]);
      return { a: randn([2]), rest: [randn([1]), 5] as const };
    });
    expect(memory().tensors).toBe(before + 3);
    for (const t of [a, rest[0], kept]) t?.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('hands survivors of a nested scope to the parent scope', () => {
    const before = memory().tensors;
    let mid: Tensor | undefined;
    tidy(() => {
      mid = tidy(() => randn([4]).add(1));
      expect(mid.isDisposed).toBe(false);
    });
    expect(mid?.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('frees the scope when the function throws', () => {
    const before = memory().tensors;
    expect(() =>
      tidy(() => {
        randn([5]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(before);
  });

  it('rejects async functions with a clear error', () => {
    expect(() => tidy(async () => 1)).toThrow(/Promise/);
  });

  it('noGrad opens a scope and records no graph', () => {
    const w = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const before = memory().tensors;
    const r = noGrad(() => w.mul(3));
    expect(r.requiresGrad).toBe(false);
    expect(memory().tensors).toBe(before + 1);
    r.dispose();
    w.dispose();
  });

  it('says where a freed tensor was freed and how to keep it', () => {
    let t: Tensor | undefined;
    tidy(() => {
      t = randn([2, 2]);
    });
    const read = (): unknown => t?.toArray();
    expect(read).toThrow(FerrogradError);
    expect(read).toThrow(/freed at the end of tidy\(\).*keep\(tensor\)/);
    const u = randn([1]);
    u.dispose();
    expect(() => u.item()).toThrow(/freed by dispose\(\)/);
  });

  it('supports Symbol.dispose', () => {
    const before = memory().tensors;
    {
      const t = randn([3]);
      t[Symbol.dispose]();
    }
    expect(memory().tensors).toBe(before);
  });
});
