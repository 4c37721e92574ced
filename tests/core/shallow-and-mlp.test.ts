// The lecture's single neurons against their Linear + loss + SGD formulation, and
// convergence on the bundled real data.
import { describe, expect, it } from 'vitest';
import { nn, optim, data, models, manualSeed, noGrad, tidy, stack, randn, tensor, type Tensor } from '../../ts/index.js';
import * as datasets from '../../ts/datasets/index.js';

function standardisedSplit(): { xTrain: Tensor; yTrain: Tensor; xTest: Tensor; yTest: Tensor } {
  manualSeed(0);
  const bc = new datasets.BreastCancer();
  const [tr, te] = data.randomSplit(bc, [0.8, 0.2]);
  const rows = (s: data.Subset<Tensor[]>): [Tensor, Tensor] => {
    const r = s.indices.map((i) => bc.get(i));
    return [stack(r.map((x) => x[0])), stack(r.map((x) => x[1]))];
  };
  const [a, yTrain] = rows(tr);
  const [b, yTest] = rows(te);
  const mean = a.mean(0);
  const std = a.std(0);
  return { xTrain: a.sub(mean).div(std), yTrain, xTest: b.sub(mean).div(std), yTest };
}

/** Trains `lin` with `loss` and SGD one point at a time, in order. */
function sgdOnePointAtATime(lin: nn.Linear, X: Tensor, y: Tensor, loss: (out: Tensor, t: Tensor) => Tensor, opt: optim.SGD): void {
  const labels = Array.from(y.data());
  for (let i = 0; i < labels.length; i++) {
    tidy(() => {
      opt.zeroGrad();
      loss(lin.forward(X.narrow(0, i, 1)).reshape([1]), tensor([labels[i]], { dtype: 'float32' })).backward();
      opt.step();
    });
  }
}

const close = (a: Tensor, b: Tensor): void => {
  const [x, y] = [a.data(), b.data()];
  x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(y[i]))));
};

describe('single neurons equal Linear + loss + SGD with batch size 1', () => {
  manualSeed(1);
  const X = randn([40, 5]);
  const yPm = randn([40]).gt(0).int().mul(2).sub(1);
  const y01 = yPm.add(1).div(2).int();

  it('linear SVM = HingeLoss + weight decay λ', () => {
    const svm = new models.LinearSVM(5, { lr: 0.05, lambda: 0.1 }).fit(X, yPm, { epochs: 2 });
    const lin = new nn.Linear(5, 1);
    nn.init.zeros_(lin.weight);
    nn.init.zeros_(lin.bias!);
    const opt = new optim.SGD(lin.parameters(), { lr: 0.05, weightDecay: 0.1 });
    const hinge = new nn.HingeLoss();
    for (let e = 0; e < 2; e++) sgdOnePointAtATime(lin, X, yPm, (o, t) => hinge.forward(o, t), opt);
    close(svm.weight, lin.weight.reshape([5]));
    close(svm.bias!, lin.bias!);
  });

  it('logistic regression = BCEWithLogitsLoss', () => {
    const lr = new models.LogisticRegression(5, { lr: 0.3 }).fit(X, y01, { epochs: 2 });
    const lin = new nn.Linear(5, 1);
    nn.init.zeros_(lin.weight);
    nn.init.zeros_(lin.bias!);
    const opt = new optim.SGD(lin.parameters(), { lr: 0.3 });
    const bce = new nn.BCEWithLogitsLoss();
    for (let e = 0; e < 2; e++) sgdOnePointAtATime(lin, X, y01, (o, t) => bce.forward(o, t), opt);
    close(lr.weight, lin.weight.reshape([5]));
    close(lr.bias!, lin.bias!);
  });

  it('perceptron = PerceptronLoss', () => {
    const p = new models.Perceptron(5, { lr: 0.5 }).fit(X, yPm, { epochs: 3 });
    const lin = new nn.Linear(5, 1);
    nn.init.zeros_(lin.weight);
    nn.init.zeros_(lin.bias!);
    const opt = new optim.SGD(lin.parameters(), { lr: 0.5 });
    const crit = new nn.PerceptronLoss();
    for (let e = 0; e < 3; e++) sgdOnePointAtATime(lin, X, yPm, (o, t) => crit.forward(o, t), opt);
    close(p.weight, lin.weight.reshape([5]));
  });
});

describe('convergence on real data', () => {
  it('logistic regression reaches ≥ 95 % test accuracy on breast cancer', () => {
    const { xTrain, yTrain, xTest, yTest } = standardisedSplit();
    const m = new models.LogisticRegression(30, { lr: 0.1 }).fit(xTrain, yTrain, { epochs: 10, shuffle: true });
    const acc = noGrad(() => m.predict(xTest).eq(yTest).float().mean().item());
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });

  it('an MLP reaches ≥ 95 % test accuracy on the UCI digits', () => {
    manualSeed(0);
    const digits = new datasets.Digits();
    const [train, test] = data.randomSplit(new data.TensorDataset(digits.data.div(16), digits.targets), [0.8, 0.2]);
    const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10));
    const lossFn = new nn.CrossEntropyLoss();
    const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const loader = new data.DataLoader(train, { batchSize: 32, shuffle: true });
    for (let epoch = 0; epoch < 15; epoch++) {
      for (const [x, y] of loader) {
        opt.zeroGrad();
        lossFn.forward(model.forward(x), y).backward();
        opt.step();
      }
    }
    model.eval();
    let correct = 0;
    noGrad(() => {
      for (const [x, y] of new data.DataLoader(test, { batchSize: 500 })) correct += model.forward(x).argmax(1).eq(y).sum().item();
    });
    expect(correct / test.length).toBeGreaterThanOrEqual(0.95);
  });
});
