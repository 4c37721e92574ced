// A multi-layer feed-forward network on the UCI handwritten digits (8×8 images),
// trained with a progress bar: h = ReLU(W1·x + b1), h2 = ReLU(W2·h + b2), o = W3·h2 + b3.
//
//   npm run example digits-mlp -- --epochs 30

import { nn, optim, data, manualSeed, noGrad } from 'ferrograd';
import * as datasets from 'ferrograd/datasets';
import { ProgressBar } from './lib/progress.js';
import { parseArgs, numberFlag } from './lib/args.js';

const args = parseArgs('Train an MLP on the UCI digits.', [
  { name: 'epochs', help: 'passes over the training set', default: '30' },
  { name: 'lr', help: 'SGD learning rate', default: '0.05' },
  { name: 'seed', help: 'random seed', default: '0' },
]);
manualSeed(numberFlag(args, 'seed', true));

const digits = new datasets.Digits();
const X = digits.data.div(16);
const [train, test] = data.randomSplit(new data.TensorDataset(X, digits.targets), [0.8, 0.2]);
const trainLoader = new data.DataLoader(train, { batchSize: 32, shuffle: true });
const testLoader = new data.DataLoader(test, { batchSize: 256 });

const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10));
const lossFn = new nn.CrossEntropyLoss();
const opt = new optim.SGD(model.parameters(), { lr: numberFlag(args, 'lr'), momentum: 0.9 });
console.log(model.toString());

const epochs = numberFlag(args, 'epochs', true);
let accuracy = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  const bar = new ProgressBar({ label: `epoch ${String(epoch).padStart(2)}/${epochs}`, total: trainLoader.length });
  for (const [x, y] of trainLoader) {
    const loss = lossFn.forward(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    bar.tick(x.shape[0], loss.item());
  }
  model.eval();
  let correct = 0;
  noGrad(() => {
    for (const [x, y] of testLoader) correct += model.forward(x).argmax(1).eq(y).sum().item();
  });
  accuracy = (100 * correct) / test.length;
}
console.log(`test accuracy after ${epochs} epochs: ${accuracy.toFixed(1)}% on ${test.length} held-out digits`);
