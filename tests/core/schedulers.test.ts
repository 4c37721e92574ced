// Learning-rate schedulers against PyTorch's closed forms (worked by hand), and
// EarlyStopping's bookkeeping.
import { describe, expect, it } from 'vitest';
import { optim, nn, EarlyStopping, tensor, noGrad } from '../../ts/index.js';

const sgd = (lr = 0.1): optim.SGD => new optim.SGD(new nn.Linear(2, 1).parameters(), { lr });
const lrs = (s: { step(): void; getLastLr(): number[] }, n: number): number[] =>
  Array.from({ length: n }, () => {
    s.step();
    return s.getLastLr()[0];
  });

describe('LR schedulers', () => {
  it('StepLR multiplies by gamma every stepSize epochs', () => {
    const got = lrs(new optim.StepLR(sgd(), { stepSize: 2, gamma: 0.5 }), 6);
    [0.1, 0.05, 0.05, 0.025, 0.025, 0.0125].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('ExponentialLR multiplies by gamma every epoch', () => {
    const got = lrs(new optim.ExponentialLR(sgd(1), 0.9), 3);
    [0.9, 0.81, 0.729].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('CosineAnnealingLR follows η_min + (η0 − η_min)(1 + cos(πt/T))/2', () => {
    const got = lrs(new optim.CosineAnnealingLR(sgd(1), { tMax: 4, etaMin: 0 }), 4);
    [0.8535533905932737, 0.5, 0.14644660940672627, 0].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('LambdaLR scales the initial lr', () => {
    const got = lrs(new optim.LambdaLR(sgd(0.2), (e) => 1 / (e + 1)), 3);
    [0.1, 0.2 / 3, 0.05].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('ReduceLROnPlateau cuts after patience epochs without improvement', () => {
    const opt = sgd(1);
    const s = new optim.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
    const seen = [1, 0.9, 0.95, 0.95, 0.95, 0.8].map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    // 0.9 improves; the second bad epoch in a row (> patience 1) cuts to 0.5; 0.8 improves again.
    expect(seen).toEqual([1, 1, 1, 0.5, 0.5, 0.5]);
  });

  it('drives the optimizer: the step uses the scheduled lr', () => {
    const p = new nn.Parameter(tensor([1], { dtype: 'float32' }));
    const opt = new optim.SGD([p], { lr: 1 });
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.1 });
    sched.step();
    p.grad = tensor([2], { dtype: 'float32' });
    opt.step();
    expect(p.item()).toBeCloseTo(1 - 0.1 * 2, 6);
  });
});

describe('EarlyStopping', () => {
  it('stops after patience epochs without a minDelta improvement', () => {
    const es = new EarlyStopping({ patience: 2, minDelta: 0.01 });
    const stops = [1, 0.5, 0.495, 0.49, 0.3, 0.31, 0.305].map((m) => es.step(m));
    expect(stops).toEqual([false, false, false, true, false, false, true]);
    expect(es.best).toBe(0.3);
    expect(es.bestEpoch).toBe(4);
  });

  it('restores the best weights in max mode', () => {
    const model = new nn.Linear(1, 1, { bias: false });
    const es = new EarlyStopping({ patience: 1, mode: 'max', restoreBestWeights: true });
    const set = (v: number): void => noGrad(() => void model.weight.fill_(v));
    set(1);
    es.step(0.8, model);
    set(2);
    const stopped = es.step(0.7, model);
    expect(stopped).toBe(true);
    expect(model.weight.item()).toBe(1);
  });
});
