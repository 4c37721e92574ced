// The lecture's three single neurons — perceptron, linear SVM, logistic regression —
// on the breast cancer data (standardised features, a fixed 80/20 split), each
// trained one point at a time with its own update rule.
//
//   npm run example shallow-neurons

import { data, manualSeed, noGrad, tidy, stack, models, type Tensor } from 'ferrograd';
import * as datasets from 'ferrograd/datasets';

manualSeed(0);
const bc = new datasets.BreastCancer();
const [trainSet, testSet] = data.randomSplit(bc, [0.8, 0.2]);
const rowsOf = (s: data.Subset<Tensor[]>): [Tensor, Tensor] => {
  const rows = s.indices.map((i) => bc.get(i));
  return [stack(rows.map((r) => r[0])), stack(rows.map((r) => r[1]))];
};
const [xTrainRaw, yTrain] = rowsOf(trainSet);
const [xTestRaw, yTest] = rowsOf(testSet);

// Standardise with the training set's statistics only.
const mean = xTrainRaw.mean(0);
const std = xTrainRaw.std(0);
const xTrain = xTrainRaw.sub(mean).div(std);
const xTest = xTestRaw.sub(mean).div(std);
// Perceptron and SVM use labels in {−1, 1}; logistic regression uses {0, 1}.
const pm = (y: Tensor): Tensor => y.mul(2).sub(1);

const accuracy = (pred: Tensor, y: Tensor): number => tidy(() => pred.eq(y).float().mean().item() * 100);

const runs: [string, models.SingleNeuron, Tensor, Tensor][] = [
  ['perceptron', new models.Perceptron(30, { lr: 1 }), pm(yTrain), pm(yTest)],
  ['linear SVM', new models.LinearSVM(30, { lr: 0.01, lambda: 0.01 }), pm(yTrain), pm(yTest)],
  ['logistic regression', new models.LogisticRegression(30, { lr: 0.1 }), yTrain, yTest],
];
console.log(`breast cancer: ${xTrain.shape[0]} training and ${xTest.shape[0]} test tumours, 30 standardised features\n`);
for (const [name, model, yTr, yTe] of runs) {
  model.fit(xTrain, yTr, { epochs: 10, shuffle: true });
  const trainAcc = accuracy(noGrad(() => model.predict(xTrain)), yTr);
  const testAcc = accuracy(noGrad(() => model.predict(xTest)), yTe);
  console.log(`${name.padEnd(20)} train ${trainAcc.toFixed(1)}%  test ${testAcc.toFixed(1)}%`);
}
