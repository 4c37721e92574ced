// Convolution, pooling, BatchNorm and the lecture's CNN against PyTorch 1.13 (fixtures from
// tests/fixtures/make_conv_fixtures.py), gradients by finite differences, and bad input.

import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/conv.json' with { type: 'json' };
import { Tensor, tensor, fromArray, ones, randn, noGrad, tidy, nn, F, FerrogradError, manualSeed } from '../../ts/index.js';
import { gradcheck, rnd, distinct } from './gradcheck-helper.js';

interface Encoded {
  shape: number[];
  dtype: string;
  values: number[];
}
interface Packed {
  shape: number[];
  base64: string;
}

function bytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
/** Little-endian float32, as the fixture writes it (every engine we run on is little-endian). */
const floats = (s: string): Float32Array => new Float32Array(bytes(s).buffer);

function build(e: Encoded, requiresGrad = false): Tensor {
  return tensor(e.values, { shape: e.shape, dtype: e.dtype === 'int32' ? 'int32' : 'float32', requiresGrad });
}
const unpack = (p: Packed, requiresGrad = false): Tensor => tensor(floats(p.base64), { shape: p.shape, requiresGrad });

/**
 * Elementwise |got − want| ≤ rtol·max(|want|, max|want|/10): relative, with a floor at a tenth
 * of the tensor's scale so that float32 sums that cancel to near 0 are not held to 1e-4 of 0.
 */
function expectClose(actual: Tensor | null, want: { shape: number[]; values: ArrayLike<number> }, label: string, rtol = 1e-4, every = 1): void {
  expect(actual, `${label}: missing`).not.toBeNull();
  if (actual === null) return;
  if (every === 1) expect(actual.shape, `${label}: shape`).toEqual(want.shape);
  const all = actual.data();
  const got = every === 1 ? Array.from(all) : Array.from(all).filter((_, i) => i % every === 0);
  expect(got.length, `${label}: element count`).toBe(want.values.length);
  let scale = 0;
  for (let i = 0; i < want.values.length; i++) scale = Math.max(scale, Math.abs(want.values[i]));
  const bad: string[] = [];
  for (let i = 0; i < want.values.length; i++) {
    const w = want.values[i];
    if (!(Math.abs(got[i] - w) <= rtol * Math.max(Math.abs(w), scale / 10) + 1e-12) && bad.length < 5) bad.push(`[${i}] got ${got[i]}, want ${w}`);
  }
  expect(bad, `${label}: mismatches`).toEqual([]);
}

type ConvOpts = F.Conv2dOptions;
type PoolOpts = F.MaxPool2dOptions & F.AvgPool2dOptions;

/** JSON gives `number[]` where the options want pairs; this checks and narrows them. */
function asPair(v: unknown): number | [number, number] | undefined {
  if (v === undefined || typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  throw new Error(`fixture has a bad size ${JSON.stringify(v)}`);
}
function convOptions(o: Record<string, unknown>): ConvOpts {
  const padding = o.padding === 'same' || o.padding === 'valid' ? o.padding : asPair(o.padding);
  return { stride: asPair(o.stride), padding, dilation: asPair(o.dilation), groups: typeof o.groups === 'number' ? o.groups : undefined };
}
function poolOptions(o: Record<string, unknown>): PoolOpts {
  return {
    stride: asPair(o.stride),
    padding: asPair(o.padding),
    dilation: asPair(o.dilation),
    ceilMode: o.ceilMode === true,
    countIncludePad: o.countIncludePad !== false,
  };
}

describe('conv2d matches PyTorch', () => {
  for (const c of fixtures.conv) {
    it(`${c.name}: output and grads of input, weight, bias`, () => {
      tidy(() => {
        const x = build(c.x, true);
        const w = build(c.w, true);
        const b = c.b ? build(c.b, true) : null;
        const y = F.conv2d(x, w, b, convOptions(c.options));
        expectClose(y, c.y, 'output');
        y.backward(build(c.gy));
        expectClose(x.grad, c.gx, 'input grad');
        expectClose(w.grad, c.gw, 'weight grad');
        if (b && c.gb) expectClose(b.grad, c.gb, 'bias grad');
        expect(y.gradFn).toBe('ConvolutionBackward');
      });
    });
  }
});

describe('pooling matches PyTorch', () => {
  for (const c of fixtures.pool) {
    it(`${c.name}: output${c.kind === 'max' ? ', indices' : ''} and input grad`, () => {
      tidy(() => {
        const x = build(c.x, true);
        const kernel = asPair(c.kernel) ?? 1;
        const o = poolOptions(c.options);
        let y: Tensor;
        if (c.kind === 'max') {
          const [v, idx] = F.maxPool2dWithIndices(x, kernel, o);
          if (!c.indices) throw new Error('max case without indices');
          expect(idx.dtype).toBe('int32');
          expect(Array.from(idx.data()), 'indices').toEqual(c.indices.values);
          // Without a graph the core skips the indices; the values are the same, bit for bit.
          const inference = noGrad(() => F.maxPool2d(x, kernel, o));
          expect(Array.from(inference.data()), 'values without indices').toEqual(Array.from(v.data()));
          y = v;
        } else {
          y = F.avgPool2d(x, kernel, o);
        }
        expectClose(y, c.y, 'output');
        y.backward(build(c.gy));
        expectClose(x.grad, c.gx, 'input grad');
      });
    });
  }

  it('a NaN wins its window, as in PyTorch, in the vectorised row sweep and its tail', () => {
    tidy(() => {
      // Two rows of 18: nine 2×2 windows, the first eight four at a time, the last one alone.
      const values = Array.from({ length: 36 }, (_, i) => i % 7);
      values[18 + 5] = NaN; // window 2, second row
      values[17] = NaN; // window 8 (the tail), first row
      values[6] = NaN; // window 3 holds two NaNs: the later one (25) wins, as PyTorch's
      values[25] = NaN; // `val > maxval || isnan(val)` takes every NaN it meets
      const [v, idx] = F.maxPool2dWithIndices(tensor(values).reshape([1, 1, 2, 18]), 2);
      const out = Array.from(v.data());
      expect(Number.isNaN(out[2]) && Number.isNaN(out[3]) && Number.isNaN(out[8])).toBe(true);
      expect(Array.from(noGrad(() => F.maxPool2d(tensor(values).reshape([1, 1, 2, 18]), 2)).data())).toEqual(out);
      expect(Array.from(idx.data())).toEqual([19, 20, 23, 25, 27, 11, 13, 33, 17]);
    });
  });

  for (const c of fixtures.adaptive) {
    it(`adaptive_avg_pool2d ${c.name}`, () => {
      tidy(() => {
        const x = build(c.x, true);
        const out = c.outputSize;
        const size: F.AdaptiveSize = typeof out === 'number' ? out : [out[0], out[1]];
        const y = F.adaptiveAvgPool2d(x, size);
        expectClose(y, c.y, 'output');
        y.backward(build(c.gy));
        expectClose(x.grad, c.gx, 'input grad');
      });
    });
  }
});

describe('BatchNorm matches PyTorch', () => {
  const bnData = fixtures.batchnorm;
  it('BatchNorm2d: two training steps (outputs, grads, running stats), then eval', () => {
    tidy(() => {
      const bn = new nn.BatchNorm2d(3);
      const state: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(bnData.state)) state[k] = build(v);
      expect(Object.keys(bn.stateDict()).sort()).toEqual(Object.keys(state).sort());
      bn.loadStateDict(state);
      bn.train();
      for (const [i, s] of bnData.steps.entries()) {
        bn.zeroGrad();
        const x = build(s.x, true);
        const y = bn.forward(x);
        expectClose(y, s.y, `step ${i} output`);
        y.backward(build(s.gy));
        expectClose(x.grad, s.gx, `step ${i} input grad`, 2e-4);
        expectClose(bn.weight?.grad ?? null, s.gweight, `step ${i} weight grad`);
        expectClose(bn.bias?.grad ?? null, s.gbias, `step ${i} bias grad`);
      }
      const sd = bn.stateDict();
      expectClose(sd.running_mean, bnData.running.running_mean, 'running_mean');
      expectClose(sd.running_var, bnData.running.running_var, 'running_var');
      expect(sd.num_batches_tracked.dtype).toBe('int32');
      expect(sd.num_batches_tracked.item()).toBe(bnData.running.num_batches_tracked.values[0]);
      bn.eval();
      expectClose(bn.forward(build(bnData.eval.x)), bnData.eval.y, 'eval output');
    });
  });

  it('BatchNorm1d: training output and running stats', () => {
    tidy(() => {
      const bn = new nn.BatchNorm1d(4);
      expectClose(bn.forward(build(bnData.bn1d.x)), bnData.bn1d.y, 'output');
      expectClose(bn.runningMean, bnData.bn1d.running_mean, 'running_mean');
      expectClose(bn.runningVar, bnData.bn1d.running_var, 'running_var');
    });
  });

  it('checks its input', () => {
    const bn = new nn.BatchNorm2d(3);
    expect(() => bn.forward(ones([2, 3, 4]))).toThrow('BatchNorm2d: expected 4D input (got 3D input');
    expect(() => bn.forward(ones([2, 4, 3, 3]))).toThrow('has 4 channels in dim 1, expected 3');
    expect(() => bn.forward(ones([1, 3, 1, 1]))).toThrow('expected more than 1 value per channel when training');
    expect(() => new nn.BatchNorm1d(2).forward(ones([2, 2, 2, 2]))).toThrow('BatchNorm1d: expected 2D or 3D input');
  });

  it('without running stats uses batch statistics in eval and has no buffers', () => {
    tidy(() => {
      const bn = new nn.BatchNorm2d(2, { trackRunningStats: false, affine: false });
      expect(Object.keys(bn.stateDict())).toEqual([]);
      bn.eval();
      const y = bn.forward(randn([3, 2, 4, 4]));
      const m = y.mean([0, 2, 3]).data();
      for (const v of m) expect(Math.abs(v)).toBeLessThan(1e-5);
    });
  });
});

class CNN extends nn.Module {
  conv1 = new nn.Conv2d(1, 10, 5);
  pool1 = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(10, 20, 5);
  pool2 = new nn.MaxPool2d(2, 2);
  dropout = new nn.Dropout(0.25);
  fc1 = new nn.Linear(20 * 4 * 4, 100);
  fc2 = new nn.Linear(100, 10);
  forward(x: Tensor): Tensor {
    x = this.pool1.forward(F.relu(this.conv1.forward(x)));
    x = this.pool2.forward(F.relu(this.conv2.forward(x)));
    x = this.dropout.forward(x);
    x = x.view(-1, 20 * 4 * 4);
    x = F.relu(this.fc1.forward(x));
    return this.fc2.forward(x);
  }
}

describe("the lecture's CNN", () => {
  it('loads PyTorch weights; output, loss and every parameter grad match', () => {
    tidy(() => {
      const cnn = fixtures.cnn;
      const model = new CNN();
      const state: Record<string, Tensor> = {};
      for (const [k, w] of Object.entries(cnn.weights)) {
        const q = new Int8Array(bytes(w.int8_base64).buffer);
        state[k] = fromArray(Array.from(q, (v) => v / w.scale), w.shape);
      }
      expect(Object.keys(model.stateDict())).toEqual(Object.keys(state));
      model.loadStateDict(state);
      model.eval();
      const out = model.forward(unpack(cnn.x));
      expectClose(out, { shape: cnn.out.shape, values: floats(cnn.out.base64) }, 'output');
      const loss = F.crossEntropy(out, build(cnn.target));
      expect(Math.abs(loss.item() - cnn.loss)).toBeLessThan(1e-4 * Math.abs(cnn.loss));
      loss.backward();
      const params = new Map(model.namedParameters());
      for (const [k, g] of Object.entries(cnn.grads)) {
        const p = params.get(k);
        expectClose(p?.grad ?? null, { shape: g.shape, values: floats(g.base64) }, `${k} grad`, 1e-4, g.every);
      }
    });
  });

  it('trains: the shapes flow and the loss falls on a fixed batch', () => {
    tidy(() => {
      manualSeed(3);
      const model = new CNN();
      const x = randn([8, 1, 28, 28]);
      const target = tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        tidy(() => {
          model.zeroGrad();
          const loss = F.crossEntropy(model.forward(x), target);
          loss.backward();
          noGrad(() => {
            for (const p of model.parameters()) if (p.grad) p.sub_(p.grad, 0.05);
          });
          losses.push(loss.item());
        });
      }
      expect(losses[4]).toBeLessThan(losses[0]);
    });
  });
});

describe('finite-difference gradients', () => {
  const cases: [string, number[], number[], ConvOpts, boolean][] = [
    ['plain', [2, 2, 5, 4], [3, 2, 3, 2], {}, true],
    ['stride 2, padding 1', [1, 2, 6, 5], [2, 2, 3, 3], { stride: 2, padding: 1 }, true],
    ["'same' with an even kernel", [1, 1, 4, 5], [2, 1, 2, 4], { padding: 'same' }, false],
    ['dilation 2, groups 2', [1, 4, 6, 6], [4, 2, 2, 2], { dilation: 2, groups: 2, padding: [1, 2] }, true],
  ];
  for (const [name, xs, ws, o, bias] of cases) {
    it(`conv2d ${name}`, () => {
      const inputs = [rnd(xs), rnd(ws), ...(bias ? [rnd([ws[0]])] : [])];
      gradcheck((x, w, b) => F.conv2d(x, w, b, o), inputs);
    });
  }
  it('maxPool2d (padding, dilation, ceil mode)', () => {
    gradcheck((x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [distinct([1, 2, 6, 7])]);
    gradcheck((x) => F.maxPool2d(x, 2, { stride: 1, dilation: 2 }), [distinct([2, 1, 5, 5])]);
  });
  it('avgPool2d (padding, ceil mode, countIncludePad false)', () => {
    gradcheck((x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [rnd([1, 2, 6, 7])]);
    gradcheck((x) => F.avgPool2d(x, [2, 3], { stride: [1, 2] }), [rnd([2, 5, 6])]);
  });
  it('adaptiveAvgPool2d', () => {
    gradcheck((x) => F.adaptiveAvgPool2d(x, [3, 4]), [rnd([1, 2, 5, 7])]);
  });
});

describe('the two im2col paths', () => {
  // An unpadded convolution packs the GEMM's panels straight from the image, a padded one
  // writes the im2col matrix first; both feed the same kernel in the same order. So a
  // convolution of a zero-padded image must give, bit for bit, the padded convolution's output
  // and gradients (col2im adds the same terms in the same order, the padded one dropping those
  // that land in the padding). The shapes make output rows of 4, 7, 12, 16 and 22 pixels (every way
  // a row splits a 16-wide panel, whole vectors and not), strided and dilated windows (runs of
  // one pixel), and c·kh·kw = 275 (two depth slabs, a kernel row cut between them).
  const cases: [string, number[], number[], ConvOpts][] = [
    ['7-wide rows, 275-deep', [2, 11, 9, 9], [3, 11, 5, 5], {}],
    ['16-wide rows', [2, 4, 10, 18], [3, 4, 5, 5], {}],
    ['12-wide rows', [2, 3, 12, 14], [2, 3, 5, 5], {}],
    ['22-wide rows', [1, 3, 8, 24], [2, 3, 5, 5], {}],
    ['4-wide rows', [3, 7, 4, 4], [2, 7, 3, 3], {}],
    ['stride 2, dilation (2, 1)', [2, 3, 11, 10], [3, 3, 3, 3], { stride: 2, dilation: [2, 1] }],
  ];
  for (const [name, xs, ws, o] of cases) {
    it(name, () => {
      const x = randn(xs, { requiresGrad: true });
      const convs = [
        (w: Tensor, b: Tensor) => F.conv2d(F.pad(x, [1, 1, 1, 1]), w, b, o),
        (w: Tensor, b: Tensor) => F.conv2d(x, w, b, { ...o, padding: 1 }),
      ].map((conv) => {
        manualSeed(5);
        const w = randn(ws, { requiresGrad: true });
        const b = randn([ws[0]], { requiresGrad: true });
        const y = conv(w, b);
        y.mul(randn(y.shape)).sum().backward();
        const gx = x.grad?.data();
        x.grad = null;
        return { y: y.data(), gw: w.grad?.data(), gx };
      });
      expect(convs[0].y.length).toBeGreaterThan(0);
      expect(convs[0].gx?.length).toBe(x.numel());
      expect(convs[0].y).toEqual(convs[1].y);
      expect(convs[0].gw).toEqual(convs[1].gw);
      expect(convs[0].gx).toEqual(convs[1].gx);
    });
  }
});

describe('modules', () => {
  it('Conv2d has PyTorch shapes, init bounds and repr', () => {
    tidy(() => {
      const conv = new nn.Conv2d(4, 6, [3, 2], { groups: 2, stride: 2, padding: 1 });
      expect(conv.weight.shape).toEqual([6, 2, 3, 2]);
      const bound = 1 / Math.sqrt(2 * 3 * 2);
      // kaiming-uniform with a = √5 gives the same bound as the bias: 1/√fan_in.
      for (const v of conv.weight.data()) expect(Math.abs(v)).toBeLessThanOrEqual(bound + 1e-6);
      for (const v of conv.bias?.data() ?? []) expect(Math.abs(v)).toBeLessThanOrEqual(bound + 1e-6);
      expect(conv.toString()).toBe('Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), groups=2)');
      expect(conv.forward(randn([2, 4, 7, 8])).shape).toEqual([2, 6, 4, 5]);
      expect(new nn.Conv2d(1, 10, 5).toString()).toBe('Conv2d(1, 10, kernel_size=(5, 5), stride=(1, 1))');
      expect(new nn.Conv2d(3, 8, 4, { padding: 'same', bias: false }).forward(randn([1, 3, 9, 10])).shape).toEqual([1, 8, 9, 10]);
      expect(() => new nn.Conv2d(3, 8, 3, { padding: 'same', stride: 2 })).toThrow("padding='same' is not supported for strided convolutions");
      expect(() => new nn.Conv2d(3, 8, 3, { groups: 2 })).toThrow('inChannels 3 must be divisible by groups 2');
    });
  });

  it('MaxPool2d takes a positional stride as in the lecture, or options', () => {
    tidy(() => {
      const x = randn([1, 1, 6, 6]);
      expect(new nn.MaxPool2d(2, 2).forward(x).shape).toEqual([1, 1, 3, 3]);
      expect(new nn.MaxPool2d(2, 1).forward(x).shape).toEqual([1, 1, 5, 5]);
      expect(new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(x).shape).toEqual([1, 1, 4, 4]);
      expect(new nn.MaxPool2d(2).toString()).toBe('MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)');
      expect(new nn.AvgPool2d(2, [1, 2]).forward(x).shape).toEqual([1, 1, 5, 3]);
      expect(new nn.AdaptiveAvgPool2d([2, null]).forward(x).shape).toEqual([1, 1, 2, 6]);
    });
  });

  it('Dropout2d zeroes whole channels in training only', () => {
    tidy(() => {
      manualSeed(7);
      const drop = new nn.Dropout2d(0.5);
      const y = drop.forward(ones([4, 8, 3, 3]));
      const d = y.data();
      let zeroed = 0;
      for (let plane = 0; plane < 32; plane++) {
        const vals = new Set(Array.from(d.slice(plane * 9, plane * 9 + 9)));
        expect(vals.size).toBe(1);
        const [v] = vals;
        expect([0, 2]).toContain(v);
        if (v === 0) zeroed++;
      }
      expect(zeroed).toBeGreaterThan(4);
      expect(zeroed).toBeLessThan(28);
      drop.eval();
      expect(Array.from(drop.forward(ones([1, 2, 2, 2])).data())).toEqual(Array(8).fill(1));
    });
  });
});

describe('bad input', () => {
  const msg = (fn: () => unknown): string => {
    try {
      tidy(() => void fn());
    } catch (e) {
      if (!(e instanceof FerrogradError)) throw e;
      return e.message;
    }
    throw new Error('expected an error');
  };

  it('conv2d names the op and the shapes', () => {
    const w = ones([10, 1, 5, 5]);
    expect(msg(() => F.conv2d(ones([3, 28, 28]), w))).toBe('conv2d: expected input with 4 dims [N, C, H, W], got [3, 28, 28]');
    expect(msg(() => F.conv2d(ones([1, 3, 28, 28]), w))).toContain('has 3 channels but weight expects 1 (weight [10, 1, 5, 5], groups 1)');
    expect(msg(() => F.conv2d(ones([1, 1, 3, 3]), w))).toMatch(/^conv2d: kernel size \(5 x 5\).*larger than the padded input \(3 x 3\)/);
    expect(msg(() => F.conv2d(ones([1, 1, 2, 2]), w, null, { padding: 1 }))).toContain('padded input (4 x 4)');
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8]), w, ones([3])))).toContain('bias must have shape [10]');
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8]), ones([10, 5, 5])))).toContain('expected weight with 4 dims');
    expect(msg(() => F.conv2d(ones([1, 4, 8, 8]), ones([3, 2, 3, 3]), null, { groups: 2 }))).toContain('must be divisible by groups 2');
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8]), w, null, { stride: 0 }))).toContain('conv2d: stride must be in [1,');
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8]), w, null, { stride: 2, padding: 'same' }))).toContain("padding='same' is not supported for strided");
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8]), w, null, { stride: 1.5 }))).toContain('must be integers');
    expect(msg(() => F.conv2d(ones([1, 1, 8, 8], { dtype: 'int32' }), w))).toContain('call .float() first');
  });

  it('pools follow PyTorch checks', () => {
    const x = ones([1, 1, 4, 4]);
    expect(msg(() => F.maxPool2d(x, 2, { padding: 2 }))).toContain('max_pool2d: pad should be smaller than or equal to half of kernel size');
    expect(msg(() => F.avgPool2d(x, 3, { padding: 2 }))).toContain('avg_pool2d: pad should be smaller than or equal to half of kernel size');
    expect(msg(() => F.maxPool2d(x, 5))).toMatch(/^max_pool2d: input \[1, 1, 4, 4\].*too small/);
    expect(msg(() => F.maxPool2d(ones([4, 4]), 2))).toContain('expected a 3-D [C, H, W] or 4-D [N, C, H, W] input');
    expect(msg(() => F.maxPool2d(x, 0))).toContain('kernel size must be in [1,');
    expect(msg(() => F.adaptiveAvgPool2d(ones([1, 0, 4]), 2))).toContain('adaptive_avg_pool2d');
    expect(msg(() => F.adaptiveAvgPool2d(x, -1))).toContain('output size must be in [0,');
    expect(msg(() => F.dropout2d(ones([2, 2]), 0.5))).toContain('dropout2d: expected a 3-D');
  });

  it('random parameters never trap', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = (xs: number[]): number => xs[Math.floor(next() * xs.length)];
    const sizes = [0, 1, 2, 3, 5, -1, 2 ** 29, 2 ** 31, 2 ** 53];
    for (let i = 0; i < 300; i++) {
      tidy(() => {
        const x = ones([pick([0, 1, 2]), pick([1, 2, 4]), pick([0, 1, 3, 6]), pick([1, 3, 6])]);
        const w = ones([pick([0, 1, 2, 4]), pick([1, 2]), pick([1, 2, 3]), pick([1, 3])]);
        const calls: (() => Tensor)[] = [
          () => F.conv2d(x, w, null, { stride: pick(sizes), padding: pick(sizes), dilation: pick(sizes), groups: pick(sizes) }),
          () => F.maxPool2d(x, pick(sizes), { stride: pick(sizes), padding: pick(sizes), dilation: pick(sizes), ceilMode: next() < 0.5 }),
          () => F.avgPool2d(x, pick(sizes), { stride: pick(sizes), padding: pick(sizes), ceilMode: next() < 0.5, countIncludePad: next() < 0.5 }),
          () => F.adaptiveAvgPool2d(x, [pick(sizes), pick(sizes)]),
        ];
        for (const call of calls) {
          try {
            const y = call();
            expect(y.data().length).toBe(y.numel());
          } catch (e) {
            if (!(e instanceof FerrogradError)) throw e;
          }
        }
      });
    }
  });
});
