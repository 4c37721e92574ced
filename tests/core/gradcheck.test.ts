// Every differentiable op against central differences (see gradcheck-helper.ts), then
// the semantics of autograd itself: accumulation, retainGraph, detach, noGrad,
// explicit gradients, in-place rules and `.grad` handles.
import { describe, expect, it } from 'vitest';
import {
  tensor, fromArray, ones, cat, stack, where, noGrad, tidy, FerrogradError, F, type Tensor,
} from '../../ts/index.js';
import { gradcheck, rnd, distinct } from './gradcheck-helper.js';

/** One named check; each runs in its own tidy so that nothing leaks between cases. */
type Case = [name: string, run: () => void];

function cases(list: Case[]): void {
  for (const [name, run] of list) it(name, () => tidy(run));
}

const int = (data: number[], shape?: number[]): Tensor => fromArray(data, shape, { dtype: 'int32' });

describe('gradcheck: elementwise binary ops with broadcasting', () => {
  // Shape pairs that exercise every broadcasting pattern: equal, trailing, middle,
  // leading, 0-d and size-1 on either side.
  const pairs: [number[], number[]][] = [
    [[2, 3], [2, 3]],
    [[3, 1], [4]],
    [[4], [3, 1]],
    [[2, 1, 3], [3]],
    [[2, 1, 3], [4, 1]],
    [[], [2, 3]],
    [[2, 3], []],
    [[1], [3]],
  ];
  const name = (a: number[], b: number[]): string => `[${a.join(',')}] with [${b.join(',')}]`;
  const list: Case[] = [];
  for (const [sa, sb] of pairs) {
    list.push([`add ${name(sa, sb)}`, () => void gradcheck((a, b) => a.add(b), [rnd(sa), rnd(sb)])]);
    list.push([`sub ${name(sa, sb)}`, () => void gradcheck((a, b) => a.sub(b), [rnd(sa), rnd(sb)])]);
    list.push([`mul ${name(sa, sb)}`, () => void gradcheck((a, b) => a.mul(b), [rnd(sa), rnd(sb)])]);
    // Denominators kept away from 0, where 1/b² makes differences meaningless.
    list.push([`div ${name(sa, sb)}`, () => void gradcheck((a, b) => a.div(b), [rnd(sa), rnd(sb, -2, 2, [0], 0.5)])]);
    // Positive bases: a^b is only real (and its ∂/∂b = aᵇ ln a only defined) there.
    list.push([`pow (tensor exponent) ${name(sa, sb)}`, () => void gradcheck((a, b) => a.pow(b), [rnd(sa, 0.5, 2), rnd(sb, -1.5, 1.5)])]);
  }
  list.push(['add with alpha', () => void gradcheck((a, b) => a.add(b, 2.5), [rnd([2, 3]), rnd([3])])]);
  list.push(['sub with alpha', () => void gradcheck((a, b) => a.sub(b, -0.5), [rnd([2, 3]), rnd([2, 1])])]);
  list.push(['rsub with a number', () => void gradcheck((a) => a.rsub(3), [rnd([4])])]);
  list.push(['mul and div by numbers', () => void gradcheck((a) => a.mul(1.5).div(-0.75), [rnd([2, 2])])]);
  list.push(['same tensor on both sides (x·x, x/x)', () => void gradcheck((a) => a.mul(a).add(a.div(a.add(5))), [rnd([5], 0, 2)])]);
  cases(list);
});

describe('gradcheck: float32 with int32 operands (promotion)', () => {
  const k = (): Tensor => int([2, -1, 3], [3]);
  cases([
    ['add int32', () => void gradcheck((a) => a.add(k()), [rnd([2, 3])])],
    ['mul by int32', () => void gradcheck((a) => a.mul(k()), [rnd([2, 3])])],
    ['int32 divided by float', () => void gradcheck((a) => k().div(a), [rnd([2, 3], 0.5, 2)])],
    ['pow with an int32 exponent', () => void gradcheck((a) => a.pow(k()), [rnd([2, 3], 0.5, 2)])],
    ['where with an int32 other', () => void gradcheck((a) => where(int([1, 0, 1], [3]), a, k()), [rnd([2, 3])])],
    ['cat with an int32 tensor', () => void gradcheck((a) => cat([a, k().reshape(1, 3)], 0), [rnd([2, 3])])],
    ['matmul after .float()', () => void gradcheck((a) => k().float().matmul(a), [rnd([3, 2])])],
  ]);
});

describe('gradcheck: elementwise unary ops', () => {
  cases([
    ['pow with a scalar exponent 2.5', () => void gradcheck((x) => x.pow(2.5), [rnd([2, 3], 0.2, 2)])],
    ['pow with a scalar exponent -1.5', () => void gradcheck((x) => x.pow(-1.5), [rnd([5], 0.5, 2)])],
    ['pow with a scalar exponent 3 on negatives', () => void gradcheck((x) => x.pow(3), [rnd([5], -2, 2)])],
    ['pow with a scalar exponent 0', () => void gradcheck((x) => x.pow(0), [rnd([3], 0.5, 2)])],
    ['neg', () => void gradcheck((x) => x.neg(), [rnd([2, 3])])],
    ['exp', () => void gradcheck((x) => x.exp(), [rnd([2, 3])])],
    ['log', () => void gradcheck((x) => x.log(), [rnd([2, 3], 0.3, 3)])],
    ['sqrt', () => void gradcheck((x) => x.sqrt(), [rnd([2, 3], 0.3, 3)])],
    ['abs', () => void gradcheck((x) => x.abs(), [rnd([2, 4], -2, 2, [0])])],
    ['sigmoid', () => void gradcheck((x) => x.sigmoid(), [rnd([2, 3], -4, 4)])],
    ['tanh', () => void gradcheck((x) => x.tanh(), [rnd([2, 3])])],
    ['relu', () => void gradcheck((x) => x.relu(), [rnd([3, 4], -2, 2, [0])])],
    ['atan', () => void gradcheck((x) => x.atan(), [rnd([2, 3], -3, 3)])],
    ['sin', () => void gradcheck((x) => x.sin(), [rnd([2, 3], -3, 3)])],
    ['cos', () => void gradcheck((x) => x.cos(), [rnd([2, 3], -3, 3)])],
    ['clamp(min, max)', () => void gradcheck((x) => x.clamp(-0.5, 0.7), [rnd([3, 4], -1.5, 1.5, [-0.5, 0.7])])],
    ['clamp(min)', () => void gradcheck((x) => x.clamp(0.2), [rnd([8], -1, 1, [0.2])])],
    ['clamp(null, max)', () => void gradcheck((x) => x.clamp(null, -0.3), [rnd([8], -1, 1, [-0.3])])],
    ['leakyRelu (slope 0.1)', () => void gradcheck((x) => x.unary('leakyRelu', 0.1), [rnd([3, 4], -2, 2, [0])])],
    ['leakyRelu (slope -0.7)', () => void gradcheck((x) => x.unary('leakyRelu', -0.7), [rnd([6], -2, 2, [0])])],
    ['elu (alpha 1)', () => void gradcheck((x) => x.unary('elu', 1), [rnd([3, 4], -3, 2, [0])])],
    ['elu (alpha 0.4)', () => void gradcheck((x) => x.unary('elu', 0.4), [rnd([6], -3, 2, [0])])],
    ['softplus (beta 1, threshold 20)', () => void gradcheck((x) => x.unary('softplus', 1, 20), [rnd([3, 4], -4, 4)])],
    ['softplus (beta 2, threshold 20)', () => void gradcheck((x) => x.unary('softplus', 2, 20), [rnd([6], -3, 3)])],
    // With threshold 1 and beta 2 the function is linear above x = 0.5 (and jumps
    // there by design, as in PyTorch), so points stay clear of 0.5.
    ['softplus (beta 2, threshold 1) on both branches', () => void gradcheck((x) => x.unary('softplus', 2, 1), [rnd([8], -2, 2, [0.5], 0.1)])],
    ['gelu', () => void gradcheck((x) => x.unary('gelu'), [rnd([3, 4], -3, 3)])],
    ['a chain of unary ops', () => void gradcheck((x) => x.tanh().exp().mul(x.sigmoid()).sin(), [rnd([2, 3])])],
  ]);
});

describe('gradcheck: where and maskedFill', () => {
  cases([
    ['where with same shapes', () => {
      const cond = int([1, 0, 0, 1, 1, 0], [2, 3]);
      gradcheck((a, b) => where(cond, a, b), [rnd([2, 3]), rnd([2, 3])]);
    }],
    ['where with broadcast condition and inputs', () => {
      const cond = int([1, 0, 1], [3, 1]);
      gradcheck((a, b) => where(cond, a, b), [rnd([4]), rnd([3, 1])]);
    }],
    ['where with a number as other', () => {
      const cond = int([0, 1, 1, 0], [4]);
      gradcheck((a) => a.where(cond, 0.5), [rnd([2, 4])]);
    }],
    ['where with a float condition computed from the input', () => {
      gradcheck((a) => where(a.detach().gt(0), a, a.mul(0.1)), [rnd([3, 3], -2, 2, [0])]);
    }],
    ['maskedFill', () => {
      const mask = int([1, 0, 0, 1, 0, 1], [2, 3]);
      gradcheck((a) => a.maskedFill(mask, -1e9).softmax(1), [rnd([2, 3])]);
    }],
    ['maskedFill with a broadcast mask', () => {
      const mask = int([0, 1, 0], [3]);
      gradcheck((a) => a.maskedFill(mask, 2), [rnd([2, 3])]);
    }],
  ]);
});

describe('gradcheck: reductions', () => {
  cases([
    ['sum of all', () => void gradcheck((x) => x.sum(), [rnd([2, 3, 4])])],
    ['sum over one dim', () => void gradcheck((x) => x.sum(1), [rnd([2, 3, 4])])],
    ['sum over a negative dim with keepdim', () => void gradcheck((x) => x.sum(-1, true), [rnd([2, 3, 4])])],
    ['sum over several dims', () => void gradcheck((x) => x.sum([0, 2]), [rnd([2, 3, 4])])],
    ['sum over several dims with keepdim', () => void gradcheck((x) => x.sum([2, 0], true), [rnd([2, 3, 4])])],
    ['sum of a 0-d tensor', () => void gradcheck((x) => x.sum(), [rnd([])])],
    ['mean of all', () => void gradcheck((x) => x.mean(), [rnd([2, 3, 4])])],
    ['mean over one dim', () => void gradcheck((x) => x.mean(0), [rnd([2, 3, 4])])],
    ['mean over several dims with keepdim', () => void gradcheck((x) => x.mean([1, 2], true), [rnd([2, 3, 4])])],
    ['max of all', () => void gradcheck((x) => x.max(), [distinct([3, 4])])],
    ['min of all', () => void gradcheck((x) => x.min(), [distinct([3, 4])])],
    ['max over dim 1', () => void gradcheck((x) => x.max(1)[0], [distinct([3, 4])])],
    ['max over dim 0 with keepdim', () => void gradcheck((x) => x.max(0, true)[0], [distinct([3, 4])])],
    ['min over dim -1 of a 3-D tensor', () => void gradcheck((x) => x.min(-1)[0], [distinct([2, 3, 4])])],
    ['min over dim 1 of a 3-D tensor with keepdim', () => void gradcheck((x) => x.min(1, true)[0], [distinct([2, 3, 4])])],
    ['max over dim 0 of a 0-d tensor', () => void gradcheck((x) => x.max(0)[0], [rnd([])])],
    ['var of all (correction 1)', () => void gradcheck((x) => x.var(), [rnd([3, 4])])],
    ['var of all (correction 0)', () => void gradcheck((x) => x.var(undefined, { correction: 0 }), [rnd([3, 4])])],
    ['var over dim 1', () => void gradcheck((x) => x.var(1), [rnd([3, 4])])],
    ['var over dim 0, correction 0, keepdim', () => void gradcheck((x) => x.var(0, { correction: 0, keepdim: true }), [rnd([3, 4])])],
    ['var over several dims (unbiased: false)', () => void gradcheck((x) => x.var([0, 2], { unbiased: false }), [rnd([2, 3, 4])])],
    ['std of all', () => void gradcheck((x) => x.std(), [rnd([3, 4])])],
    ['std over dim 1, correction 0', () => void gradcheck((x) => x.std(1, { correction: 0 }), [rnd([3, 4])])],
    ['std over several dims with keepdim', () => void gradcheck((x) => x.std([0, 1], { keepdim: true }), [rnd([2, 3, 4])])],
  ]);
});

describe('gradcheck: softmax and logSoftmax', () => {
  const list: Case[] = [];
  for (const dim of [0, 1, 2, -1]) {
    list.push([`softmax over dim ${dim}`, () => void gradcheck((x) => x.softmax(dim), [rnd([2, 3, 4])])]);
    list.push([`logSoftmax over dim ${dim}`, () => void gradcheck((x) => x.logSoftmax(dim), [rnd([2, 3, 4])])]);
  }
  list.push(['softmax of a vector', () => void gradcheck((x) => x.softmax(0), [rnd([5], -3, 3)])]);
  list.push(['logSoftmax of large logits', () => void gradcheck((x) => x.add(100).logSoftmax(1), [rnd([2, 4])])]);
  cases(list);
});

describe('gradcheck: matmul', () => {
  cases([
    ['1-D · 1-D (dot)', () => void gradcheck((a, b) => a.matmul(b), [rnd([4]), rnd([4])])],
    ['2-D · 1-D', () => void gradcheck((a, b) => a.matmul(b), [rnd([3, 4]), rnd([4])])],
    ['1-D · 2-D', () => void gradcheck((a, b) => a.matmul(b), [rnd([3]), rnd([3, 5])])],
    ['2-D · 2-D', () => void gradcheck((a, b) => a.matmul(b), [rnd([3, 4]), rnd([4, 2])])],
    ['mm', () => void gradcheck((a, b) => a.mm(b), [rnd([2, 3]), rnd([3, 3])])],
    ['batched · batched', () => void gradcheck((a, b) => a.matmul(b), [rnd([2, 3, 4]), rnd([2, 4, 2])])],
    ['batched · 2-D (broadcast batch)', () => void gradcheck((a, b) => a.matmul(b), [rnd([2, 3, 4]), rnd([4, 2])])],
    ['2-D · batched (broadcast batch)', () => void gradcheck((a, b) => a.matmul(b), [rnd([3, 4]), rnd([2, 4, 2])])],
    ['broadcast batch dims [2,1] with [3]', () => void gradcheck((a, b) => a.matmul(b), [rnd([2, 1, 2, 3]), rnd([3, 3, 2])])],
    ['batched · 1-D', () => void gradcheck((a, b) => a.matmul(b), [rnd([2, 3, 4]), rnd([4])])],
    ['1-D · batched', () => void gradcheck((a, b) => a.matmul(b), [rnd([3]), rnd([2, 3, 4])])],
    ['x · x (same input twice)', () => void gradcheck((a) => a.matmul(a), [rnd([3, 3])])],
    ['a larger product', () => void gradcheck((a, b) => a.matmul(b), [rnd([5, 17], -1, 1), rnd([17, 9], -1, 1)])],
  ]);
});

describe('gradcheck: shape ops', () => {
  cases([
    ['reshape', () => void gradcheck((x) => x.reshape(3, 4), [rnd([2, 6])])],
    ['reshape with -1', () => void gradcheck((x) => x.reshape([-1, 2]).mul(x.reshape([6, 2])), [rnd([2, 3, 2])])],
    ['view', () => void gradcheck((x) => x.view([4, 3]), [rnd([12])])],
    ['flatten all', () => void gradcheck((x) => x.flatten(), [rnd([2, 3, 2])])],
    ['flatten(1)', () => void gradcheck((x) => x.flatten(1), [rnd([2, 3, 2])])],
    ['flatten of a 0-d tensor', () => void gradcheck((x) => x.flatten(), [rnd([])])],
    ['squeeze all', () => void gradcheck((x) => x.squeeze(), [rnd([1, 3, 1, 2])])],
    ['squeeze(dim)', () => void gradcheck((x) => x.squeeze(2), [rnd([1, 3, 1, 2])])],
    ['unsqueeze', () => {
      const w = rnd([3, 1]);
      gradcheck((x) => x.unsqueeze(1).mul(w), [rnd([2, 3])]);
    }],
    ['unsqueeze(-1)', () => void gradcheck((x) => x.unsqueeze(-1), [rnd([2, 3])])],
    ['transpose', () => void gradcheck((x) => x.transpose(0, 2), [rnd([2, 3, 4])])],
    ['transpose of a matrix (t and T)', () => void gradcheck((x) => x.t().mul(x.T), [rnd([3, 3])])],
    ['transpose of a vector', () => void gradcheck((x) => x.transpose(0, -1), [rnd([3])])],
    ['permute', () => void gradcheck((x) => x.permute(2, 0, 1), [rnd([2, 3, 4])])],
    ['permute with negative dims', () => void gradcheck((x) => x.permute([-1, -3, -2]), [rnd([2, 3, 4])])],
    ['expand a size-1 dim', () => void gradcheck((x) => x.expand(3, 4), [rnd([3, 1])])],
    ['expand with new leading dims and -1', () => void gradcheck((x) => x.expand([2, 3, -1]), [rnd([1, 4])])],
    ['expandAs', () => void gradcheck((x) => x.expandAs(ones([2, 3])), [rnd([3])])],
    ['cat along dim 0', () => void gradcheck((a, b) => cat([a, b], 0), [rnd([2, 3]), rnd([1, 3])])],
    ['cat along dim 1 of three inputs', () => void gradcheck((a, b, c) => cat([a, b, c], 1), [rnd([2, 1]), rnd([2, 3]), rnd([2, 2])])],
    ['cat of one tensor twice', () => void gradcheck((a) => cat([a, a], -1), [rnd([2, 2])])],
    ['stack along dim 0', () => void gradcheck((a, b) => stack([a, b]), [rnd([2, 3]), rnd([2, 3])])],
    ['stack along the last dim', () => void gradcheck((a, b) => stack([a, b], 2), [rnd([2, 3]), rnd([2, 3])])],
    ['stack of 0-d tensors', () => void gradcheck((a, b) => stack([a, b, a]), [rnd([]), rnd([])])],
    ['narrow', () => void gradcheck((x) => x.narrow(1, 1, 2), [rnd([3, 4])])],
    ['narrow with a negative start', () => void gradcheck((x) => x.narrow(0, -2, 2), [rnd([3, 4])])],
    ['slice', () => void gradcheck((x) => x.slice(1, 1, 3), [rnd([2, 4, 2])])],
    ['slice with negative bounds', () => void gradcheck((x) => x.slice(-1, -3, -1), [rnd([2, 4])])],
    ['select', () => void gradcheck((x) => x.select(1, 2), [rnd([2, 3, 4])])],
    ['select with a negative index', () => void gradcheck((x) => x.select(0, -1), [rnd([3, 2])])],
    ['indexSelect along dim 0 with repeats', () => {
      const idx = int([2, 0, 2, 2]);
      gradcheck((x) => x.indexSelect(0, idx), [rnd([3, 2])]);
    }],
    ['indexSelect along dim 1', () => {
      const idx = int([1, 3]);
      gradcheck((x) => x.indexSelect(1, idx), [rnd([2, 4, 2])]);
    }],
    ['indexSelect on a 0-d tensor', () => {
      const idx = int([0]);
      gradcheck((x) => x.indexSelect(0, idx), [rnd([])]);
    }],
    ['gather along dim 1 with repeats', () => {
      const idx = int([0, 0, 2, 1, 1, 1], [2, 3]);
      gradcheck((x) => x.gather(1, idx), [rnd([2, 3])]);
    }],
    ['gather along dim 0 with a smaller index', () => {
      const idx = int([2, 0, 1, 1], [2, 2]);
      gradcheck((x) => x.gather(0, idx), [rnd([3, 3])]);
    }],
    ['gather along the last dim of a 3-D tensor', () => {
      const idx = int([3, 0, 1, 2, 0, 0], [2, 1, 3]);
      gradcheck((x) => x.gather(-1, idx), [rnd([2, 2, 4])]);
    }],
  ]);
});

describe('gradcheck: composite graphs', () => {
  cases([
    ['a two-layer network with cross-entropy', () => {
      const target = int([2, 0, 1], [3, 1]);
      gradcheck(
        (x, w1, b1, w2) => x.matmul(w1).add(b1).relu().matmul(w2).logSoftmax(1).gather(1, target).mean().neg(),
        [rnd([3, 4]), rnd([4, 5], -1, 1), rnd([5], 0.5, 1), rnd([5, 3], -1, 1)],
      );
    }],
    ['layer norm from primitives', () => {
      gradcheck((x) => x.sub(x.mean(-1, true)).div(x.var(-1, { correction: 0, keepdim: true }).add(1e-5).sqrt()), [rnd([2, 5])]);
    }],
    ['a tensor feeding many branches', () => {
      gradcheck((x) => cat([x.exp(), x.mul(x), x.sum(0, true)], 0).sum(1), [rnd([2, 3], -1, 1)]);
    }],
  ]);
});

describe('autograd semantics', () => {
  it('matmul and linear give an operand that needs no gradient none, and the other the same one', () => tidy(() => {
    // The backward passes skip the GEMM of a gradient nobody reads (a first layer's input).
    const xv = [[1, 2, 3], [4, 5, 6]], wv = [[1, 0, -1], [0.5, 0.5, 0.5]], bv = [10, 20];
    const gv = [[1, -2], [3, 0.5]];
    for (const op of ['matmul', 'linear'] as const) {
      const run = (xGrad: boolean) => {
        const x = tensor(xv, { dtype: 'float32', requiresGrad: xGrad });
        const w = tensor(wv, { dtype: 'float32', requiresGrad: true });
        const b = tensor(bv, { dtype: 'float32', requiresGrad: true });
        const y = op === 'matmul' ? x.matmul(w.t()) : F.linear(x, w, b);
        y.backward(tensor(gv, { dtype: 'float32' }));
        return { x: x.grad?.toArray() ?? null, w: w.grad?.toArray() ?? null };
      };
      const both = run(true), onlyW = run(false);
      expect(onlyW.x, op).toBeNull();
      expect(onlyW.w, op).toEqual(both.w);
      // By hand: dW = gᵀ·x, dx = g·W.
      expect(both.w, op).toEqual([[1 * 1 + 3 * 4, 1 * 2 + 3 * 5, 1 * 3 + 3 * 6], [-2 * 1 + 0.5 * 4, -2 * 2 + 0.5 * 5, -2 * 3 + 0.5 * 6]]);
      expect(both.x, op).toEqual([[1 - 1, 1 * 0 - 1, -1 - 1], [3 + 0.25, 0.25, -3 + 0.25]]);
    }
  }));

  it('accumulates gradients over two backward calls', () => tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad?.toArray()).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(x.grad?.toArray()).toEqual([5, 7, 9]);
  }));

  it('needs retainGraph to run backward through the same graph twice', () => tidy(() => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const y = x.exp().sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    const g = x.grad?.data() ?? new Float32Array(2);
    expect(g[0]).toBeCloseTo(2 * Math.E, 5);
    expect(g[1]).toBeCloseTo(2 * Math.exp(2), 5);
    const z = x.mul(x).sum();
    z.backward();
    let caught: unknown;
    try {
      z.backward();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FerrogradError);
    expect(String(caught instanceof Error ? caught.message : '')).toMatch(/retainGraph/);
  }));

  it('detach stops gradients', () => tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    x.mul(d).sum().backward();
    // Only the non-detached factor contributes: d(x·c)/dx = c.
    expect(x.grad?.toArray()).toEqual([1, 2, 3]);
  }));

  it('records nothing under noGrad', () => tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const y = noGrad(() => x.mul(2).exp().sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.backward()).toThrow(FerrogradError);
    const z = x.mul(2);
    expect(z.requiresGrad).toBe(true);
    expect(z.gradFn).toBe('MulBackward');
  }));

  it('refuses an implicit gradient for a non-scalar', () => tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(FerrogradError);
    expect(() => y.backward()).toThrow(/backward: grad can be implicitly created only for scalar outputs/);
    expect(x.grad).toBeNull();
  }));

  it('backpropagates an explicit gradient tensor', () => tidy(() => {
    const x = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x);
    y.backward(tensor([[1, 0.5], [-1, 2]]));
    expect(x.grad?.toArray()).toEqual([[2, 2], [-6, 16]]);
    expect(() => x.mul(2).backward(ones([3]))).toThrow(/backward: gradient has shape \[3\] but the tensor has shape \[2, 2\]/);
  }));

  it('refuses in-place updates of a leaf that requires grad outside noGrad', () => tidy(() => {
    const p = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    expect(() => p.sub_(tensor([0.5, 0.5]))).toThrow(FerrogradError);
    expect(() => p.sub_(0.5)).toThrow(/noGrad/);
    expect(p.toArray()).toEqual([1, 2]);
    noGrad(() => {
      p.sub_(tensor([0.5, 1]));
      p.sub_(1, 0.5);
    });
    expect(p.toArray()).toEqual([0, 0.5]);
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
  }));

  it('updates the gradient through p.grad.mul_ and clears it with p.grad = null', () => tidy(() => {
    const p = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    p.mul(p).sum().backward();
    const g = p.grad;
    expect(g).not.toBeNull();
    g?.mul_(0.5);
    expect(p.grad?.toArray()).toEqual([1, 2, 3]);
    // The next backward accumulates onto the scaled gradient.
    p.sum().backward();
    expect(p.grad?.toArray()).toEqual([2, 3, 4]);
    p.grad = null;
    // Read through a function: TypeScript would narrow p.grad to null after the assignment.
    const gradOf = (t: Tensor): Tensor | null => t.grad;
    expect(gradOf(p)).toBeNull();
    p.sum().backward();
    expect(gradOf(p)?.toArray()).toEqual([1, 1, 1]);
  }));

  it('zeroes a gradient in place (as optimizers do)', () => tidy(() => {
    const p = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    p.mul(3).sum().backward();
    p.grad?.zero_();
    expect(p.grad?.toArray()).toEqual([0, 0]);
  }));

  it('accumulates both paths of a diamond graph', () => tidy(() => {
    const x = tensor([0.5, -1, 2], { dtype: 'float32', requiresGrad: true });
    const a = x.mul(3);
    const b = x.exp();
    a.mul(b).sum().backward();
    // d/dx (3x·eˣ) = 3eˣ + 3x·eˣ
    const want = [0.5, -1, 2].map((v) => 3 * Math.exp(v) * (1 + v));
    const got = x.grad?.toArray();
    expect(Array.isArray(got)).toBe(true);
    if (Array.isArray(got)) got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    // x used twice by the same op, and a node used by two consumers.
    const y = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const s = y.mul(2);
    s.add(s).mul(y).sum().backward();
    // d/dy (4y·y) = 8y
    expect(y.grad?.toArray()).toEqual([8, 16]);
  }));

  it('gives no grad to leaves that do not require it', () => tidy(() => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const c = tensor([3, 4], { dtype: 'float32' });
    x.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expect(x.grad?.toArray()).toEqual([3, 4]);
  }));

  it('backward on a leaf seeds its own gradient', () => tidy(() => {
    const x = tensor(2.5, { requiresGrad: true });
    x.backward();
    expect(x.grad?.item()).toBe(1);
  }));
});
