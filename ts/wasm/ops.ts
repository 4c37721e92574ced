// Typed wrappers over the raw exports: stage array arguments, check results. Every
// function takes and returns tensor ids; the Tensor class turns them into objects.

import { raw, addr, check, checkOptional, stageInts, outValue, assertInts, type DTypeCode } from './core.js';

/** Op codes shared with crates/core (Unary::from_code, BinaryOp::ALL). */
export const UNARY = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, relu: 6, sigmoid: 7, tanh: 8, atan: 9, sin: 10, cos: 11,
  step: 12, leakyRelu: 13, elu: 14, softplus: 15, gelu: 16, clamp: 17, pow: 18,
} as const;
export type UnaryName = keyof typeof UNARY;

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, eq: 5, ne: 6, lt: 7, le: 8, gt: 9, ge: 10 } as const;
export type BinaryName = keyof typeof BINARY;

export const free = (id: number): boolean => raw.fg_free(id) === 1;
export const clearPool = (): void => raw.fg_clear_pool();

export function full(dtype: DTypeCode, shape: readonly number[], value: number): number {
  return check(raw.fg_full(dtype, stageInts('full', 'sizes', shape), value));
}
export const arange = (start: number, end: number, step: number, dtype: DTypeCode): number =>
  check(raw.fg_arange(start, end, step, dtype));
export function linspace(start: number, end: number, steps: number): number {
  assertInts('linspace', 'steps', [steps]);
  return check(raw.fg_linspace(start, end, steps));
}
export function eye(n: number, m: number, dtype: DTypeCode): number {
  assertInts('eye', 'sizes', [n, m]);
  return check(raw.fg_eye(n, m, dtype));
}
export function manualSeed(seed: number): void {
  assertInts('manualSeed', 'the seed', [seed]);
  raw.fg_manual_seed(seed);
}
export const rand = (shape: readonly number[], low: number, high: number): number =>
  check(raw.fg_rand(stageInts('rand', 'sizes', shape), low, high));
export const randn = (shape: readonly number[], mean: number, std: number): number =>
  check(raw.fg_randn(stageInts('randn', 'sizes', shape), mean, std));
export function randint(low: number, high: number, shape: readonly number[]): number {
  assertInts('randint', 'bounds', [low, high]);
  return check(raw.fg_randint(low, high, stageInts('randint', 'sizes', shape)));
}
export function randperm(n: number): number {
  assertInts('randperm', 'n', [n]);
  return check(raw.fg_randperm(n));
}
export const cast = (id: number, dtype: DTypeCode): number => check(raw.fg_cast(id, dtype));

export const unary = (name: UnaryName, id: number, p = 0, q = 0): number => check(raw.fg_unary(UNARY[name], id, p, q));
export const binary = (name: BinaryName, a: number, b: number): number => check(raw.fg_binary(BINARY[name], a, b));
export const where = (cond: number, a: number, b: number): number => check(raw.fg_where(cond, a, b));
export const maskedFill = (id: number, mask: number, value: number): number => check(raw.fg_masked_fill(id, mask, value));

export const sum = (id: number, dims: readonly number[], keepdim: boolean, mean: boolean): number =>
  check(raw.fg_sum(id, stageInts(mean ? 'mean' : 'sum', 'dims', dims), +keepdim, +mean));
export function extremumDim(id: number, dim: number, keepdim: boolean, isMax: boolean): [number, number] {
  assertInts(isMax ? 'max' : 'min', 'dim', [dim]);
  const values = check(raw.fg_extremum_dim(id, dim, +keepdim, +isMax));
  return [values, outValue(0)];
}
export const extremumAll = (id: number, isMax: boolean): number => check(raw.fg_extremum_all(id, +isMax));
export function argExtremum(id: number, dim: number | undefined, keepdim: boolean, isMax: boolean): number {
  if (dim !== undefined) assertInts(isMax ? 'argmax' : 'argmin', 'dim', [dim]);
  return check(raw.fg_arg_extremum(id, dim === undefined ? 0 : 1, dim ?? 0, +keepdim, +isMax));
}
export const variance = (id: number, dims: readonly number[], correction: number, keepdim: boolean): number =>
  check(raw.fg_var(id, stageInts('var', 'dims', dims), correction, +keepdim));
export function softmax(id: number, dim: number, log: boolean): number {
  assertInts(log ? 'logSoftmax' : 'softmax', 'dim', [dim]);
  return check(raw.fg_softmax(id, dim, +log));
}
export const matmul = (a: number, b: number): number => check(raw.fg_matmul(a, b));
export const linear = (x: number, w: number, b: number | null): number => check(raw.fg_linear(x, w, b ?? 0));

export const reshape = (id: number, shape: readonly number[]): number => check(raw.fg_reshape(id, stageInts('reshape', 'sizes', shape)));
export const permute = (id: number, dims: readonly number[]): number => check(raw.fg_permute(id, stageInts('permute', 'dims', dims)));
export function transpose(id: number, d0: number, d1: number): number {
  assertInts('transpose', 'dims', [d0, d1]);
  return check(raw.fg_transpose(id, d0, d1));
}
export const expand = (id: number, shape: readonly number[]): number => check(raw.fg_expand(id, stageInts('expand', 'sizes', shape)));
export function cat(ids: readonly number[], dim: number): number {
  assertInts('cat', 'dim', [dim]);
  return check(raw.fg_cat(stageInts('cat', 'tensor ids', ids), dim));
}
export function stack(ids: readonly number[], dim: number): number {
  assertInts('stack', 'dim', [dim]);
  return check(raw.fg_stack(stageInts('stack', 'tensor ids', ids), dim));
}
export function narrow(id: number, dim: number, start: number, length: number): number {
  assertInts('narrow', 'dim, start and length', [dim, start, length]);
  return check(raw.fg_narrow(id, dim, start, length));
}
export function select(id: number, dim: number, index: number): number {
  assertInts('select', 'dim and index', [dim, index]);
  return check(raw.fg_select(id, dim, index));
}
export function indexSelect(id: number, dim: number, index: number): number {
  assertInts('indexSelect', 'dim', [dim]);
  return check(raw.fg_index_select(id, dim, index));
}
export function gather(id: number, dim: number, index: number): number {
  assertInts('gather', 'dim', [dim]);
  return check(raw.fg_gather(id, dim, index));
}

export const setRequiresGrad = (id: number, flag: boolean): void => void check(raw.fg_set_requires_grad(id, +flag));
export const grad = (id: number): number | null => checkOptional(raw.fg_grad(id));
export const setGrad = (id: number, g: number | null): void => void check(raw.fg_set_grad(id, g ?? 0));
export const detach = (id: number): number => check(raw.fg_detach(id));
export const backward = (id: number, g: number | null, retain: boolean): void => void check(raw.fg_backward(id, g ?? 0, +retain));
export const setGradEnabled = (flag: boolean): boolean => raw.fg_set_grad_enabled(+flag) === 1;

export const INPLACE = { add: 0, mul: 1, copy: 2 } as const;
export const inplace = (kind: keyof typeof INPLACE, a: number, b: number, alpha = 1): void =>
  void check(raw.fg_inplace(INPLACE[kind], a, b, alpha));
export const fill = (id: number, value: number): void => void check(raw.fg_fill(id, value));

/** Per-position cross-entropy losses and the 'mean' denominator. */
export function crossEntropy(x: number, target: number, weight: number | null, ignoreIndex: number, labelSmoothing: number): [number, number] {
  assertInts('cross_entropy', 'ignoreIndex', [ignoreIndex]);
  const id = check(raw.fg_cross_entropy(x, target, weight ?? 0, ignoreIndex, labelSmoothing));
  return [id, outValue(0)];
}
export const bceWithLogits = (x: number, target: number, posWeight: number | null): number =>
  check(raw.fg_bce_with_logits(x, target, posWeight ?? 0));

export const OPTIMIZER = { sgd: 0, adam: 1, rmsprop: 2, adagrad: 3 } as const;
/** One fused update of `param` and its `state` tensors; `hyper` in crates/core's `Update` field order. */
export function optimizerStep(kind: keyof typeof OPTIMIZER, param: number, grad: number, state: readonly number[], hyper: readonly number[]): void {
  const n = state.length + hyper.length;
  const ptr = addr(raw.fg_args(n));
  const args = new Float64Array(raw.memory.buffer, ptr, n);
  args.set(state);
  args.set(hyper, state.length);
  check(raw.fg_optimizer_step(OPTIMIZER[kind], param, grad, state.length));
}

// ---- convolution and pooling ----

/** conv2d with explicit per-side padding `[top, bottom, left, right]`. */
export function conv2d(
  x: number, weight: number, bias: number | null,
  stride: readonly [number, number], padding: readonly [number, number, number, number], dilation: readonly [number, number], groups: number,
): number {
  const n = stageInts('conv2d', 'stride, padding, dilation and groups', [...stride, ...padding, ...dilation, groups]);
  return check(raw.fg_conv2d(x, weight, bias ?? 0, n));
}

/** Parameters of max and average pooling, as crates/core's `Pool2dParams`. */
export interface Pool2dArgs {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

function stagePool(op: string, a: Pool2dArgs): number {
  return stageInts(op, 'kernel size, stride, padding and dilation', [
    ...a.kernel, ...a.stride, ...a.padding, ...a.dilation, +a.ceilMode, +a.countIncludePad,
  ]);
}

/** [values, int32 indices into each H·W plane]. */
export function maxPool2d(x: number, a: Pool2dArgs): [number, number] {
  const values = check(raw.fg_pool2d(0, x, stagePool('max_pool2d', a)));
  return [values, outValue(0)];
}
export const avgPool2d = (x: number, a: Pool2dArgs): number => check(raw.fg_pool2d(1, x, stagePool('avg_pool2d', a)));
/** Max-pooled values alone (the core skips the indices when no graph is recorded). */
export const maxPool2dValues = (x: number, a: Pool2dArgs): number => check(raw.fg_pool2d(2, x, stagePool('max_pool2d', a)));
export function adaptiveAvgPool2d(x: number, oh: number, ow: number): number {
  assertInts('adaptive_avg_pool2d', 'output size', [oh, ow]);
  return check(raw.fg_adaptive_avg_pool2d(x, oh, ow));
}

// ---- recurrent layers ----

/** Codes of crates/core's `RnnMode`. */
export const RNN_MODE = { tanh: 0, relu: 1, lstm: 2, gru: 3 } as const;
export type RnnModeName = keyof typeof RNN_MODE;

/**
 * One fused layer-direction over a time-major `[T, B, I]` input; returns the packed
 * `[T + S, B, H]` output (per-step outputs, then hN, then cN for LSTM).
 */
export function rnn(
  mode: RnnModeName, x: number, h0: number, c0: number | null, wIh: number, wHh: number,
  bias: readonly [number, number] | null, reverse: boolean, lengths: readonly number[] | null,
): number {
  const n = lengths === null ? -1 : stageInts(mode, 'lengths', lengths);
  return check(raw.fg_rnn(RNN_MODE[mode], x, h0, c0 ?? 0, wIh, wHh, bias ? bias[0] : 0, bias ? bias[1] : 0, +reverse, n));
}
