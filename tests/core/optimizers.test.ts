// The optimizers against PyTorch 1.13: a Linear(4,3) → Tanh → Linear(3,2) model with
// fixed weights trained 5 steps on a fixed batch with MSE, every parameter compared
// after every step. Expected values come from tests/fixtures/make_nn_fixtures.py (run
// it with /usr/bin/python3 to regenerate). Also: constructor validation, state dict
// round trips and parameter groups.

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/nn.json' with { type: 'json' };
import { Tensor, tensor, nn, F, optim } from '../../ts/index.js';
import { build, buildDict, expectClose, need, type Encoded, type EncodedDict } from './nn-fixture-helpers.js';

interface FixtureOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  betas?: number[];
  amsgrad?: boolean;
  alpha?: number;
  centered?: boolean;
  lrDecay?: number;
  initialAccumulatorValue?: number;
}
interface OptimizerCase {
  name: string;
  optimizer: string;
  options: FixtureOptions;
  groups: { lr?: number }[];
  init: EncodedDict;
  steps: { loss: number; params: EncodedDict }[];
}
interface Fixtures {
  optimizers: { x: Encoded; y: Encoded; cases: OptimizerCase[] };
}
const data: Fixtures = fixtures;

interface Stepper {
  zeroGrad(): void;
  step(): void;
}

function makeModel(init?: EncodedDict): nn.Sequential {
  const m = new nn.Sequential(new nn.Linear(4, 3), new nn.Tanh(), new nn.Linear(3, 2));
  if (init) m.loadStateDict(buildDict(init));
  return m;
}

function betas(o: FixtureOptions): [number, number] | undefined {
  return o.betas ? [o.betas[0], o.betas[1]] : undefined;
}

/** The optimizer named in the fixture, over whole-model params or the fixture's groups. */
function makeOptimizer(c: OptimizerCase, m: nn.Sequential): Stepper {
  const o = c.options;
  if (c.groups.length) {
    if (c.optimizer !== 'SGD') throw new Error('param-group fixtures use SGD');
    const layers = [m.at(0), m.at(2)];
    const groups = c.groups.map((g, i) => ({ ...g, params: layers[i].parameters() }));
    return new optim.SGD(groups, { lr: o.lr, momentum: o.momentum });
  }
  const params = m.parameters();
  switch (c.optimizer) {
    case 'SGD':
      return new optim.SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov });
    case 'Adam':
      return new optim.Adam(params, { lr: o.lr, betas: betas(o), amsgrad: o.amsgrad, weightDecay: o.weightDecay });
    case 'AdamW':
      return new optim.AdamW(params, { lr: o.lr, betas: betas(o), amsgrad: o.amsgrad, weightDecay: o.weightDecay });
    case 'RMSprop':
      return new optim.RMSprop(params, { lr: o.lr, alpha: o.alpha, momentum: o.momentum, centered: o.centered, weightDecay: o.weightDecay });
    case 'Adagrad':
      return new optim.Adagrad(params, { lr: o.lr, lrDecay: o.lrDecay, initialAccumulatorValue: o.initialAccumulatorValue, weightDecay: o.weightDecay });
    default:
      throw new Error(`no optimizer ${c.optimizer}`);
  }
}

function trainStep(m: nn.Module, opt: Stepper, x: Tensor, y: Tensor): number {
  opt.zeroGrad();
  const loss = F.mseLoss(m.forward(x), y);
  loss.backward();
  opt.step();
  return loss.item();
}

const X = (): Tensor => build(data.optimizers.x);
const Y = (): Tensor => build(data.optimizers.y);

describe('optimizers match PyTorch over 5 steps', () => {
  for (const c of data.optimizers.cases) {
    it(c.name, () => {
      const m = makeModel(c.init);
      const opt = makeOptimizer(c, m);
      const [x, y] = [X(), Y()];
      c.steps.forEach((s, i) => {
        const loss = trainStep(m, opt, x, y);
        expect(Math.abs(loss - s.loss), `step ${i + 1} loss ${loss} vs ${s.loss}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(s.loss)));
        for (const [k, p] of m.namedParameters()) expectClose(p, need(s.params, k), `step ${i + 1} ${k}`);
      });
    });
  }
});

describe('optimizer bookkeeping', () => {
  const params = (): Tensor[] => [tensor([1, 2], { dtype: 'float32', requiresGrad: true })];

  it('constructors reject a negative learning rate with a RangeError like PyTorch', () => {
    const makers: [string, () => unknown][] = [
      ['SGD', () => new optim.SGD(params(), { lr: -1 })],
      ['Adam', () => new optim.Adam(params(), { lr: -1 })],
      ['AdamW', () => new optim.AdamW(params(), { lr: -1 })],
      ['RMSprop', () => new optim.RMSprop(params(), { lr: -1 })],
      ['Adagrad', () => new optim.Adagrad(params(), { lr: -1 })],
    ];
    for (const [name, make] of makers) {
      let err: unknown = null;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(RangeError);
      expect(err instanceof Error ? err.message : '', name).toBe('Invalid learning rate: -1');
    }
    expect(() => new optim.SGD([{ params: params(), lr: -1 }], { lr: 0.1 })).toThrow(RangeError);
    expect(() => new optim.Adam(params(), { betas: [1, 0.999] })).toThrow(/Invalid beta parameter at index 0: 1/);
    expect(() => new optim.SGD(params(), { lr: 0.1, nesterov: true })).toThrow(RangeError);
  });

  it('an option given as undefined keeps its default', () => {
    const sgd = new optim.SGD(params(), { lr: 0.1, momentum: undefined, nesterov: undefined });
    expect([sgd.paramGroups[0].momentum, sgd.paramGroups[0].nesterov]).toEqual([0, false]);
    const adam = new optim.Adam([{ params: params(), lr: undefined }], { lr: 0.5, betas: undefined });
    expect([adam.paramGroups[0].lr, adam.paramGroups[0].betas]).toEqual([0.5, [0.9, 0.999]]);
  });

  it('param groups keep their own hyperparameters', () => {
    const m = makeModel();
    const opt = new optim.SGD([{ params: m.at(0).parameters() }, { params: m.at(2).parameters(), lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum, g.params.length])).toEqual([[0.1, 0.9, 2], [0.01, 0.9, 2]]);
  });

  for (const name of ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad']) {
    it(`${name}: stateDict/loadStateDict round trip continues training identically`, () => {
      const c = data.optimizers.cases.find((k) => k.optimizer === name && !k.groups.length && Object.keys(k.options).length > 1)
        ?? data.optimizers.cases.find((k) => k.optimizer === name);
      if (!c) throw new Error(`no fixture for ${name}`);
      const [x, y] = [X(), Y()];
      const a = makeModel(c.init);
      const optA = makeOptimizer(c, a);
      trainStep(a, optA, x, y);
      trainStep(a, optA, x, y);
      // A fresh model and optimizer that pick up where A is.
      const b = makeModel();
      b.loadStateDict(a.stateDict());
      const optB = makeOptimizer(c, b);
      if (!(optA instanceof optim.Optimizer) || !(optB instanceof optim.Optimizer)) throw new Error('not an Optimizer');
      optB.loadStateDict(optA.stateDict());
      // Interleaved, so that shared state tensors would show.
      for (let i = 0; i < 3; i++) {
        const la = trainStep(a, optA, x, y);
        const lb = trainStep(b, optB, x, y);
        expect(lb, `step ${i + 3} loss`).toBe(la);
      }
      const pa = a.parameters().map((p) => Array.from(p.data()));
      const pb = b.parameters().map((p) => Array.from(p.data()));
      expect(pb).toEqual(pa);
      // ... and matches PyTorch after all 5 steps.
      const last = c.steps[4];
      for (const [k, p] of b.namedParameters()) expectClose(p, need(last.params, k), `after round trip ${k}`);
    });
  }

  it('zeroGrad clears the gradients of every group', () => {
    const m = makeModel();
    const opt = new optim.Adam(m.parameters());
    F.mseLoss(m.forward(X()), Y()).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    opt.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });
});
