// The one place where DataParallel averages the replicas' gradients. The main thread
// (transferred arrays) and every replica (shared memory) run this same code on the same
// wasm kernels, so both paths produce the same bits whatever the order in which the
// replicas finished.

import { tensor, zeros, type Tensor } from '../index.js';

/**
 * `Σ weights[k]·grads[k]` over the flat gradients, as one float32 tensor per parameter
 * (`shapes`, in the order the flat arrays hold them), summed in rank order (k = 0, 1, …);
 * ranks with weight 0 (no rows this step) are skipped. Each term is copied in once and
 * added in place. Run it inside `tidy`: the results are meant as gradients for one step.
 */
export function gradientMean(grads: readonly (Float32Array | null)[], weights: readonly number[], shapes: readonly (readonly number[])[]): Tensor[] {
  let at = 0;
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let sum: Tensor | null = null;
    grads.forEach((g, k) => {
      const w = weights[k];
      if (w === 0 || g === null) return;
      const term = tensor(g.subarray(at, at + n), { shape: [...shape], dtype: 'float32' });
      if (sum === null) {
        // Times 1 is exact: a whole-batch term (one replica, or an average sent whole) is used as it is.
        sum = w === 1 ? term : term.mul_(w);
      } else {
        sum.add_(term, w);
        term.dispose();
      }
    });
    at += n;
    return sum ?? zeros([...shape]);
  });
}
