// Logistic regression: sigmoid activation, cross-entropy loss, update
// w ← w + η(y − σ(wᵀx))·x, labels y ∈ {0, 1}.

import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { SingleNeuron, type StepResult } from './single-neuron.js';

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * The lecture's logistic regression, one point at a time.
 *
 * @example
 * ```ts
 * const lr = new models.LogisticRegression(30, { lr: 0.1 }).fit(X, y, { epochs: 20, shuffle: true });
 * lr.predictProba(X); // P(y = 1)
 * ```
 */
export class LogisticRegression extends SingleNeuron {
  step(x: Tensor, y: number): StepResult {
    const p = sigmoid(this.score(x));
    this.update(x, this.lr * (y - p));
    return { predicted: p >= 0.5 ? 1 : 0, updated: true };
  }
  /** σ(w·x + b), the probability of class 1. */
  predictProba(x: Tensor): Tensor {
    return noGrad(() => this.forward(x).sigmoid());
  }
  /** 1 where P(y = 1) ≥ 0.5, else 0, as int32. */
  predict(x: Tensor): Tensor {
    return noGrad(() => this.forward(x).ge(0).int());
  }
}
