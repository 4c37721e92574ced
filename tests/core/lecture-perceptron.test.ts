// The lecture's perceptron table, transcribed from the slides, reproduced exactly.
import { describe, expect, it } from 'vitest';
import { tensor, models, nn, optim, tidy } from '../../ts/index.js';

// x0 x1 x2 | true label | w before | predicted | w after  (η = 0.9)
const LECTURE_TABLE = `
1 0 1 Y (0.0, 0.0, 0.0) N (0.9, 0.0, 0.9)
1 1 1 N (0.9, 0.0, 0.9) Y (0.0, -0.9, 0.0)
1 0 0 Y (0.0, -0.9, 0.0) N (0.9, -0.9, 0.0)
1 1 0 Y (0.9, -0.9, 0.0) N (1.8, 0.0, 0.0)
1 0 1 Y (1.8, 0.0, 0.0) Y (1.8, 0.0, 0.0)
1 1 1 N (1.8, 0.0, 0.0) Y (0.9, -0.9, -0.9)
1 0 0 Y (0.9, -0.9, -0.9) Y (0.9, -0.9, -0.9)
1 1 0 Y (0.9, -0.9, -0.9) N (1.8, 0.0, -0.9)
1 0 1 Y (1.8, 0.0, -0.9) Y (1.8, 0.0, -0.9)
1 1 1 N (1.8, 0.0, -0.9) Y (0.9, -0.9, -1.8)
1 0 0 Y (0.9, -0.9, -1.8) Y (0.9, -0.9, -1.8)
1 1 0 Y (0.9, -0.9, -1.8) N (1.8, 0.0, -1.8)`
  .trim()
  .split('\n');

const POINTS: [number[], number][] = [
  [[1, 0, 1], 1],
  [[1, 1, 1], -1],
  [[1, 0, 0], 1],
  [[1, 1, 0], 1],
];
const label = (y: number): string => (y === 1 ? 'Y' : 'N');
const fmt = (w: ArrayLike<number>): string => `(${Array.from(w, (v) => (Math.abs(v) < 1e-6 ? 0 : v).toFixed(1)).join(', ')})`;

describe("the lecture's perceptron", () => {
  it('reproduces the table row by row', () => {
    const p = new models.Perceptron(3, { lr: 0.9, bias: false });
    const rows: string[] = [];
    for (let pass = 0; pass < 3; pass++) {
      for (const [x, y] of POINTS) {
        const before = fmt(p.weight.data());
        const { predicted } = p.step(tensor(x, { dtype: 'float32' }), y);
        rows.push(`${x.join(' ')} ${label(y)} ${before} ${label(predicted)} ${fmt(p.weight.data())}`);
      }
    }
    expect(rows).toEqual(LECTURE_TABLE);
  });

  it('equals Linear + PerceptronLoss + SGD with batch size 1', () => {
    const lin = new nn.Linear(3, 1, { bias: false });
    nn.init.zeros_(lin.weight);
    const lossFn = new nn.PerceptronLoss();
    const opt = new optim.SGD(lin.parameters(), { lr: 0.9 });
    const after: string[] = [];
    for (let pass = 0; pass < 3; pass++) {
      for (const [x, y] of POINTS) {
        tidy(() => {
          opt.zeroGrad();
          lossFn.forward(lin.forward(tensor([x], { dtype: 'float32' })).reshape([1]), tensor([y], { dtype: 'float32' })).backward();
          opt.step();
        });
        after.push(fmt(lin.weight.data()));
      }
    }
    expect(after).toEqual(LECTURE_TABLE.map((r) => r.slice(r.lastIndexOf('('))));
  });
});
