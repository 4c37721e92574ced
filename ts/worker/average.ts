// The one place where DataParallel averages the replicas' gradients. The main thread
// (transferred arrays) and every replica (shared memory) run this same code on the same
// wasm kernels, so both paths produce the same bits whatever the order in which the
// replicas finished.

import { tensor, zeros, type Tensor } from '../index.js';

/**
 * `Σ weights[k]·grads[k]` as one flat float32 tensor of `numel` values, summed in rank
 * order (k = 0, 1, …); ranks with weight 0 (no rows this step) are skipped. Run it inside
 * `tidy`: the copies and products it makes are temporaries.
 */
export function gradientMean(grads: readonly (Float32Array | null)[], weights: readonly number[], numel: number): Tensor {
  let sum: Tensor | null = null;
  grads.forEach((g, k) => {
    const w = weights[k];
    if (w === 0 || g === null) return;
    const term = tensor(g, { dtype: 'float32' });
    sum = sum === null ? term.mul(w) : sum.add(term, w);
  });
  return sum ?? zeros([numel]);
}
