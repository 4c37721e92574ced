// Parameter initialisation, in place and drawing from the seeded generator, with
// PyTorch's names (trailing underscore = in place) and formulas (torch.nn.init).

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import * as ops from '../wasm/ops.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';

/** The recommended gain for a nonlinearity (`param` is leaky_relu's slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
}

/** (fan_in, fan_out) of a weight: dims 1 and 0 times the receptive field. */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  const s = t.shape;
  if (s.length < 2) {
    throw new FerrogradError('shape', `init: fan in and fan out cannot be computed for a tensor with fewer than 2 dims (shape [${s.join(', ')}])`);
  }
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return [s[1] * receptive, s[0] * receptive];
}

function fill(t: Tensor, make: () => number): Tensor {
  if (t.dtype !== 'float32') {
    // Copying random floats into an int32 tensor would truncate them (to all zeros for a small bound).
    throw new FerrogradError('dtype', `init: random initialisation needs a float32 tensor, got ${t.dtype}; call .float() first`);
  }
  noGrad(() => t.copy_(new Tensor(make())));
  return t;
}

/** Fills with U(a, b). @example `nn.init.uniform_(w, -0.1, 0.1)` */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return fill(t, () => ops.rand(t.shape, a, b));
}
/** Fills with N(mean, std²). @example `nn.init.normal_(w, 0, 0.02)` */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return fill(t, () => ops.randn(t.shape, mean, std));
}
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Options of the kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/** He uniform: U(−b, b) with b = gain·√(3 / fan). @example `nn.init.kaimingUniform_(w, { a: Math.sqrt(5) })` */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}
/** He normal: N(0, (gain / √fan)²). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}
/** Glorot uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}
/** Glorot normal: N(0, gain²·2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
