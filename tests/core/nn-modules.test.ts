// The nn layer against PyTorch 1.13: every activation module (values and input
// gradients at 0, small and large inputs), Linear and a Sequential loaded through
// loadStateDict, Module bookkeeping (names, state dicts, repr, modes), clipGradNorm_,
// nn.init's gains and distributions, and bad input. Expected values come from
// tests/fixtures/make_nn_fixtures.py (run it with /usr/bin/python3 to regenerate).

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/nn.json' with { type: 'json' };
import { Tensor, tensor, zeros, randn, manualSeed, FerrogradError, nn } from '../../ts/index.js';
import { build, buildDict, expectClose, need, weightedSum, type Encoded, type EncodedDict } from './nn-fixture-helpers.js';

interface ActivationCase {
  name: string;
  args: { negativeSlope?: number; alpha?: number; beta?: number; threshold?: number; dim?: number; numParameters?: number };
  x: Encoded;
  w: Encoded;
  y: Encoded;
  gx: Encoded;
  weight?: Encoded;
  gweight?: Encoded;
}
interface LayerCase {
  x: Encoded;
  w: Encoded;
  y: Encoded;
  gx: Encoded;
  stateDict: EncodedDict;
  grads: EncodedDict;
}
interface Fixtures {
  activations: ActivationCase[];
  linear: (LayerCase & { bias: boolean })[];
  sequential: LayerCase & { repr: string };
  tinyModelRepr: string;
  gains: { nonlinearity: string; param: number | null; gain: number }[];
}
const data: Fixtures = fixtures;

function makeActivation(c: ActivationCase): nn.Module {
  const a = c.args;
  const kind = c.name.replace(/\(.*\)$/, '');
  switch (kind) {
    case 'Identity': return new nn.Identity();
    case 'BinaryStep': return new nn.BinaryStep();
    case 'Sigmoid': return new nn.Sigmoid();
    case 'Tanh': return new nn.Tanh();
    case 'ArcTan': return new nn.ArcTan();
    case 'ReLU': return new nn.ReLU();
    case 'LeakyReLU': return new nn.LeakyReLU(a.negativeSlope);
    case 'ELU': return new nn.ELU(a.alpha);
    case 'Softplus': return new nn.Softplus({ beta: a.beta, threshold: a.threshold });
    case 'GELU': return new nn.GELU();
    case 'Softmax': return new nn.Softmax(a.dim ?? -1);
    case 'LogSoftmax': return new nn.LogSoftmax(a.dim ?? -1);
    case 'PReLU': return new nn.PReLU({ numParameters: a.numParameters });
    default: throw new Error(`no module for fixture case ${c.name}`);
  }
}

class TinyModel extends nn.Module {
  linear1 = new nn.Linear(100, 200);
  activation = new nn.ReLU();
  linear2 = new nn.Linear(200, 10);
  softmax = new nn.Softmax(1);
  forward(x: Tensor): Tensor {
    return this.softmax.forward(this.linear2.forward(this.activation.forward(this.linear1.forward(x))));
  }
}

function makeSequential(): nn.Sequential {
  return new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 5), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(5, 2));
}

describe('activations match PyTorch (values and gradients)', () => {
  it('covers every activation module', () => {
    const names = new Set(data.activations.map((c) => c.name.replace(/\(.*\)$/, '')));
    for (const n of ['Identity', 'BinaryStep', 'Sigmoid', 'Tanh', 'ArcTan', 'ReLU', 'PReLU', 'ELU', 'Softplus', 'LeakyReLU', 'GELU', 'Softmax', 'LogSoftmax']) {
      expect(names.has(n), n).toBe(true);
    }
  });
  for (const c of data.activations) {
    it(c.name, () => {
      const m = makeActivation(c);
      if (c.weight && m instanceof nn.PReLU) m.loadStateDict({ weight: build(c.weight) });
      const x = build(c.x, true);
      const y = m.forward(x);
      expectClose(y, c.y, `${c.name} value`);
      weightedSum(y, c.w).backward();
      expectClose(x.grad, c.gx, `${c.name} input grad`);
      if (c.gweight && m instanceof nn.PReLU) expectClose(m.weight.grad, c.gweight, `${c.name} weight grad`);
    });
  }
  it('relu and binary step follow PyTorch at exactly 0 (relu′(0) = 0, step(0) = 1)', () => {
    const x = tensor([0], { dtype: 'float32', requiresGrad: true });
    const r = new nn.ReLU().forward(x);
    r.sum().backward();
    expect(Array.from(x.grad?.data() ?? [])).toEqual([0]);
    expect(Array.from(new nn.BinaryStep().forward(tensor([0, -0.5, 0.5], { dtype: 'float32' })).data())).toEqual([1, 0, 1]);
  });
});

describe('Linear and Sequential', () => {
  for (const c of data.linear) {
    it(`Linear(4, 3, bias=${c.bias}) with PyTorch's weights`, () => {
      const lin = new nn.Linear(4, 3, { bias: c.bias });
      expect(Object.keys(lin.stateDict())).toEqual(Object.keys(c.stateDict));
      lin.loadStateDict(buildDict(c.stateDict));
      const x = build(c.x, true);
      const y = lin.forward(x);
      expectClose(y, c.y, 'value');
      weightedSum(y, c.w).backward();
      expectClose(x.grad, c.gx, 'input grad');
      for (const [k, p] of lin.namedParameters()) expectClose(p.grad, need(c.grads, k), `grad of ${k}`);
    });
  }

  it('Sequential(Flatten, Linear, ReLU, Dropout, Linear) in eval mode', () => {
    const c = data.sequential;
    const seq = makeSequential();
    expect(Object.keys(seq.stateDict())).toEqual(Object.keys(c.stateDict));
    seq.loadStateDict(buildDict(c.stateDict));
    seq.eval();
    const x = build(c.x, true);
    const y = seq.forward(x);
    expectClose(y, c.y, 'value');
    weightedSum(y, c.w).backward();
    expectClose(x.grad, c.gx, 'input grad');
    for (const [k, p] of seq.namedParameters()) expectClose(p.grad, need(c.grads, k), `grad of ${k}`);
    expect(seq.toString()).toBe(c.repr);
  });

  it('Dropout is the identity in eval mode and not in training mode', () => {
    manualSeed(0);
    const drop = new nn.Dropout(0.5);
    const x = randn([50, 20]);
    const trained = Array.from(drop.forward(x).data());
    const xs = Array.from(x.data());
    expect(trained.some((v, i) => v !== xs[i])).toBe(true);
    expect(trained.every((v, i) => v === 0 || Math.abs(v - 2 * xs[i]) <= 1e-6 * Math.max(1, Math.abs(v)))).toBe(true);
    drop.eval();
    expect(Array.from(drop.forward(x).data())).toEqual(xs);
  });
});

describe('Module bookkeeping', () => {
  it('namedParameters and stateDict use PyTorch names in definition order', () => {
    const m = new TinyModel();
    const names = ['linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias'];
    expect(m.namedParameters().map(([k]) => k)).toEqual(names);
    expect(Object.keys(m.stateDict())).toEqual(names);
    expect(m.parameters().map((p) => p.shape)).toEqual([[200, 100], [200], [10, 200], [10]]);
    const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    expect(seq.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const shared = new nn.Linear(2, 2);
    const twice = new nn.Sequential(shared, shared);
    expect(twice.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias']);
  });

  it("toString() matches PyTorch's repr", () => {
    expect(new TinyModel().toString()).toBe(data.tinyModelRepr);
  });

  it('loadStateDict reports missing, unexpected and size-mismatched keys together and copies nothing', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const before = seq.parameters().map((p) => Array.from(p.data()));
    const sd: Record<string, Tensor> = {
      '0.weight': tensor(Array<number>(12).fill(7), { shape: [4, 3], dtype: 'float32' }), // fine on its own
      '0.bias': tensor([1, 2, 3], { dtype: 'float32' }), // size mismatch
      '2.weight': tensor(Array<number>(8).fill(7), { shape: [2, 4], dtype: 'float32' }),
      // '2.bias' missing
      '9.weight': tensor([1], { dtype: 'float32' }), // unexpected
    };
    let err: unknown = null;
    try {
      seq.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FerrogradError);
    const msg = err instanceof Error ? err.message : '';
    expect(msg).toContain('"2.bias"');
    expect(msg).toContain('"9.weight"');
    expect(msg).toMatch(/Missing key/);
    expect(msg).toMatch(/Unexpected key/);
    expect(msg).toContain('size mismatch for 0.bias');
    expect(msg).toContain('[3]');
    expect(msg).toContain('[4]');
    expect(seq.parameters().map((p) => Array.from(p.data()))).toEqual(before);
    // strict: false loads what matches and reports the rest.
    const ok = seq.loadStateDict({ '0.weight': sd['0.weight'], '9.weight': sd['9.weight'] }, { strict: false });
    expect(ok.missingKeys).toEqual(['0.bias', '2.weight', '2.bias']);
    expect(ok.unexpectedKeys).toEqual(['9.weight']);
    expect(Array.from(seq.parameters()[0].data())).toEqual(Array<number>(12).fill(7));
  });

  it('train() and eval() propagate to every descendant', () => {
    const inner = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout(0.3));
    const outer = new nn.Sequential(inner, new nn.ReLU());
    expect([...outer.modules()].every((m) => m.training)).toBe(true);
    outer.eval();
    expect([...outer.modules()].map((m) => m.training)).toEqual([false, false, false, false, false]);
    outer.train();
    expect([...outer.modules()].every((m) => m.training)).toBe(true);
    outer.train(false);
    expect([...outer.modules()].some((m) => m.training)).toBe(false);
  });

  it('zeroGrad clears every gradient', () => {
    const m = new TinyModel();
    m.forward(randn([3, 100])).sum().backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe('nn.utils.clipGradNorm_', () => {
  it('matches a hand computation of the joint 2-norm and scales gradients', () => {
    const a = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = tensor([[1], [1]], { dtype: 'float32', requiresGrad: true });
    a.mul(tensor([3, 4], { dtype: 'float32' })).sum().add(b.mul(tensor([[0], [12]], { dtype: 'float32' })).sum()).backward();
    // grads [3, 4] and [[0], [12]]: norm √(9 + 16 + 144) = 13
    const total = nn.utils.clipGradNorm_([a, b], 6.5);
    expect(total).toBeCloseTo(13, 5);
    const coef = 6.5 / (13 + 1e-6);
    expectClose(a.grad, { shape: [2], dtype: 'float32', values: [3 * coef, 4 * coef] }, 'a.grad', 1e-6);
    expectClose(b.grad, { shape: [2, 1], dtype: 'float32', values: [0, 12 * coef] }, 'b.grad', 1e-6);
    // Under the limit nothing changes.
    expect(nn.utils.clipGradNorm_([a, b], 100)).toBeCloseTo(6.5, 4);
    expectClose(a.grad, { shape: [2], dtype: 'float32', values: [3 * coef, 4 * coef] }, 'a.grad unchanged', 1e-6);
    // The inf-norm is the largest magnitude.
    expect(nn.utils.clipGradNorm_([a, b], 100, Infinity)).toBeCloseTo(12 * coef, 4);
  });
});

describe('nn.init', () => {
  it("calculateGain matches PyTorch's", () => {
    const names: nn.init.Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'];
    for (const { nonlinearity: name, param, gain: want } of data.gains) {
      const nl = names.find((n) => n === name);
      if (nl === undefined) throw new Error(`unknown nonlinearity ${name}`);
      const got = nn.init.calculateGain(nl, param ?? undefined);
      expect(Math.abs(got - want), `${name}(${param})`).toBeLessThanOrEqual(1e-12);
    }
  });

  function stats(t: Tensor): { min: number; max: number; mean: number; variance: number } {
    const v = Array.from(t.data());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    return { mean, variance, ...minMax(v) };
  }
  function minMax(v: number[]): { min: number; max: number } {
    let min = Infinity;
    let max = -Infinity;
    for (const x of v) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return { min, max };
  }
  function expectUniform(t: Tensor, bound: number, label: string): void {
    const s = stats(t);
    expect(s.min, `${label} min`).toBeGreaterThanOrEqual(-bound);
    expect(s.max, `${label} max`).toBeLessThanOrEqual(bound);
    expect(s.min, `${label} reaches near −bound`).toBeLessThan(-0.99 * bound);
    expect(s.max, `${label} reaches near bound`).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(s.mean), `${label} mean`).toBeLessThan(0.01 * bound);
    expect(Math.abs(s.variance / (bound * bound / 3) - 1), `${label} variance`).toBeLessThan(0.03);
  }

  it("Linear(1000, 1000)'s default init: weights and bias within ±1/√1000 with variance bound²/3", () => {
    manualSeed(123);
    const lin = new nn.Linear(1000, 1000);
    const bound = 1 / Math.sqrt(1000);
    expectUniform(lin.weight, bound, 'weight');
    const b = minMax(Array.from(lin.bias?.data() ?? []));
    expect(b.min).toBeGreaterThanOrEqual(-bound);
    expect(b.max).toBeLessThanOrEqual(bound);
  });

  it('random initialisers refuse int32 tensors instead of truncating to zeros', () => {
    expect(() => nn.init.uniform_(zeros([3], { dtype: 'int32' }), -1, 1)).toThrow(FerrogradError);
    expect(() => nn.init.kaimingUniform_(zeros([3, 3], { dtype: 'int32' }))).toThrow(/float32/);
  });

  it('kaimingUniform_ and xavierUniform_ use the PyTorch bounds', () => {
    manualSeed(7);
    const w = nn.init.kaimingUniform_(zeros([500, 800]), { nonlinearity: 'relu' });
    expectUniform(w, Math.SQRT2 * Math.sqrt(3 / 800), 'kaiming relu fanIn');
    const w2 = nn.init.kaimingUniform_(zeros([500, 800]), { mode: 'fanOut', nonlinearity: 'relu' });
    expectUniform(w2, Math.SQRT2 * Math.sqrt(3 / 500), 'kaiming relu fanOut');
    const x = nn.init.xavierUniform_(zeros([500, 800]), 2);
    expectUniform(x, 2 * Math.sqrt(6 / 1300), 'xavier gain 2');
  });
});

describe('bad input', () => {
  it("a Sequential whose shapes don't chain names the layer and the shapes", () => {
    const seq = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(6, 2));
    let err: unknown = null;
    try {
      seq.forward(randn([3, 4]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FerrogradError);
    const msg = err instanceof Error ? err.message : '';
    expect(msg).toContain('(2): Linear(in_features=6, out_features=2, bias=True)');
    expect(msg).toContain('[3, 8]');
  });

  it('Linear rejects an input with the wrong number of features', () => {
    expect(() => new nn.Linear(4, 2).forward(randn([3, 5]))).toThrow(/\[3, 5\].*4 features/);
  });
});
