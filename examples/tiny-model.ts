// The lecture's TinyModel, train_loop and test_loop, line for line, on the bundled
// UCI digits (each 8×8 image padded with a blank border to 10×10 = 100 features,
// the TinyModel's input size).
//
//   npm run example tiny-model -- --epochs 20 --lr 0.5

import { nn, optim, data, manualSeed, noGrad, F, type Tensor } from 'ferrograd';
import * as datasets from 'ferrograd/datasets';
import { parseArgs, numberFlag } from './lib/args.js';

const args = parseArgs('Train the lecture TinyModel on the UCI digits.', [
  { name: 'epochs', help: 'passes over the training set', default: '20' },
  { name: 'lr', help: 'learning rate (the lecture uses 1e-3)', default: '0.5' },
  { name: 'seed', help: 'random seed', default: '0' },
]);

class TinyModel extends nn.Module {
  // define each layer of the NN
  linear1 = new nn.Linear(100, 200);
  activation = new nn.ReLU();
  linear2 = new nn.Linear(200, 10);
  softmax = new nn.Softmax(1);

  // define the forward pass.
  forward(x: Tensor): Tensor {
    x = this.linear1.forward(x);
    x = this.activation.forward(x);
    x = this.linear2.forward(x);
    x = this.softmax.forward(x);
    return x;
  }
}

// Define the train loop to optimize our model
function trainLoop(dataloader: data.DataLoader, model: nn.Module, lossFn: nn.CrossEntropyLoss, optimizer: optim.SGD): void {
  for (const [X, y] of dataloader) {
    // Compute prediction and loss
    const pred = model.forward(X);
    const loss = lossFn.forward(pred, y);
    // Backpropagation
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
}

function testLoop(dataloader: data.DataLoader, model: nn.Module, lossFn: nn.CrossEntropyLoss): number {
  const size = dataloader.dataset.length;
  const numBatches = dataloader.length;
  let testLoss = 0;
  let correct = 0;
  noGrad(() => {
    // no need to compute gradients
    for (const [X, y] of dataloader) {
      const pred = model.forward(X);
      // item function return a float number
      testLoss += lossFn.forward(pred, y).item();
      correct += pred.argmax(1).eq(y).float().sum().item();
    }
  });
  testLoss /= numBatches;
  correct /= size;
  console.log(`Test Error: \n Accuracy: ${(100 * correct).toFixed(1)}%, \n Avg loss: ${testLoss.toFixed(6)} \n`);
  return correct;
}

manualSeed(numberFlag(args, 'seed', true));
const digits = new datasets.Digits();
// [N, 1, 8, 8] → pad one blank pixel on every side → [N, 100]
const X = F.pad(digits.images, [1, 1, 1, 1]).flatten(1);
const [trainingData, testData] = data.randomSplit(new data.TensorDataset(X, digits.targets), [0.8, 0.2]);

// Create a TinyModel instance
const model = new TinyModel();
// Initialize the loss function
const lossFn = new nn.CrossEntropyLoss();
// Initialize the optimizer
const learningRate = numberFlag(args, 'lr');
const batchSize = 64;
const trainDataloader = new data.DataLoader(trainingData, { batchSize, shuffle: true });
const testDataloader = new data.DataLoader(testData, { batchSize });
const optimizer = new optim.SGD(model.parameters(), { lr: learningRate });

const epochs = numberFlag(args, 'epochs', true);
for (let t = 0; t < epochs; t++) {
  console.log(`Epoch ${t + 1}\n-------------------------------`);
  trainLoop(trainDataloader, model, lossFn, optimizer);
  testLoop(testDataloader, model, lossFn);
}
console.log('Done!');
