// The linear SVM: loss max(0, 1 − y·ŷ) + ½λ‖w‖², updated with
// w ← w − η(λw − y·x) when y·wᵀx < 1, else w ← w − ηλw.

import { Tensor, where } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { SingleNeuron, type SingleNeuronOptions, type StepResult } from './single-neuron.js';

export interface LinearSVMOptions extends SingleNeuronOptions {
  /** L2 strength λ (default 0.01). */
  lambda?: number;
}

/**
 * The lecture's linear SVM trained by SGD on the hinge loss, labels y ∈ {−1, 1}.
 *
 * @example
 * ```ts
 * const svm = new models.LinearSVM(30, { lr: 0.01, lambda: 0.01 }).fit(X, y, { epochs: 10 });
 * ```
 */
export class LinearSVM extends SingleNeuron {
  readonly lambda: number;
  constructor(inFeatures: number, options: LinearSVMOptions = {}) {
    super(inFeatures, { lr: 0.01, ...options });
    this.lambda = options.lambda ?? 0.01;
  }
  step(x: Tensor, y: number): StepResult {
    const s = this.score(x);
    const updated = y * s < 1;
    // w − η(λw − yx) = (1 − ηλ)w + ηyx; the decay applies to b too, as it does to the
    // lecture's w whose first component is the bias.
    this.update(x, updated ? this.lr * y : 0, this.lr * this.lambda);
    return { predicted: s > 0 ? 1 : -1, updated };
  }
  predict(x: Tensor): Tensor {
    return noGrad(() => where(this.forward(x).gt(0), 1, -1).int());
  }
}
