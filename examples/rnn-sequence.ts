// The lecture's recurrent network, s_t = f(W s_{t−1} + U x_t), o_t = g(V s_t), written out by
// hand as a tiny module (a loop of matmuls and tanh whose graph autograd unrolls through
// time), next to nn.RNN (one fused op per layer that runs the whole sequence and does
// backpropagation through time inside). Both learn to predict the next value of a noisy
// sine wave from the values so far; with the same weights they compute the same function.
//
//   npm run example rnn-sequence -- --steps 300 --hidden 16

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { nn, optim, manualSeed, noGrad, tidy, memory, randn, zeros, arange, stack, type Tensor } from 'ferrograd';
import { lineChart, svgDocument } from './lib/svg.js';
import { parseArgs, numberFlag } from './lib/args.js';

const args = parseArgs('Two RNNs (hand-written and nn.RNN) learn a noisy sine wave.', [
  { name: 'steps', help: 'training steps per model', default: '300' },
  { name: 'hidden', help: 'state size', default: '16' },
  { name: 'window', help: 'sequence length of a training example', default: '40' },
  { name: 'noise', help: 'standard deviation of the noise', default: '0.1' },
  { name: 'seed', help: 'random seed', default: '0' },
  { name: 'out', help: 'output folder', default: 'out' },
]);
manualSeed(numberFlag(args, 'seed', true));
const H = numberFlag(args, 'hidden', true);
const T = numberFlag(args, 'window', true);
const noise = numberFlag(args, 'noise');
const steps = numberFlag(args, 'steps', true);

/** `[batch, T + 1, 1]` windows of sin(ω t + φ) + noise, random phases; input = first T, target = last T. */
function batch(b: number): [Tensor, Tensor] {
  const phase = randn([b, 1, 1]).mul(3);
  const t = arange(0, T + 1, 1, { dtype: 'float32' }).reshape([1, T + 1, 1]);
  const wave = t.mul(0.3).add(phase).sin().add(randn([b, T + 1, 1]).mul(noise));
  return [wave.narrow(1, 0, T), wave.narrow(1, 1, T)];
}

/** s_t = tanh(W s_{t−1} + U x_t + b), o_t = V s_t + c: the lecture's formula, one step at a time. */
class LectureRNN extends nn.Module {
  W = new nn.Parameter(randn([H, H]).mul(1 / Math.sqrt(H)));
  U = new nn.Parameter(randn([H, 1]).mul(0.5));
  b = new nn.Parameter(zeros([H]));
  V = new nn.Linear(H, 1);

  forward(x: Tensor): Tensor {
    const [bsz, t] = x.shape;
    let s = zeros([bsz, H]);
    const outs: Tensor[] = [];
    for (let k = 0; k < t; k++) {
      const xt = x.select(1, k); // [B, 1]
      s = s.matmul(this.W.t()).add(xt.matmul(this.U.t())).add(this.b).tanh();
      outs.push(this.V.forward(s));
    }
    return stack(outs, 1); // [B, T, 1]
  }
}

/** nn.RNN (one fused op over the whole window) with the same readout. */
class LibraryRNN extends nn.Module {
  rnn = new nn.RNN(1, H, { batchFirst: true });
  V = new nn.Linear(H, 1);
  forward(x: Tensor): Tensor {
    const [out] = this.rnn.forward(x);
    return this.V.forward(out);
  }
}

// With nn.RNN's weights copied in (W = weight_hh, U = weight_ih, b = bias_ih + bias_hh) the
// hand-written loop gives the same outputs: the two are one formula.
const lecture = new LectureRNN();
const library = new LibraryRNN();
const check = noGrad(() => {
  const copy = new LectureRNN();
  const sd = library.stateDict();
  const pick = (k: string): Tensor => {
    const t = sd[k];
    if (!t) throw new Error(`missing ${k}`);
    return t;
  };
  copy.loadStateDict({
    W: pick('rnn.weight_hh_l0'), U: pick('rnn.weight_ih_l0'), b: pick('rnn.bias_ih_l0').add(pick('rnn.bias_hh_l0')),
    'V.weight': pick('V.weight'), 'V.bias': pick('V.bias'),
  });
  const [x] = batch(4);
  return copy.forward(x).sub(library.forward(x)).abs().max().item();
});
console.log(`same weights, same function: max |hand-written − nn.RNN| = ${check.toExponential(2)}`);

function train(name: string, model: nn.Module): { curve: number[]; ms: number; memory: number[] } {
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.MSELoss();
  const curve: number[] = [];
  const mem: number[] = [];
  const t0 = performance.now();
  let sum = 0;
  for (let step = 1; step <= steps; step++) {
    sum += tidy(() => {
      const [x, y] = batch(32);
      const loss = lossFn.forward(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      nn.utils.clipGradNorm_(model.parameters(), 1);
      opt.step();
      return loss.item();
    });
    // One point per tenth of training, averaged over its steps.
    if (step % Math.max(1, Math.floor(steps / 10)) === 0) {
      curve.push(sum / Math.max(1, Math.floor(steps / 10)));
      sum = 0;
      mem.push(memory().bytes);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `${name.padEnd(22)} loss ${curve[0].toFixed(4)} → ${curve[curve.length - 1].toFixed(4)} (noise floor ${(noise * noise).toFixed(4)}), ${(ms / steps).toFixed(1)} ms/step`,
  );
  return { curve, ms, memory: mem };
}

const a = train('hand-written (lecture)', lecture);
const b = train('nn.RNN (fused)', library);
console.log(`live bytes during training stay flat: ${[...a.memory, ...b.memory].map((m) => (m / 1024).toFixed(0)).join(', ')} KiB`);

// Predictions on one fresh noisy wave.
const [x, y, pa, pb] = noGrad(() => {
  const [xs, ys] = batch(1);
  return [xs, ys, lecture.forward(xs), library.forward(xs)].map((t) => Array.from(t.data()));
});
void x;
const panelW = 560;
const panelH = 300;
const px = (i: number): number => 620 + 56 + (i * (panelW - 70)) / (T - 1);
const py = (v: number): number => 40 + ((1.5 - v) / 3) * (panelH - 80);
const line = (vs: number[], color: string, dash = ''): string =>
  `<polyline points="${vs.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`;
const predPanel = [
  `<text x="${620 + panelW / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">next-value predictions on a fresh noisy wave</text>`,
  ...[-1, 0, 1].map((v) => `<line x1="${px(0)}" x2="${px(T - 1)}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/><text x="${px(0) - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${v}</text>`),
  ...y.map((v, i) => `<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="#999"/>`),
  line(pa, '#d62728'),
  line(pb, '#1f77b4', '6 3'),
  `<text x="${px(0)}" y="${panelH - 12}" font-size="11" fill="#999">● noisy target</text>`,
  `<text x="${px(0) + 110}" y="${panelH - 12}" font-size="11" fill="#d62728">— hand-written</text>`,
  `<text x="${px(0) + 220}" y="${panelH - 12}" font-size="11" fill="#1f77b4">- - nn.RNN</text>`,
];
const svg = svgDocument(1200, panelH, [
  lineChart('training loss (MSE), per tenth of training', [
    { name: 'hand-written', values: a.curve, color: '#d62728' },
    { name: 'nn.RNN', values: b.curve, color: '#1f77b4' },
  ], 0, 0, 600, panelH, 'MSE'),
  ...predPanel,
]);
const outDir = resolve(args.out);
await mkdir(outDir, { recursive: true });
await writeFile(resolve(outDir, 'rnn-sequence.svg'), svg);
console.log(`nn.RNN trained ${(a.ms / b.ms).toFixed(1)}× faster than the hand-written loop; wrote ${resolve(outDir, 'rnn-sequence.svg')}`);
