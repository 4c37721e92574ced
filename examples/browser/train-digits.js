// The training script of the demo. It runs inside a worker started by trainInWorker():
// it builds the model, trains it on the bundled UCI digits and reports each batch.
// main.js imports makeModel() from here too, to rebuild the model from the state dict.
import { nn, optim, data, manualSeed, noGrad } from '../../dist/index.js';
import * as datasets from '../../dist/datasets.js';

/** A small CNN for 8×8 digits: two conv blocks, then a linear classifier. */
export function makeModel() {
  return new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }), // [N, 16, 8, 8]
    new nn.ReLU(),
    new nn.MaxPool2d(2), // [N, 16, 4, 4]
    new nn.Conv2d(16, 32, 3, { padding: 1 }), // [N, 32, 4, 4]
    new nn.ReLU(),
    new nn.MaxPool2d(2), // [N, 32, 2, 2]
    new nn.Flatten(),
    new nn.Dropout(0.2),
    new nn.Linear(128, 10),
  );
}

const TEST_SIZE = 297; // the last 297 of 1 797 digits are held out

/** Accuracy of `model` (eval mode) on images/labels. */
function accuracy(model, images, labels) {
  model.eval();
  const acc = noGrad(() => model.forward(images).argmax(1).eq(labels).float().mean().item());
  model.train();
  return acc;
}

/** trainInWorker's entry: ctx.args = { epochs, batchSize, lr, seed }. */
export async function train(ctx) {
  const { epochs = 12, batchSize = 32, lr = 0.05, seed = 0 } = ctx.args ?? {};
  manualSeed(seed);
  const digits = new datasets.Digits();
  const n = digits.images.shape[0] - TEST_SIZE;
  const trainX = digits.images.narrow(0, 0, n);
  const trainY = digits.targets.narrow(0, 0, n);
  const testX = digits.images.narrow(0, n, TEST_SIZE);
  const testY = digits.targets.narrow(0, n, TEST_SIZE);
  const loader = new data.DataLoader(new data.TensorDataset(trainX, trainY), { batchSize, shuffle: true });

  const model = makeModel();
  const lossFn = new nn.CrossEntropyLoss();
  const opt = new optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  // Cosine-annealed learning rate: big steps early, small ones at the end, so the last
  // epochs settle instead of bouncing around (held-out accuracy varied by ±3 points).
  const schedule = new optim.CosineAnnealingLR(opt, { tMax: epochs });
  for (let epoch = 0; epoch < epochs; epoch++) {
    let batch = 0;
    for (const [xb, yb] of loader) {
      const loss = lossFn.forward(model.forward(xb), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      ctx.report({ epoch, batch: batch++, loss: loss.item(), examples: xb.shape[0] });
      ctx.throwIfAborted();
    }
    ctx.report({
      epoch,
      batch,
      loss: NaN,
      metrics: { trainAccuracy: accuracy(model, trainX, trainY), testAccuracy: accuracy(model, testX, testY) },
    });
    schedule.step();
    // Lets an abort message in when the page is not cross-origin isolated.
    await ctx.checkpoint();
  }
  return model;
}
