// The one place where DataParallel averages the replicas' gradients. The main thread
// (transferred arrays) and every replica (shared memory) run this same code on the same
// wasm kernels, so both paths produce the same bits whatever the order in which the
// replicas finished.

import { weightedSum, type Tensor } from '../index.js';

/**
 * `Σ weights[k]·grads[k]` over the flat gradients, as one float32 tensor per parameter
 * (`shapes`, in the order the flat arrays hold them), summed in rank order (k = 0, 1, …)
 * by `weightedSum`; ranks with weight 0 (no rows this step) are skipped. Run it inside
 * `tidy`: the results are meant as gradients for one step.
 */
export function gradientMean(grads: readonly (Float32Array | null)[], weights: readonly number[], shapes: readonly (readonly number[])[]): Tensor[] {
  const ranks = grads.flatMap((g, k) => (g === null || weights[k] === 0 ? [] : [{ g, w: weights[k] }]));
  const termWeights = ranks.map((r) => r.w);
  let at = 0;
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const terms = ranks.map((r) => r.g.subarray(at, at + n));
    at += n;
    return weightedSum(terms, termWeights, shape);
  });
}
