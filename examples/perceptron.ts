// The lecture's perceptron example: η = 0.9, w starts at 0, the four points
// (x0 is the constant-1 bias input) are visited in order three times. Prints the
// lecture's table row by row: x0 x1 x2, true label, w before, predicted, w after.
//
//   npm run example perceptron

import { tensor, models } from 'ferrograd';

const points: [number[], number][] = [
  [[1, 0, 1], 1],
  [[1, 1, 1], -1],
  [[1, 0, 0], 1],
  [[1, 1, 0], 1],
];
const label = (y: number): string => (y === 1 ? 'Y' : 'N');
const fmt = (w: ArrayLike<number>): string => `(${Array.from(w, (v) => (Math.abs(v) < 1e-6 ? 0 : v).toFixed(1)).join(', ')})`;

const p = new models.Perceptron(3, { lr: 0.9, bias: false });
console.log('x0\tx1\tx2\ttrue label\tw before update\tpredicted label\tw after update');
for (let pass = 0; pass < 3; pass++) {
  for (const [x, y] of points) {
    const before = fmt(p.weight.data());
    const { predicted } = p.step(tensor(x, { dtype: 'float32' }), y);
    console.log(`${x.join('\t')}\t${label(y)}\t${before}\t${label(predicted)}\t${fmt(p.weight.data())}`);
  }
}
