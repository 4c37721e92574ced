// The perceptron: identity activation in training, sign at inference, loss
// max(0, −y·ŷ), update w ← w + η·y·x for a misclassified point (y·wᵀx ≤ 0).

import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { where } from '../tensor.js';
import { SingleNeuron, type StepResult } from './single-neuron.js';

/**
 * The lecture's perceptron, labels y ∈ {−1, 1}.
 *
 * @example
 * ```ts
 * const p = new models.Perceptron(3, { lr: 0.9, bias: false });
 * p.fit(X, y, { epochs: 3 });
 * p.predict(X); // int32 labels in {-1, 1}
 * ```
 */
export class Perceptron extends SingleNeuron {
  step(x: Tensor, y: number): StepResult {
    const s = this.score(x);
    // A point on the boundary (y·s = 0) counts as misclassified.
    const updated = y * s <= 0;
    if (updated) this.update(x, this.lr * y);
    return { predicted: s > 0 ? 1 : -1, updated };
  }
  /** sign(w·x + b) with sign(0) = −1, as int32. */
  predict(x: Tensor): Tensor {
    return noGrad(() => where(this.forward(x).gt(0), 1, -1).int());
  }
}
