// The lecture's CNN as the benchmarks and profiles run it (conv 1→10 k5, ReLU, max-pool 2,
// conv 10→20 k5, ReLU, max-pool 2, dropout 0.25, fc 320→100, ReLU, fc 100→10), one definition
// for all of them; the layers are fields so that a profile can time each on its own.
// bench/data-parallel.ts keeps its own copy: its workers load the built package (dist/).
import { nn, type Tensor } from '../ts/index.js';

export class LectureCnn extends nn.Module {
  conv1 = new nn.Conv2d(1, 10, 5);
  pool1 = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(10, 20, 5);
  pool2 = new nn.MaxPool2d(2, 2);
  dropout = new nn.Dropout(0.25);
  fc1 = new nn.Linear(320, 100);
  fc2 = new nn.Linear(100, 10);
  forward(x: Tensor): Tensor {
    x = this.pool1.forward(this.conv1.forward(x).relu());
    x = this.pool2.forward(this.conv2.forward(x).relu());
    x = this.dropout.forward(x.flatten(1));
    x = this.fc1.forward(x).relu();
    return this.fc2.forward(x);
  }
}
