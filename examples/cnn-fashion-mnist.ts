// The main job: the lecture's CNN trained on Fashion-MNIST with the seed's
// train_loop and test_loop, a progress bar, the trained weights as safetensors and a
// picture of the loss/accuracy curves and the test confusion matrix.
//
//   npm run train                        (sets up the data set, then runs this)
//   npm run example cnn-fashion-mnist -- --epochs 5 --lr 0.01

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { nn, optim, data, manualSeed, noGrad, save, memory, type Tensor } from 'ferrograd';
import { ProgressBar } from './lib/progress.js';
import { lineChart, confusionMatrix, svgDocument } from './lib/svg.js';
import { parseArgs, numberFlag } from './lib/args.js';
import { loadImageData } from './lib/image-data.js';

const args = parseArgs('Train the lecture CNN on Fashion-MNIST (or the bundled UCI digits).', [
  { name: 'epochs', help: 'passes over the training set', default: '10' },
  { name: 'batch-size', help: 'examples per step', default: '64' },
  { name: 'lr', help: 'SGD learning rate', default: '0.05' },
  { name: 'momentum', help: 'SGD momentum', default: '0.9' },
  { name: 'seed', help: 'random seed (init, dropout, shuffling)', default: '0' },
  { name: 'data-root', help: 'folder with the Fashion-MNIST IDX files', default: '/usr/share/datasets/fashion-mnist' },
  { name: 'out', help: 'output folder', default: 'out' },
]);
const epochs = numberFlag(args, 'epochs', true);
const batchSize = numberFlag(args, 'batch-size', true);

/** The lecture's CNN with its forward filled in: conv → ReLU → pool, twice, then two linear layers. */
class CNN extends nn.Module {
  conv1 = new nn.Conv2d(1, 10, 5);
  pool1 = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(10, 20, 5);
  pool2 = new nn.MaxPool2d(2, 2);
  dropout = new nn.Dropout(0.25);
  fc1 = new nn.Linear(20 * 4 * 4, 100);
  fc2 = new nn.Linear(100, 10);

  forward(x: Tensor): Tensor {
    x = this.pool1.forward(this.conv1.forward(x).relu());
    x = this.pool2.forward(this.conv2.forward(x).relu());
    x = this.dropout.forward(x.flatten(1));
    x = this.fc1.forward(x).relu();
    return this.fc2.forward(x);
  }
}

type Loader = data.DataLoader<[Tensor, Tensor]>;

function trainLoop(dataloader: Loader, model: nn.Module, lossFn: nn.CrossEntropyLoss, optimizer: optim.Optimizer<optim.SGDOptions>, label: string): number {
  model.train();
  const bar = new ProgressBar({ label, total: dataloader.length });
  for (const [X, y] of dataloader) {
    // Compute prediction and loss
    const pred = model.forward(X);
    const loss = lossFn.forward(pred, y);
    // Backpropagation
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    bar.tick(X.shape[0], loss.item());
  }
  return bar.meanLoss;
}

function testLoop(dataloader: Loader, model: nn.Module, lossFn: nn.CrossEntropyLoss, confusion?: number[][]): { accuracy: number; loss: number } {
  model.eval();
  const size = dataloader.dataset.length;
  const numBatches = dataloader.length;
  let testLoss = 0;
  let correct = 0;
  noGrad(() => {
    for (const [X, y] of dataloader) {
      const pred = model.forward(X);
      testLoss += lossFn.forward(pred, y).item();
      const guess = pred.argmax(1);
      correct += guess.eq(y).float().sum().item();
      if (confusion) {
        const [g, t] = [guess.data(), y.data()];
        for (let i = 0; i < g.length; i++) confusion[t[i]][g[i]] += 1;
      }
    }
  });
  testLoss /= numBatches;
  correct /= size;
  console.log(`Test Error: \n Accuracy: ${(100 * correct).toFixed(1)}%, Avg loss: ${testLoss.toFixed(6)} \n`);
  return { accuracy: correct, loss: testLoss };
}

manualSeed(numberFlag(args, 'seed', true));
const { train, test, classes, source } = await loadImageData(args['data-root']);
console.log(`${source}: ${train.length} training and ${test.length} test images, ${epochs} epochs, batch ${batchSize}`);

const trainLoader: Loader = new data.DataLoader(train, { batchSize, shuffle: true });
const testLoader: Loader = new data.DataLoader(test, { batchSize: 1000 });
const model = new CNN();
const lossFn = new nn.CrossEntropyLoss();
const optimizer = new optim.SGD(model.parameters(), { lr: numberFlag(args, 'lr'), momentum: numberFlag(args, 'momentum') });
// Anneal the learning rate to 0 over the run: large steps early, fine ones at the end.
const scheduler = new optim.CosineAnnealingLR(optimizer, { tMax: epochs });

const history = { trainLoss: [] as number[], testLoss: [] as number[], accuracy: [] as number[] };
const confusion = classes.map(() => classes.map(() => 0));
const started = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  history.trainLoss.push(trainLoop(trainLoader, model, lossFn, optimizer, `epoch ${epoch}/${epochs}`));
  scheduler.step();
  const last = epoch === epochs;
  const r = testLoop(testLoader, model, lossFn, last ? confusion : undefined);
  history.testLoss.push(r.loss);
  history.accuracy.push(100 * r.accuracy);
  const m = memory();
  console.log(`memory after epoch ${epoch}: ${m.tensors} tensors, ${m.bytes} bytes (wasm ${m.wasmBytes})\n`);
}
const seconds = (performance.now() - started) / 1000;

const out = resolve(args.out);
await mkdir(out, { recursive: true });
const weightsPath = resolve(out, 'cnn-fashion-mnist.safetensors');
await writeFile(weightsPath, save(model.stateDict(), { source, epochs: String(epochs) }));
const picturePath = resolve(out, 'cnn-fashion-mnist.svg');
await writeFile(
  picturePath,
  svgDocument(1260, 520, [
    lineChart('Loss', [{ name: 'train', values: history.trainLoss, color: '#1f77b4' }, { name: 'test', values: history.testLoss, color: '#d62728' }], 0, 0, 400, 400, 'cross-entropy'),
    lineChart('Test accuracy', [{ name: 'accuracy %', values: history.accuracy, color: '#2ca02c' }], 400, 0, 400, 400, '%'),
    confusionMatrix(`Confusion matrix (test, epoch ${epochs})`, confusion, classes, 810, 0, 440),
  ]),
);
console.log(`trained in ${seconds.toFixed(1)} s; final test accuracy ${history.accuracy[epochs - 1]?.toFixed(1)}%`);
console.log(`weights: ${weightsPath}\npicture: ${picturePath}`);
