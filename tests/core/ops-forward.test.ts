// Forward values of every op against PyTorch 1.13, plus one composite expression
// checked for its value and all input gradients. The expected values come from
// tests/fixtures/make_fixtures.py (run it with /usr/bin/python3 to regenerate); the
// calls live here, keyed by the same case names, so each case reads as one line.

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/ops.json' with { type: 'json' };
import {
  Tensor, tensor, where, arange, linspace, eye, zeros, ones, full, cat, stack, tidy, type DType,
} from '../../ts/index.js';

interface Encoded {
  shape: number[];
  dtype: string;
  values: number[];
}
interface Case {
  name: string;
  inputs: Encoded[];
  outputs: Encoded[];
}
interface Composite {
  inputs: { x: Encoded; W: Encoded; b: Encoded };
  value: Encoded;
  grads: { x: Encoded; W: Encoded; b: Encoded };
}
interface Fixtures {
  torch: string;
  cases: Case[];
  composite: Composite;
}

const data: Fixtures = fixtures;

type OpFn = (...inputs: Tensor[]) => Tensor | Tensor[];

function toDType(d: string): DType {
  if (d !== 'float32' && d !== 'int32') throw new Error(`fixture has unknown dtype ${d}`);
  return d;
}

function build(e: Encoded, requiresGrad = false): Tensor {
  return tensor(e.values, { shape: e.shape, dtype: toDType(e.dtype), requiresGrad });
}

/** |got − want| ≤ rtol·max(1, |want|), or ≤ rtol·max(1, max|want|) with `byMagnitude`. */
function expectClose(actual: Tensor, expected: Encoded, label: string, rtol = 1e-5, byMagnitude = false): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  const got = Array.from(actual.data());
  const want = expected.values;
  expect(got.length, `${label}: element count`).toBe(want.length);
  const magnitude = Math.max(1, ...want.map(Math.abs));
  const bad: string[] = [];
  want.forEach((w, i) => {
    const g = got[i];
    const ok = expected.dtype === 'int32' ? g === w : Math.abs(g - w) <= rtol * (byMagnitude ? magnitude : Math.max(1, Math.abs(w)));
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${g}, want ${w}`);
  });
  expect(bad, `${label}: mismatches`).toEqual([]);
}

const cmp = (name: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'): Record<string, OpFn> => ({
  [`${name} [3,4] vs [3,4]`]: (a, b) => a[name](b),
  [`${name} [3,1] vs [4]`]: (a, b) => a[name](b),
  [`${name} scalar 0.5`]: (a) => a[name](0.5),
});

// The ferrograd call for each fixture case, by the name make_fixtures.py gave it.
const OPS: Record<string, OpFn> = {
  // creation
  'arange(5)': () => arange(5),
  'arange(2, 11, 3)': () => arange(2, 11, 3),
  'arange(5, 0, -2)': () => arange(5, 0, -2),
  'arange(0, 1, 0.1)': () => arange(0, 1, 0.1),
  'arange(1, 2.5, 0.5)': () => arange(1, 2.5, 0.5),
  'arange(-1.5, 1.2, 0.3)': () => arange(-1.5, 1.2, 0.3),
  'arange(3, -1, -0.75)': () => arange(3, -1, -0.75),
  'arange(4) float32': () => arange(0, 4, 1, { dtype: 'float32' }),
  'linspace(0, 1, 5)': () => linspace(0, 1, 5),
  'linspace(-2, 3, 7)': () => linspace(-2, 3, 7),
  'linspace(3, -1, 4)': () => linspace(3, -1, 4),
  'linspace(2, 5, 1)': () => linspace(2, 5, 1),
  'eye(3)': () => eye(3),
  'eye(2, 4)': () => eye(2, 4),
  'eye(4, 2)': () => eye(4, 2),
  'eye(3) int32': () => eye(3, 3, { dtype: 'int32' }),
  'zeros([2, 3])': () => zeros([2, 3]),
  'zeros([2, 2]) int32': () => zeros([2, 2], { dtype: 'int32' }),
  'ones([3])': () => ones([3]),
  'ones([2, 1, 3])': () => ones([2, 1, 3]),
  'full([2, 2], 3.5)': () => full([2, 2], 3.5),
  'full([], -2.25)': () => full([], -2.25),
  'full([2, 3], 7) int32': () => full([2, 3], 7, { dtype: 'int32' }),

  // elementwise arithmetic
  'add [3,4]+[3,4]': (a, b) => a.add(b),
  'add [3,1]+[4]': (a, b) => a.add(b),
  'add [2,1,4]+[3,1]': (a, b) => a.add(b),
  'add [2,3,4]+[] 0-d': (a, b) => a.add(b),
  'add scalar 2.5': (a) => a.add(2.5),
  'add alpha 2': (a, b) => a.add(b, 2),
  'add int32+int32': (a, b) => a.add(b),
  'add int32+float32': (a, b) => a.add(b),
  'add int32+scalar 3': (a) => a.add(3),
  'add int32+scalar 0.5': (a) => a.add(0.5),
  'sub [3,4]-[3,4]': (a, b) => a.sub(b),
  'sub [3,1]-[4]': (a, b) => a.sub(b),
  'sub [2,1,4]-[3,1]': (a, b) => a.sub(b),
  'sub scalar 1.5': (a) => a.sub(1.5),
  'sub alpha 0.5': (a, b) => a.sub(b, 0.5),
  'sub int32-int32': (a, b) => a.sub(b),
  'rsub scalar 1': (a) => a.rsub(1),
  'mul [3,4]*[3,4]': (a, b) => a.mul(b),
  'mul [3,1]*[4]': (a, b) => a.mul(b),
  'mul [2,1,4]*[3,1]': (a, b) => a.mul(b),
  'mul scalar -3': (a) => a.mul(-3),
  'mul int32*int32': (a, b) => a.mul(b),
  'mul int32*scalar 1.5': (a) => a.mul(1.5),
  'div [3,4]/[3,4]': (a, b) => a.div(b),
  'div [3,1]/[4]': (a, b) => a.div(b),
  'div [2,1,4]/[3,1]': (a, b) => a.div(b),
  'div scalar 4': (a) => a.div(4),
  'div int32/int32 is true division': (a, b) => a.div(b),
  'div int32/scalar 2': (a) => a.div(2),
  'neg float32': (a) => a.neg(),
  'neg int32': (a) => a.neg(),
  'pow tensor exponent': (a, b) => a.pow(b),
  'pow broadcast [3,4]^[4]': (a, b) => a.pow(b),
  'pow scalar 2': (a) => a.pow(2),
  'pow scalar 3 negative base': (a) => a.pow(3),
  'pow scalar 0.5': (a) => a.pow(0.5),
  'pow scalar -1.5': (a) => a.pow(-1.5),
  'pow scalar 0': (a) => a.pow(0),
  'pow int32 scalar 2': (a) => a.pow(2),
  'pow int32^int32': (a, b) => a.pow(b),

  // elementwise functions
  exp: (a) => a.exp(),
  'exp large and small': (a) => a.exp(),
  log: (a) => a.log(),
  'log wide range': (a) => a.log(),
  sqrt: (a) => a.sqrt(),
  'abs float32': (a) => a.abs(),
  'abs int32': (a) => a.abs(),
  'sign float32 with zeros': (a) => a.sign(),
  'sign int32': (a) => a.sign(),
  'clamp min only': (a) => a.clamp(-0.5),
  'clamp max only': (a) => a.clamp(null, 0.25),
  'clamp min and max': (a) => a.clamp(-0.3, 0.6),
  'clamp int32': (a) => a.clamp(-2, 5),
  atan: (a) => a.atan(),
  'atan large': (a) => a.atan(),
  sin: (a) => a.sin(),
  cos: (a) => a.cos(),
  'sin and cos of wider inputs': (a) => [a.sin(), a.cos()],

  // comparisons
  ...cmp('eq'),
  ...cmp('ne'),
  ...cmp('lt'),
  ...cmp('le'),
  ...cmp('gt'),
  ...cmp('ge'),
  'eq int32': (a, b) => a.eq(b),
  'lt int32': (a, b) => a.lt(b),
  'ge int32 vs scalar 1': (a) => a.ge(1),
  'gt int32 vs scalar 0.5': (a) => a.gt(0.5),

  // where / maskedFill
  'where same shapes': (c, a, b) => where(c, a, b),
  'where broadcast cond [3,1] x [3,4] y [4]': (c, a, b) => where(c, a, b),
  'where scalar other 0': (c, a) => a.where(c, 0),
  'where scalar x 2.5': (c, b) => where(c, 2.5, b),
  'where int32': (c, a, b) => where(c, a, b),
  'maskedFill same shape': (a, m) => a.maskedFill(m, -7.5),
  'maskedFill broadcast mask [4]': (a, m) => a.maskedFill(m, 0),
  'maskedFill broadcast mask [2,1,4]': (a, m) => a.maskedFill(m, -1e9),
  'maskedFill int32': (a, m) => a.maskedFill(m, 42),

  // reductions
  'sum all': (a) => a.sum(),
  'sum dim 1': (a) => a.sum(1),
  'sum dim -1 keepdim': (a) => a.sum(-1, true),
  'sum dims [0, 2]': (a) => a.sum([0, 2]),
  'sum dims [-1, 0] keepdim': (a) => a.sum([-1, 0], true),
  'sum int32 all': (a) => a.sum(),
  'sum int32 dim 0': (a) => a.sum(0),
  'mean all': (a) => a.mean(),
  'mean dim 0': (a) => a.mean(0),
  'mean dim -2 keepdim': (a) => a.mean(-2, true),
  'mean dims [0, 2]': (a) => a.mean([0, 2]),
  'max all': (a) => a.max(),
  'max dim 1': (a) => a.max(1),
  'max dim -1 keepdim': (a) => a.max(-1, true),
  'max dim 0 of 3-D': (a) => a.max(0),
  'max int32 dim 1': (a) => a.max(1),
  'max int32 all': (a) => a.max(),
  'min all': (a) => a.min(),
  'min dim 0': (a) => a.min(0),
  'min dim -2 keepdim': (a) => a.min(-2, true),
  'min int32 dim -1': (a) => a.min(-1),
  'argmax all': (a) => a.argmax(),
  'argmax dim 1': (a) => a.argmax(1),
  'argmax dim -1 keepdim': (a) => a.argmax(-1, true),
  'argmax int32 dim 0': (a) => a.argmax(0),
  'argmin all': (a) => a.argmin(),
  'argmin dim 0': (a) => a.argmin(0),
  'argmin dim -2 keepdim': (a) => a.argmin(-2, true),
  'var all': (a) => a.var(),
  'var dim 1': (a) => a.var(1),
  'var all unbiased=False': (a) => a.var(undefined, { unbiased: false }),
  'var dim -1 unbiased=False keepdim': (a) => a.var(-1, { unbiased: false, keepdim: true }),
  'var dims [0, 2]': (a) => a.var([0, 2]),
  'var correction 2': (a) => a.var(1, { correction: 2 }),
  'std all': (a) => a.std(),
  'std dim 0': (a) => a.std(0),
  'std all unbiased=False': (a) => a.std(undefined, { unbiased: false }),
  'std dims [0, -1] keepdim': (a) => a.std([0, -1], { keepdim: true }),
  'var of offset data': (a) => a.var(1),

  // matmul
  'matmul 1-D . 1-D': (a, b) => a.matmul(b),
  'matmul 2-D . 1-D': (a, b) => a.matmul(b),
  'matmul 1-D . 2-D': (a, b) => a.matmul(b),
  'matmul 2-D . 2-D': (a, b) => a.matmul(b),
  'matmul 3-D . 3-D batched': (a, b) => a.matmul(b),
  'matmul 3-D . 2-D broadcast': (a, b) => a.matmul(b),
  'matmul 2-D . 3-D broadcast': (a, b) => a.matmul(b),
  'matmul 3-D . 1-D': (a, b) => a.matmul(b),
  'matmul 1-D . 3-D': (a, b) => a.matmul(b),
  'matmul [2,1,3,4] . [5,4,2]': (a, b) => a.matmul(b),
  'matmul [1,1] . [1,1]': (a, b) => a.matmul(b),
  'matmul 65x130 . 130x67': (a, b) => a.matmul(b),
  'matmul 17x33 . 33x9': (a, b) => a.matmul(b),
  'matmul [3,9,70] . [70,5]': (a, b) => a.matmul(b),
  'matmul 1x129 . 129x1': (a, b) => a.matmul(b),
  'matmul 33x1 . 1x35': (a, b) => a.matmul(b),
  'matmul transposed operand': (a, b) => a.t().matmul(b),
  'matmul of permuted batch': (a, b) => a.permute(1, 0, 2).matmul(b),

  // shape ops
  'reshape [3,4] -> [2,6]': (a) => a.reshape(2, 6),
  'reshape with -1': (a) => a.reshape(4, -1),
  'reshape to 0-d': (a) => a.reshape([]),
  'view [2,3,4] -> [6,4]': (a) => a.view(6, 4),
  'flatten all': (a) => a.flatten(),
  'flatten from 1': (a) => a.flatten(1),
  'flatten 0..1': (a) => a.flatten(0, 1),
  'flatten -2..-1': (a) => a.flatten(-2, -1),
  'squeeze all': (a) => a.squeeze(),
  'squeeze dim 2': (a) => a.squeeze(2),
  'squeeze dim -4': (a) => a.squeeze(-4),
  'squeeze non-1 dim is a no-op': (a) => a.squeeze(1),
  'unsqueeze 0': (a) => a.unsqueeze(0),
  'unsqueeze 1': (a) => a.unsqueeze(1),
  'unsqueeze -1': (a) => a.unsqueeze(-1),
  'transpose 0 1': (a) => a.transpose(0, 1),
  'transpose -1 -3': (a) => a.transpose(-1, -3),
  'transpose int32': (a) => a.transpose(0, 1),
  'permute [2, 0, 1]': (a) => a.permute(2, 0, 1),
  'permute [1, 2, 0]': (a) => a.permute([1, 2, 0]),
  'expand [3,1] -> [3,4]': (a) => a.expand(3, 4),
  'expand [4] -> [2,3,4]': (a) => a.expand([2, 3, 4]),
  'expand with -1': (a) => a.expand(-1, 5),
  'expand int32': (a) => a.expand(2, 3),
  'cat dim 0': (a, b, c) => cat([a, b, c], 0),
  'cat dim -1': (a, b) => cat([a, b], -1),
  'cat dim 1 of 3-D': (a, b) => cat([a, b], 1),
  'cat int32': (a, b) => cat([a, b]),
  'stack dim 0': (a, b) => stack([a, b], 0),
  'stack dim 1': (a, b, c) => stack([a, b, c], 1),
  'stack dim -1': (a, b) => stack([a, b], -1),
  'narrow dim 1': (a) => a.narrow(1, 1, 2),
  'narrow dim -1 of 3-D': (a) => a.narrow(-1, 2, 2),
  'narrow dim 0': (a) => a.narrow(0, 1, 1),
  'select dim 0': (a) => a.select(0, 1),
  'select dim 1': (a) => a.select(1, 2),
  'select dim -1 index -1': (a) => a.select(-1, -1),
  'indexSelect dim 0': (a, i) => a.indexSelect(0, i),
  'indexSelect dim 1': (a, i) => a.indexSelect(1, i),
  'indexSelect dim -1 of 3-D': (a, i) => a.indexSelect(-1, i),
  'gather dim 1': (a, i) => a.gather(1, i),
  'gather dim 0': (a, i) => a.gather(0, i),
  'gather dim -1 of 3-D': (a, i) => a.gather(-1, i),
  'gather int32': (a, i) => a.gather(1, i),

  // ops on non-contiguous layouts
  'transpose then add': (a, b) => a.t().add(b),
  'transpose then sum dim 0': (a) => a.t().sum(0),
  'permute then reshape': (a) => a.permute(2, 0, 1).reshape(4, 6),
  'expand then mul': (a, b) => a.expand(3, 4).mul(b),
  'narrow then exp': (a) => a.narrow(1, 1, 2).exp(),
  'select then softmax': (a) => a.select(1, 0).softmax(-1),
  'transpose then max dim 1': (a) => a.t().max(1),

  // activations
  relu: (a) => a.relu(),
  sigmoid: (a) => a.sigmoid(),
  'sigmoid large magnitude': (a) => a.sigmoid(),
  tanh: (a) => a.tanh(),
  'tanh large magnitude': (a) => a.tanh(),
  'softmax dim 1': (a) => a.softmax(1),
  'softmax dim 0': (a) => a.softmax(0),
  'softmax dim -1 of 3-D': (a) => a.softmax(-1),
  'softmax dim 1 of 3-D': (a) => a.softmax(1),
  'softmax large magnitude': (a) => a.softmax(-1),
  'softmax large magnitude dim 0': (a) => a.softmax(0),
  'logSoftmax dim 1': (a) => a.logSoftmax(1),
  'logSoftmax dim 0': (a) => a.logSoftmax(0),
  'logSoftmax dim -2 of 3-D': (a) => a.logSoftmax(-2),
  'logSoftmax large magnitude': (a) => a.logSoftmax(-1),

  // casts
  'float32 -> int32 truncates': (a) => a.int(),
  'int32 -> float32': (a) => a.float(),
  'to float32': (a) => a.to('float32'),
  'to int32': (a) => a.to('int32'),
  'to same dtype': (a) => a.to('float32'),

  // edge cases
  'max dim 1 with ties': (a) => a.max(1),
  'min dim 0 with ties': (a) => a.min(0),
  'argmax all with ties': (a) => a.argmax(),
  'argmax dim 1 with ties': (a) => a.argmax(1),
  'argmin dim -1 with ties': (a) => a.argmin(-1),
  'max int32 dim 0 with ties': (a) => a.max(0),
  'arange(0, 0.3, 0.1)': () => arange(0, 0.3, 0.1),
  'arange(1, 1.9, 0.3)': () => arange(1, 1.9, 0.3),
  'arange(0, 5, 1) float32': () => arange(0, 5, 1, { dtype: 'float32' }),
  'where scalar both': (c) => where(c, 1, 0),
  'pow int32 scalar 0.5': (a) => a.pow(0.5),
  'sqrt int32': (a) => a.sqrt(),
  'exp int32': (a) => a.exp(),
  'sigmoid int32': (a) => a.sigmoid(),
  'relu int32': (a) => a.relu(),
  'lt int32 vs float32': (a, b) => a.lt(b),
  'add float32+int32 0-d': (a, b) => a.add(b),
  'sum dims [0, 1] to 0-d': (a) => a.sum([0, 1]),
  'sum int32 dim 1 keepdim': (a) => a.sum(1, true),
  'softmax over a size-1 dim': (a) => a.softmax(1),
  'logSoftmax over a size-1 dim': (a) => a.logSoftmax(1),
  'matmul inner dim 0': (a, b) => a.matmul(b),
  'sum over an empty dim': (a) => a.sum(0),
  'cat with an empty tensor': (a, b) => cat([a, b], 0),
  'expand 0-d -> [2,3]': (a) => a.expand(2, 3),
  'unsqueeze 0-d': (a) => a.unsqueeze(0),
  'select of 1-D gives 0-d': (a) => a.select(0, 2),
  'gather index smaller in other dims': (a, i) => a.gather(1, i),
  'matmul of expanded operand': (a, b) => a.expand(2, 3, 4).matmul(b),
  'permute 4-D then reshape': (a) => a.permute(3, 1, 0, 2).reshape(6, 4),
  'narrow of transposed': (a) => a.t().narrow(0, 1, 2),
  'mean of transposed dim 1': (a) => a.t().mean(1),
  'var of permuted dim 0': (a) => a.permute(2, 0, 1).var(0),
};

// Products long enough that float32 summation order matters are held to 1e-4 of
// the output's magnitude rather than 1e-5 of each element.
const LOOSE = new Set(['matmul 65x130 . 130x67', 'matmul 17x33 . 33x9', 'matmul [3,9,70] . [70,5]', 'matmul 1x129 . 129x1']);

describe('ops forward values match PyTorch', () => {
  it('has a ferrograd call for every fixture case and a fixture for every call', () => {
    const names = data.cases.map((c) => c.name);
    expect(names.filter((n) => !(n in OPS)), 'fixture cases without a call').toEqual([]);
    expect(Object.keys(OPS).filter((n) => !names.includes(n)), 'calls without a fixture case').toEqual([]);
  });

  for (const c of data.cases) {
    it(c.name, () => {
      const fn = OPS[c.name];
      expect(fn, `no ferrograd call for ${c.name}`).toBeDefined();
      tidy(() => {
        const result = fn(...c.inputs.map((e) => build(e)));
        const outs = Array.isArray(result) ? result : [result];
        expect(outs.length, 'number of outputs').toBe(c.outputs.length);
        const loose = LOOSE.has(c.name);
        outs.forEach((t, k) => expectClose(t, c.outputs[k], `output ${k}`, loose ? 1e-4 : 1e-5, loose));
      });
    });
  }
});

describe('composite expression matches PyTorch in value and gradients', () => {
  it('matmul + broadcast add + tanh·sigmoid − relu/(1+exp) + logSoftmax + reductions', () => {
    tidy(() => {
      const { inputs, value, grads } = data.composite;
      const x = build(inputs.x, true);
      const W = build(inputs.W, true);
      const b = build(inputs.b, true);
      const h = x.matmul(W).add(b);
      const y = h.tanh().mul(h.sigmoid()).sub(h.relu().div(h.exp().add(1)));
      const out = y.logSoftmax(1).mean().add(y.pow(2).sum(0).max());
      expectClose(out, value, 'value');
      out.backward();
      const named: [string, Tensor, Encoded][] = [['x', x, grads.x], ['W', W, grads.W], ['b', b, grads.b]];
      for (const [name, leaf, want] of named) {
        const g = leaf.grad;
        expect(g, `${name}.grad`).not.toBeNull();
        if (g !== null) expectClose(g, want, `${name}.grad`);
      }
    });
  });
});
