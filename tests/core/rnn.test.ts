// Recurrent layers and Embedding against PyTorch 1.13 (tests/fixtures/make_rnn_fixtures.py):
// RNN (tanh, relu), LSTM and GRU with 2 layers, batchFirst and bidirectional, loaded through
// loadStateDict — outputs, final states and the gradients of the input, the initial states and
// every parameter; variable lengths vs pack_padded_sequence; the cells; Embedding with
// paddingIdx. Then finite-difference checks of the fused op, a 1 000-step sequence, and bad input.

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/rnn.json' with { type: 'json' };
import { Tensor, tensor, zeros, randn, manualSeed, memory, tidy, FerrogradError, nn, F, optim } from '../../ts/index.js';
import { build, buildDict, expectClose, need, type Encoded, type EncodedDict } from './nn-fixture-helpers.js';
import { gradcheck, rnd } from './gradcheck-helper.js';
import { rnnLayer } from '../../ts/nn/rnn.js';

interface LayerCase {
  kind: string;
  numLayers: number;
  batchFirst: boolean;
  bidirectional: boolean;
  bias: boolean;
  inputSize: number;
  hiddenSize: number;
  lengths: number[] | null;
  x: Encoded;
  h0: Encoded;
  c0?: Encoded;
  stateDict: EncodedDict;
  wOut: Encoded;
  wH: Encoded;
  wC?: Encoded;
  out: Encoded;
  hN: Encoded;
  cN?: Encoded;
  gx: Encoded;
  gh0: Encoded;
  gc0?: Encoded;
  grads: EncodedDict;
}
interface CellCase {
  kind: string;
  inputSize: number;
  hiddenSize: number;
  x: Encoded;
  h: Encoded;
  c?: Encoded;
  stateDict: EncodedDict;
  wH: Encoded;
  wC?: Encoded;
  hOut: Encoded;
  cOut?: Encoded;
  gx: Encoded;
  gh: Encoded;
  gc?: Encoded;
  grads: EncodedDict;
}
interface Fixtures {
  layers: LayerCase[];
  lengths: LayerCase[];
  cells: CellCase[];
  embedding: { weight: Encoded; idx: Encoded; paddingIdx: number; w: Encoded; y: Encoded; gweight: Encoded };
}
const data: Fixtures = fixtures;

function makeLayer(c: LayerCase): nn.RNN | nn.LSTM | nn.GRU {
  const o = { numLayers: c.numLayers, batchFirst: c.batchFirst, bidirectional: c.bidirectional, bias: c.bias };
  switch (c.kind) {
    case 'LSTM': return new nn.LSTM(c.inputSize, c.hiddenSize, o);
    case 'GRU': return new nn.GRU(c.inputSize, c.hiddenSize, o);
    case 'RNN_tanh': return new nn.RNN(c.inputSize, c.hiddenSize, o);
    case 'RNN_relu': return new nn.RNN(c.inputSize, c.hiddenSize, { ...o, nonlinearity: 'relu' });
    default: throw new Error(`unknown kind ${c.kind}`);
  }
}

function caseName(c: LayerCase): string {
  return `${c.kind} layers=${c.numLayers} batchFirst=${c.batchFirst} bidirectional=${c.bidirectional}${c.bias ? '' : ' bias=false'}${c.lengths ? ` lengths=[${c.lengths.join(',')}]` : ''}`;
}

/** Runs the case through ferrograd and compares everything PyTorch stored. */
function checkLayer(c: LayerCase): void {
  tidy(() => {
    const m = makeLayer(c);
    m.loadStateDict(buildDict(c.stateDict));
    const x = build(c.x, true);
    const h0 = build(c.h0, true);
    const c0 = c.c0 ? build(c.c0, true) : null;
    const opts = c.lengths ? { lengths: c.lengths } : {};
    let out: Tensor;
    let hN: Tensor;
    let cN: Tensor | null = null;
    if (m instanceof nn.LSTM) {
      if (!c0) throw new Error('LSTM case without c0');
      [out, [hN, cN]] = m.forward(x, [h0, c0], opts);
    } else {
      [out, hN] = m.forward(x, h0, opts);
    }
    expectClose(out, c.out, 'output');
    expectClose(hN, c.hN, 'hN');
    let loss = out.mul(build(c.wOut)).sum().add(hN.mul(build(c.wH)).sum());
    if (cN && c.cN && c.wC) {
      expectClose(cN, c.cN, 'cN');
      loss = loss.add(cN.mul(build(c.wC)).sum());
    }
    loss.backward();
    expectClose(x.grad, c.gx, 'grad of input');
    expectClose(h0.grad, c.gh0, 'grad of h0');
    if (c0 && c.gc0) expectClose(c0.grad, c.gc0, 'grad of c0');
    const params = new Map(m.namedParameters());
    expect([...params.keys()].sort()).toEqual(Object.keys(c.grads).sort());
    for (const [k, p] of params) expectClose(p.grad, need(c.grads, k), `grad of ${k}`);
  });
}

describe('recurrent layers match PyTorch 1.13', () => {
  for (const c of data.layers) it(caseName(c), () => checkLayer(c));
});

describe('variable lengths match pack_padded_sequence', () => {
  for (const c of data.lengths) it(caseName(c), () => checkLayer(c));
});

describe('cells match PyTorch', () => {
  for (const c of data.cells) {
    it(c.kind, () => {
      tidy(() => {
        const x = build(c.x, true);
        const h = build(c.h, true);
        let hOut: Tensor;
        let cOut: Tensor | null = null;
        let cIn: Tensor | null = null;
        let m: nn.Module;
        if (c.kind === 'LSTMCell') {
          const cell = new nn.LSTMCell(c.inputSize, c.hiddenSize);
          cell.loadStateDict(buildDict(c.stateDict));
          if (!c.c) throw new Error('LSTMCell case without c');
          cIn = build(c.c, true);
          [hOut, cOut] = cell.forward(x, [h, cIn]);
          m = cell;
        } else {
          const cell = c.kind === 'GRUCell'
            ? new nn.GRUCell(c.inputSize, c.hiddenSize)
            : new nn.RNNCell(c.inputSize, c.hiddenSize, { nonlinearity: c.kind === 'RNNCell_relu' ? 'relu' : 'tanh' });
          cell.loadStateDict(buildDict(c.stateDict));
          hOut = cell.forward(x, h);
          m = cell;
        }
        expectClose(hOut, c.hOut, "h'");
        let loss = hOut.mul(build(c.wH)).sum();
        if (cOut && c.cOut && c.wC) {
          expectClose(cOut, c.cOut, "c'");
          loss = loss.add(cOut.mul(build(c.wC)).sum());
        }
        loss.backward();
        expectClose(x.grad, c.gx, 'grad of input');
        expectClose(h.grad, c.gh, 'grad of h');
        if (cIn && c.gc) expectClose(cIn.grad, c.gc, 'grad of c');
        for (const [k, p] of m.namedParameters()) expectClose(p.grad, need(c.grads, k), `grad of ${k}`);
      });
    });
  }
  it('unbatched cells and zero initial state', () => {
    const cell = new nn.GRUCell(3, 4);
    const h1 = cell.forward(randn([3]));
    expect(h1.shape).toEqual([4]);
    const [h2, c2] = new nn.LSTMCell(3, 4).forward(randn([2, 3]));
    expect(h2.shape).toEqual([2, 4]);
    expect(c2.shape).toEqual([2, 4]);
  });
});

describe('Embedding', () => {
  it('matches PyTorch, padding row returned as is with zero gradient', () => {
    const e = data.embedding;
    const emb = new nn.Embedding(6, 3, { paddingIdx: e.paddingIdx });
    emb.loadStateDict({ weight: build(e.weight) });
    const y = emb.forward(build(e.idx));
    expectClose(y, e.y, 'output');
    y.mul(build(e.w)).sum().backward();
    expectClose(emb.weight.grad, e.gweight, 'grad of weight');
  });
  it('initialises N(0, 1) with the padding row zeroed; F.embedding works without it', () => {
    manualSeed(3);
    const emb = new nn.Embedding(500, 8, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(499);
    const w = Array.from(emb.weight.data());
    expect(w.slice(499 * 8).every((v) => v === 0)).toBe(true);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
    const weight = randn([4, 2], { requiresGrad: true });
    const out = F.embedding(tensor([3, 3, 1], { dtype: 'int32' }), weight);
    out.sum().backward();
    expect(Array.from(weight.grad?.data() ?? [])).toEqual([0, 0, 1, 1, 0, 0, 2, 2]);
  });
  it('rejects bad indices and float input', () => {
    const emb = new nn.Embedding(4, 2);
    expect(() => emb.forward(tensor([4], { dtype: 'int32' }))).toThrow(FerrogradError);
    expect(() => emb.forward(tensor([1.5]))).toThrow(/int32/);
    expect(() => new nn.Embedding(4, 2, { paddingIdx: 4 })).toThrow(/paddingIdx/);
  });
});

describe('fused recurrent op: finite differences', () => {
  const [t, b, i, h] = [4, 3, 2, 3];
  for (const mode of ['tanh', 'lstm', 'gru'] as const) {
    const g = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    for (const reverse of [false, true]) {
      for (const lengths of [null, [4, 2, 1]]) {
        it(`${mode} reverse=${reverse} lengths=${lengths ? lengths.join(',') : 'none'}`, () => {
          const inputs = [rnd([t, b, i], -1, 1), rnd([b, h], -1, 1), rnd([g * h, i], -0.8, 0.8), rnd([g * h, h], -0.8, 0.8), rnd([g * h], -0.5, 0.5), rnd([g * h], -0.5, 0.5)];
          if (mode === 'lstm') inputs.push(rnd([b, h], -1, 1));
          gradcheck(
            (x, h0, wi, wh, bi, bh, c0) => rnnLayer(mode, x, h0, c0 ?? null, wi, wh, [bi, bh], reverse, lengths),
            inputs,
          );
        });
      }
    }
  }
});

describe('long sequences and memory', () => {
  it('a sequence of length 1 000 trains a step', () => {
    manualSeed(1);
    const lstm = new nn.LSTM(2, 8);
    const head = new nn.Linear(8, 1);
    const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-2 });
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      tidy(() => {
        const x = randn([1000, 2, 2]);
        const [out] = lstm.forward(x);
        const loss = head.forward(out).sub(x.narrow(2, 0, 1)).pow(2).mean();
        opt.zeroGrad();
        loss.backward();
        nn.utils.clipGradNorm_(lstm.parameters(), 1);
        opt.step();
        losses.push(loss.item());
      });
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    const g = lstm.parameters()[0].grad;
    expect(g && Array.from(g.data()).every(Number.isFinite)).toBe(true);
  });
  it('training steps keep memory flat', () => {
    const gru = new nn.GRU(3, 5, { numLayers: 2, bidirectional: true, batchFirst: true });
    const opt = new optim.SGD(gru.parameters(), { lr: 0.01 });
    const step = (): void => tidy(() => {
      const [out, hN] = gru.forward(randn([4, 6, 3]), null, { lengths: [6, 3, 5, 1] });
      opt.zeroGrad();
      out.sum().add(hN.sum()).backward();
      opt.step();
    });
    for (let k = 0; k < 3; k++) step();
    const before = memory();
    for (let k = 0; k < 20; k++) step();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });
});

describe('module structure and bad input', () => {
  it('names parameters as PyTorch and initialises U(±1/√H)', () => {
    manualSeed(0);
    const lstm = new nn.LSTM(3, 25, { numLayers: 2, bidirectional: true });
    expect(lstm.namedParameters().map(([k, p]) => `${k} ${p.shape.join('x')}`)).toEqual([
      'weight_ih_l0 100x3', 'weight_hh_l0 100x25', 'bias_ih_l0 100', 'bias_hh_l0 100',
      'weight_ih_l0_reverse 100x3', 'weight_hh_l0_reverse 100x25', 'bias_ih_l0_reverse 100', 'bias_hh_l0_reverse 100',
      'weight_ih_l1 100x50', 'weight_hh_l1 100x25', 'bias_ih_l1 100', 'bias_hh_l1 100',
      'weight_ih_l1_reverse 100x50', 'weight_hh_l1_reverse 100x25', 'bias_ih_l1_reverse 100', 'bias_hh_l1_reverse 100',
    ]);
    const all = lstm.parameters().flatMap((p) => Array.from(p.data()));
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(0.2);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.19);
    expect(lstm.toString()).toBe('LSTM(3, 25, num_layers=2, bidirectional=True)');
  });
  it('unbatched input, default states, dropout between layers', () => {
    const rnn = new nn.RNN(3, 4, { numLayers: 2, dropout: 0.5 });
    const [out, hN] = rnn.forward(randn([5, 3]));
    expect(out.shape).toEqual([5, 4]);
    expect(hN.shape).toEqual([2, 4]);
    rnn.eval();
    const x = randn([5, 2, 3]);
    const [a] = rnn.forward(x);
    const [b2] = rnn.forward(x);
    expect(Array.from(a.data())).toEqual(Array.from(b2.data()));
  });
  it('throws named errors instead of trapping', () => {
    const gru = new nn.GRU(3, 4, { batchFirst: true });
    expect(() => gru.forward(randn([2, 5, 4]))).toThrow(/GRU: input of shape \[2, 5, 4\] must end in inputSize=3/);
    expect(() => gru.forward(randn([2, 5, 3]), zeros([1, 3, 4]))).toThrow(/expected h0 of shape \[1, 2, 4\]/);
    expect(() => gru.forward(randn([2, 5, 3]), null, { lengths: [5, 6] })).toThrow(/every length must be an integer in \[0, 5\]/);
    expect(() => gru.forward(randn([2, 5, 3]), null, { lengths: [5] })).toThrow(/lengths has 1 entries/);
    expect(() => gru.forward(randn([5, 3, 3, 1]))).toThrow(FerrogradError);
    expect(() => gru.forward(tensor([[[1, 2, 3]]], { dtype: 'int32' }))).toThrow(/float32/);
    expect(() => new nn.LSTM(3, 0)).toThrow(/hiddenSize/);
    expect(() => new nn.RNN(3, 4, { dropout: 2 })).toThrow(/dropout/);
    expect(() => rnnLayer('lstm', randn([2, 1, 3]), zeros([1, 4]), null, randn([16, 3]), randn([16, 4]), null, false, null)).toThrow(/lstm: LSTM needs an initial cell state/);
    expect(() => rnnLayer('gru', randn([2, 1, 3]), zeros([1, 4]), null, randn([12, 2]), randn([12, 4]), null, false, null)).toThrow(/gru: weight_ih must be \[12, 3\]/);
  });
  it('padSequence pads and reports lengths', () => {
    const [x, lengths] = nn.padSequence([tensor([[1], [2], [3]]), tensor([[4]])], { batchFirst: true });
    expect(x.toArray()).toEqual([[[1], [2], [3]], [[4], [0], [0]]]);
    expect(lengths).toEqual([3, 1]);
  });
});
