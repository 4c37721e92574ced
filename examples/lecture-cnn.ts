// The lecture's CNN class with its forward filled in, the 5×5 convolution example
// (its convolved feature starts with 4), and a few training steps on the UCI digits
// scaled to 28×28 to show it learns.
//
//   npm run example lecture-cnn

import { nn, optim, tensor, randn, F, manualSeed, noGrad, data, type Tensor } from 'ferrograd';
import { loadImageData } from './lib/image-data.js';

class CNN extends nn.Module {
  // activation function is omitted in the slide; ReLU after each conv and fc1 here
  // assume the input image is 1*28*28
  conv1 = new nn.Conv2d(1, 10, 5); // Conv2d(in_channels, out_channels, kernel_size)
  pool1 = new nn.MaxPool2d(2, 2); // MaxPool2d(kernel_size, stride)
  conv2 = new nn.Conv2d(10, 20, 5);
  pool2 = new nn.MaxPool2d(2, 2);
  dropout = new nn.Dropout(0.25);
  // now the feature shape is 20*4*4
  fc1 = new nn.Linear(20 * 4 * 4, 100);
  fc2 = new nn.Linear(100, 10);

  forward(x: Tensor): Tensor {
    x = this.pool1.forward(this.conv1.forward(x).relu()); // [N, 10, 12, 12]
    x = this.pool2.forward(this.conv2.forward(x).relu()); // [N, 20, 4, 4]
    x = this.dropout.forward(x.flatten(1)); // [N, 320]
    x = this.fc1.forward(x).relu(); // [N, 100]
    return this.fc2.forward(x); // [N, 10]
  }
}

// The slide's convolution: a 5×5 binary image and a 3×3 filter.
const image = tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], { dtype: 'float32' });
const filter = tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]], { dtype: 'float32' });
const feature = F.conv2d(image.reshape([1, 1, 5, 5]), filter.reshape([1, 1, 3, 3])).reshape([3, 3]);
console.log('convolved feature of the 5×5 example:', JSON.stringify(feature.toArray()));

manualSeed(0);
const model = new CNN();
console.log(model.toString());
console.log(`parameters: ${model.parameters().reduce((n, p) => n + p.numel(), 0)}`);
console.log('output shape for a batch of 4:', model.forward(randn([4, 1, 28, 28])).shape);

const { train, source } = await loadImageData('/usr/share/datasets/fashion-mnist');
const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true });
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const lossFn = new nn.CrossEntropyLoss();
let step = 0;
for (const [x, y] of loader) {
  const loss = lossFn.forward(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  if (step % 50 === 0) console.log(`step ${step}: loss ${loss.item().toFixed(4)} (${source})`);
  if (++step === 201) break;
}
model.eval();
const [xb, yb] = train.get(0);
noGrad(() => console.log(`first training image: label ${yb.item()}, predicted ${model.forward(xb.unsqueeze(0)).argmax(1).item()}`));
