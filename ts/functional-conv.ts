// F's convolution, pooling, channel dropout and batch normalisation, NCHW as in PyTorch.
// Convolution and pooling run in the Rust core (im2col + GEMM); dropout2d and batchNorm are
// compositions of differentiable tensor ops, so they need no backward of their own.

import { FerrogradError } from './errors.js';
import { Tensor } from './tensor.js';
import { rand } from './creation.js';
import { noGrad } from './autograd.js';
import * as ops from './wasm/ops.js';
import { pair, type IntOrPair } from './size-args.js';

export type { IntOrPair } from './size-args.js';

const shapeStr = (t: Tensor): string => `[${t.shape.join(', ')}]`;

export interface Conv2dOptions {
  stride?: IntOrPair;
  /** Zero padding on each side, `'valid'` (none) or `'same'` (output as large as the input; stride 1 only). */
  padding?: IntOrPair | 'valid' | 'same';
  dilation?: IntOrPair;
  groups?: number;
}

/**
 * 2-D cross-correlation of `input` [N, C, H, W] with `weight` [O, C/groups, kH, kW], plus
 * `bias` [O]. With `padding: 'same'` and an even dilated kernel the extra row and column of
 * padding go on the bottom and right, as in PyTorch.
 *
 * @example
 * ```ts
 * F.conv2d(x, w, b, { stride: 1, padding: 'same' });
 * ```
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const stride = pair('conv2d', 'stride', options.stride ?? 1);
  const dilation = pair('conv2d', 'dilation', options.dilation ?? 1);
  const groups = options.groups ?? 1;
  const padding = options.padding ?? 0;
  let pads: [number, number, number, number];
  if (padding === 'valid') {
    pads = [0, 0, 0, 0];
  } else if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new FerrogradError('value', `conv2d: padding='same' is not supported for strided convolutions (stride [${stride.join(', ')}]); use stride 1 or explicit padding`);
    }
    // A non-4-D weight gets no padding here; the core then reports the shape problem.
    const k = weight.ndim === 4 ? [weight.shape[2], weight.shape[3]] : [1, 1];
    const total = [dilation[0] * (k[0] - 1), dilation[1] * (k[1] - 1)];
    const top = Math.floor(total[0] / 2);
    const left = Math.floor(total[1] / 2);
    pads = [top, total[0] - top, left, total[1] - left];
  } else if (typeof padding === 'string') {
    throw new FerrogradError('value', `conv2d: invalid padding string '${String(padding)}', expected 'valid' or 'same'`);
  } else {
    const [ph, pw] = pair('conv2d', 'padding', padding);
    pads = [ph, ph, pw, pw];
  }
  return new Tensor(ops.conv2d(input.id, weight.id, bias ? bias.id : null, stride, pads, dilation, groups));
}

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
}

function poolArgs(op: string, kernelSize: IntOrPair, o: MaxPool2dOptions & { countIncludePad?: boolean }): ops.Pool2dArgs {
  const kernel = pair(op, 'kernel size', kernelSize);
  return {
    kernel,
    stride: o.stride === undefined || o.stride === null ? kernel : pair(op, 'stride', o.stride),
    padding: pair(op, 'padding', o.padding ?? 0),
    dilation: pair(op, 'dilation', o.dilation ?? 1),
    ceilMode: o.ceilMode ?? false,
    countIncludePad: o.countIncludePad ?? true,
  };
}

/**
 * Max over kH×kW windows of a [N, C, H, W] or [C, H, W] input, and the argmax of each window as
 * int32 indices into its H·W plane (PyTorch's `max_pool2d(..., return_indices=True)`).
 */
export function maxPool2dWithIndices(x: Tensor, kernelSize: IntOrPair, options: MaxPool2dOptions = {}): [Tensor, Tensor] {
  const [values, indices] = ops.maxPool2d(x.id, poolArgs('max_pool2d', kernelSize, options));
  return [new Tensor(values), new Tensor(indices)];
}

/** Max over kH×kW windows. @example `F.maxPool2d(x, 2)` halves H and W. */
export function maxPool2d(x: Tensor, kernelSize: IntOrPair, options: MaxPool2dOptions = {}): Tensor {
  return new Tensor(ops.maxPool2dValues(x.id, poolArgs('max_pool2d', kernelSize, options)));
}

export interface AvgPool2dOptions {
  /** Default: the kernel size. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** Mean over kH×kW windows. @example `F.avgPool2d(x, 2)` */
export function avgPool2d(x: Tensor, kernelSize: IntOrPair, options: AvgPool2dOptions = {}): Tensor {
  return new Tensor(ops.avgPool2d(x.id, poolArgs('avg_pool2d', kernelSize, options)));
}

/** An output size for adaptive pooling; `null` keeps that input dim. */
export type AdaptiveSize = number | readonly [number | null, number | null];

/**
 * Mean over PyTorch's adaptive windows `[floor(i·H/out), ceil((i+1)·H/out))`, giving exactly
 * the requested output size. @example `F.adaptiveAvgPool2d(x, 1)` is global average pooling.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const [oh, ow] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (typeof outputSize !== 'number' && outputSize.length !== 2) {
    throw new FerrogradError('value', `adaptive_avg_pool2d: output size must be a number or [h, w], got [${outputSize.join(', ')}]`);
  }
  const s = x.shape;
  const h = oh ?? s[s.length - 2];
  const w = ow ?? s[s.length - 1];
  if (h === undefined || w === undefined) {
    throw new FerrogradError('shape', `adaptive_avg_pool2d: expected a 3-D or 4-D input, got ${shapeStr(x)}`);
  }
  return new Tensor(ops.adaptiveAvgPool2d(x.id, h, w));
}

/**
 * Zeroes whole channels with probability `p` in training (one draw per [n, c] plane) and scales
 * the rest by 1/(1−p). A 3-D input is taken as one unbatched [C, H, W] image.
 */
export function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new FerrogradError('value', `dropout2d: probability has to be between 0 and 1, but got ${p}`);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new FerrogradError('shape', `dropout2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got ${shapeStr(x)}`);
  }
  if (!training || p === 0) return x;
  const maskShape = [...x.shape.slice(0, x.ndim - 2), 1, 1];
  if (p === 1) return x.mul(0);
  const keep = rand(maskShape).ge(p).float().mul(1 / (1 - p));
  return x.mul(keep);
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalise with the batch statistics (and update the running ones) instead of the running ones. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1 of a [N, C, ...] input, as PyTorch's `F.batch_norm`. In
 * training it normalises with the batch mean and biased variance and, when running statistics
 * are given, updates them in place (with the unbiased variance, as PyTorch); otherwise it uses
 * the running statistics.
 */
export function batchNorm(
  input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {},
): Tensor {
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (input.ndim < 2) throw new FerrogradError('shape', `batch_norm: expected an input with at least 2 dims [N, C, ...], got ${shapeStr(input)}`);
  const c = input.shape[1];
  for (const [name, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', options.weight], ['bias', options.bias]] as const) {
    if (t && t.numel() !== c) {
      throw new FerrogradError('shape', `batch_norm: ${name} should contain ${c} elements (the input ${shapeStr(input)} has ${c} channels), not ${t.numel()}`);
    }
  }
  const dims = [0, ...Array.from({ length: input.ndim - 2 }, (_, i) => i + 2)];
  const bshape = [1, c, ...Array<number>(input.ndim - 2).fill(1)];
  let mean: Tensor;
  let variance: Tensor;
  if (training) {
    const count = input.numel() / Math.max(c, 1);
    if (count <= 1) {
      throw new FerrogradError('value', `batch_norm: expected more than 1 value per channel when training, got input size ${shapeStr(input)}`);
    }
    mean = input.mean(dims, true);
    variance = input.var(dims, { correction: 0, keepdim: true });
    if (runningMean && runningVar) {
      noGrad(() => {
        runningMean.mul_(1 - momentum).add_(mean.detach().reshape(runningMean.shape), momentum);
        runningVar.mul_(1 - momentum).add_(variance.detach().reshape(runningVar.shape), (momentum * count) / (count - 1));
      });
    }
  } else {
    if (!runningMean || !runningVar) {
      throw new FerrogradError('value', 'batch_norm: running_mean and running_var must be given when training is false');
    }
    mean = runningMean.reshape(bshape);
    variance = runningVar.reshape(bshape);
  }
  let y = input.sub(mean).div(variance.add(eps).sqrt());
  if (options.weight) y = y.mul(options.weight.reshape(bshape));
  if (options.bias) y = y.add(options.bias.reshape(bshape));
  return y;
}
