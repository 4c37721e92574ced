// Gradient clipping and weight penalties.

import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { FerrogradError } from '../errors.js';
import { stack } from '../creation.js';

function withGrads(params: Iterable<Tensor>): [Tensor, Tensor][] {
  const out: [Tensor, Tensor][] = [];
  for (const p of params) {
    const g = p.grad;
    if (g) out.push([p, g]);
  }
  return out;
}

/**
 * Scales all gradients together so that their joint norm is at most `maxNorm`;
 * returns the norm before clipping.
 *
 * @example
 * ```ts
 * loss.backward();
 * nn.utils.clipGradNorm_(model.parameters(), 1.0);
 * ```
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  return noGrad(() => {
    const grads = withGrads(params).map(([, g]) => g);
    if (grads.length === 0) return 0;
    const total =
      normType === Infinity
        ? stack(grads.map((g) => g.abs().max())).max().item()
        : stack(grads.map((g) => g.abs().pow(normType).sum())).sum().pow(1 / normType).item();
    if (!Number.isFinite(total)) return total;
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    return total;
  });
}

/** Clamps every gradient element to [−clipValue, clipValue]. */
export function clipGradValue_(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new FerrogradError('value', `clipGradValue_: clipValue must be non-negative, got ${clipValue}`);
  noGrad(() => {
    for (const [p, g] of withGrads(params)) p.grad = g.clamp(-clipValue, clipValue);
  });
}

/** Σ|w| over the parameters: add `lambda · l1Penalty(params)` to a loss for L1 regularisation. */
export function l1Penalty(params: Iterable<Tensor>): Tensor {
  const terms = [...params].map((p) => p.abs().sum());
  if (terms.length === 0) throw new FerrogradError('value', 'l1Penalty: no parameters given');
  return terms.reduce((a, b) => a.add(b));
}

/** ½Σw² over the parameters (the lecture's L2 term; optimizers' weightDecay does the same). */
export function l2Penalty(params: Iterable<Tensor>): Tensor {
  const terms = [...params].map((p) => p.mul(p).sum());
  if (terms.length === 0) throw new FerrogradError('value', 'l2Penalty: no parameters given');
  return terms.reduce((a, b) => a.add(b)).mul(0.5);
}
