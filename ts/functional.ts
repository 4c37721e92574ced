// F: the functional forms of activations, dropout, linear and the losses.

import { FerrogradError } from './errors.js';
import { Tensor, where } from './tensor.js';
import { rand, zerosLike, full, cat } from './creation.js';
import * as ops from './wasm/ops.js';

export * from './functional-conv.js';
export * from './functional-embedding.js';

export type Reduction = 'mean' | 'sum' | 'none';

// ---- activations (the lecture's table, plus the usual extras) ----

export const identity = (x: Tensor): Tensor => x;
/** 1 for x ≥ 0, else 0; its gradient is 0 everywhere. */
export const binaryStep = (x: Tensor): Tensor => x.unary('step');
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const arctan = (x: Tensor): Tensor => x.atan();
/** max(0, x); like PyTorch, its gradient at 0 is 0 (the lecture's table uses 1 there). */
export const relu = (x: Tensor): Tensor => x.relu();
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => x.unary('leakyRelu', negativeSlope);
export const elu = (x: Tensor, alpha = 1): Tensor => x.unary('elu', alpha);
/** log(1 + e^{βx}) / β, linear above `threshold` for stability. */
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => x.unary('softplus', beta, threshold);
/** Exact (erf) GELU. */
export const gelu = (x: Tensor): Tensor => x.unary('gelu');
/** x for x > 0, weight·x otherwise; `weight` has 1 element or one per channel (dim 1). */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const n = weight.numel();
  const w = n === 1 || x.ndim < 2 ? weight : weight.reshape([n, ...Array<number>(Math.max(x.ndim - 2, 0)).fill(1)]);
  return where(x.gt(0), x, x.mul(w));
}
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

/** Zeroes elements with probability `p` in training and scales the rest by 1/(1−p). */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new FerrogradError('value', `dropout: probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(zerosLike(x, { dtype: 'float32' }));
  const keepMask = rand(x.shape).ge(p);
  return x.mul(keepMask.float().mul(1 / (1 - p)));
}

/**
 * Constant padding of the last dims: `pad` lists (before, after) pairs starting from
 * the last dim, as PyTorch's `F.pad`. Differentiable.
 *
 * @example
 * ```ts
 * F.pad(images, [1, 1, 1, 1]); // [N, C, 8, 8] → [N, C, 10, 10]
 * ```
 */
export function pad(x: Tensor, pad: number[], value = 0): Tensor {
  if (pad.length % 2 !== 0 || pad.length / 2 > x.ndim || pad.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new FerrogradError('value', `pad: expected non-negative integer (before, after) pairs for at most ${x.ndim} dims, got [${pad.join(', ')}]`);
  }
  let y = x;
  for (let k = 0; k < pad.length / 2; k++) {
    const dim = x.ndim - 1 - k;
    const [before, after] = [pad[2 * k], pad[2 * k + 1]];
    if (before === 0 && after === 0) continue;
    const side = (n: number): Tensor => full(y.shape.map((d, i) => (i === dim ? n : d)), value, { dtype: x.dtype });
    y = cat([...(before ? [side(before)] : []), y, ...(after ? [side(after)] : [])], dim);
  }
  return y;
}

/** x·Wᵀ + b with W of shape [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(ops.linear(x.id, weight.id, bias ? bias.id : null));
}

// ---- losses ----

function reduce(op: string, loss: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'none':
      return loss;
    case 'sum':
      return loss.sum();
    case 'mean':
      return loss.mean();
    default:
      throw new FerrogradError('value', `${op}: ${String(reduction)} is not a valid value for reduction (use 'mean', 'sum' or 'none')`);
  }
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  if (input.shape.join() !== target.shape.join()) {
    throw new FerrogradError(
      'shape',
      `${op}: target of shape [${target.shape.join(', ')}] must have the same shape as the input [${input.shape.join(', ')}]`,
    );
  }
}

export interface ReductionOptions {
  reduction?: Reduction;
}

/** (input − target)², reduced. */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  sameShape('mse_loss', input, target);
  const d = input.sub(target);
  return reduce('mse_loss', d.mul(d), options.reduction ?? 'mean');
}

/** |input − target|, reduced. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  sameShape('l1_loss', input, target);
  return reduce('l1_loss', input.sub(target).abs(), options.reduction ?? 'mean');
}

export interface WeightedOptions extends ReductionOptions {
  weight?: Tensor | null;
}

/** −w·(y·log p + (1−y)·log(1−p)) on probabilities, logs clamped at −100 as PyTorch does. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: WeightedOptions = {}): Tensor {
  sameShape('binary_cross_entropy', input, target);
  const lo = input.min().item();
  const hi = input.max().item();
  if (!(lo >= 0 && hi <= 1)) {
    throw new FerrogradError(
      'value',
      `binary_cross_entropy: all elements of input should be between 0 and 1 (got values in [${lo}, ${hi}]); use BCEWithLogitsLoss for logits`,
    );
  }
  // The value from the clamped logs; the input gradient is PyTorch's
  // (p − y) / max(p·(1 − p), 1e-12), attached by a zero-valued term, because the chain
  // rule through the logs gives 0·∞ = NaN at p = 0 or 1 (a saturated sigmoid).
  const p = input.detach();
  const logP = p.log().clamp(-100);
  const log1mP = p.rsub(1).log().clamp(-100);
  const dInput = p.sub(target.detach()).div(p.mul(p.rsub(1)).clamp(1e-12));
  let loss = target.mul(logP).add(target.rsub(1).mul(log1mP)).neg().add(input.sub(p).mul(dInput));
  if (options.weight) loss = loss.mul(options.weight);
  return reduce('binary_cross_entropy', loss, options.reduction ?? 'mean');
}

export interface BCEWithLogitsOptions extends WeightedOptions {
  /** Weight of the positive class, broadcast along the last dim. */
  posWeight?: Tensor | null;
}

/** Binary cross-entropy on logits, fused and stable for any magnitude. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  let loss = new Tensor(ops.bceWithLogits(input.id, target.id, options.posWeight ? options.posWeight.id : null));
  if (options.weight) loss = loss.mul(options.weight);
  return reduce('binary_cross_entropy_with_logits', loss, options.reduction ?? 'mean');
}

export interface MarginOptions extends ReductionOptions {
  margin?: number;
}

/** The lecture's hinge loss max(0, margin − y·ŷ) with y ∈ {−1, 1}; no gradient at the margin. */
export function hingeLoss(input: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  sameShape('hinge_loss', input, target);
  const margin = options.margin ?? 1;
  const yy = input.mul(target);
  return reduce('hinge_loss', where(yy.lt(margin), yy.rsub(margin), 0), options.reduction ?? 'mean');
}

/**
 * The perceptron criterion max(0, −y·ŷ) with y ∈ {−1, 1}. Its subgradient at y·ŷ = 0 is
 * −y (a point on the boundary counts as misclassified, as the lecture's update rule has it).
 */
export function perceptronLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  sameShape('perceptron_loss', input, target);
  const yy = input.mul(target);
  return reduce('perceptron_loss', where(yy.le(0), yy.neg(), 0), options.reduction ?? 'mean');
}

export interface CrossEntropyOptions extends WeightedOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits ([C], [N, C] or [N, C, d…]) against int32 class indices or
 * class probabilities: log-softmax and the weighted, smoothed NLL in one fused kernel.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  const [id, denom] = ops.crossEntropy(input.id, target.id, options.weight ? options.weight.id : null, options.ignoreIndex ?? -100, options.labelSmoothing ?? 0);
  const loss = new Tensor(id);
  if (reduction === 'mean') return loss.sum().div(denom);
  return reduce('cross_entropy', loss, reduction);
}

/** Negative log-likelihood of log-probabilities ([N, C] or [N, C, d…]) at int32 targets. */
export function nllLoss(input: Tensor, target: Tensor, options: WeightedOptions & { ignoreIndex?: number } = {}): Tensor {
  if (target.dtype !== 'int32') {
    throw new FerrogradError('dtype', `nll_loss: target must be int32 class indices, got ${target.dtype}; call .int() on it`);
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  const classDim = input.ndim === 1 ? 0 : 1;
  const keepMask = target.ne(ignoreIndex);
  const safe = target.mul(keepMask);
  const picked = input.gather(classDim, safe.unsqueeze(classDim)).squeeze(classDim);
  let w: Tensor = keepMask.float();
  if (options.weight) w = w.mul(options.weight.indexSelect(0, safe.flatten()).reshape(safe.shape));
  const loss = picked.mul(w).neg();
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'mean') return loss.sum().div(w.sum());
  return reduce('nll_loss', loss, reduction);
}

export interface KLDivOptions {
  reduction?: Reduction | 'batchmean';
  logTarget?: boolean;
}

/** KL(target ‖ input) with `input` as log-probabilities: target·(log target − input). */
export function klDiv(input: Tensor, target: Tensor, options: KLDivOptions = {}): Tensor {
  const loss = options.logTarget
    ? target.exp().mul(target.sub(input))
    : where(target.gt(0), target.mul(target.log().sub(input)), 0);
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'batchmean') return loss.sum().div(input.ndim > 0 ? input.shape[0] : 1);
  return reduce('kl_div', loss, reduction);
}
