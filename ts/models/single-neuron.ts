// The lecture's single-neuron models share this shape: a Linear(inFeatures, 1) score
// w·x + b, trained one point at a time by an explicit update rule.

import { Tensor } from '../tensor.js';
import { FerrogradError } from '../errors.js';
import { noGrad } from '../autograd.js';
import { permutation } from '../data/dataset.js';
import { tidy } from '../scope.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import * as init from '../nn/init.js';

/** Options shared by the single-neuron models. */
export interface SingleNeuronOptions {
  /** Learning rate η. */
  lr?: number;
  /** Learn a bias b (default true); without it, put a constant-1 column in X as the lecture does. */
  bias?: boolean;
}

/** Options of `fit`. */
export interface FitOptions {
  epochs?: number;
  /** Visit the points in a new random order each epoch (default false: in order). */
  shuffle?: boolean;
}

/** What one training point did: the rule's prediction before the update, and whether it updated. */
export interface StepResult {
  predicted: number;
  updated: boolean;
}

export abstract class SingleNeuron extends Module {
  readonly linear: Linear;
  readonly lr: number;

  constructor(
    readonly inFeatures: number,
    options: SingleNeuronOptions = {},
  ) {
    super();
    this.lr = options.lr ?? 1;
    if (!(this.lr > 0)) throw new RangeError(`Invalid learning rate: ${this.lr}`);
    this.linear = new Linear(inFeatures, 1, { bias: options.bias ?? true });
    // The lecture starts from w = 0.
    init.zeros_(this.linear.weight);
    if (this.linear.bias) init.zeros_(this.linear.bias);
  }

  /** The weight vector w, shape [inFeatures]. */
  get weight(): Tensor {
    return this.linear.weight.reshape([this.inFeatures]);
  }
  get bias(): Tensor | null {
    return this.linear.bias;
  }

  /** The score w·x + b, shape [N] for X of shape [N, inFeatures]. */
  forward(x: Tensor): Tensor {
    return this.linear.forward(x).squeeze(-1);
  }

  /** Applies the update rule to one point (x of shape [inFeatures]). */
  abstract step(x: Tensor, y: number): StepResult;
  abstract predict(x: Tensor): Tensor;

  /** Trains one point at a time for `epochs` passes over (X, y). */
  fit(X: Tensor, y: Tensor, options: FitOptions = {}): this {
    if (X.ndim !== 2 || X.shape[1] !== this.inFeatures || y.ndim !== 1 || y.shape[0] !== X.shape[0]) {
      throw new FerrogradError(
        'shape',
        `${this.constructor.name}.fit: X must be [N, ${this.inFeatures}] and y [N], got [${X.shape.join(', ')}] and [${y.shape.join(', ')}]`,
      );
    }
    const labels = Array.from(y.data());
    for (let e = 0; e < (options.epochs ?? 1); e++) {
      const order = options.shuffle ? permutation(labels.length) : labels.map((_, i) => i);
      for (const i of order) tidy(() => this.step(X.select(0, i), labels[i]));
    }
    return this;
  }

  /** w ← w + c·x and b ← b + c, then w, b ← (1 − shrink)·(w, b); the form every rule here takes. */
  protected update(x: Tensor, c: number, shrink = 0): void {
    noGrad(() => {
      const w = this.linear.weight;
      const b = this.linear.bias;
      if (shrink !== 0) {
        w.mul_(1 - shrink);
        b?.mul_(1 - shrink);
      }
      if (c !== 0) {
        w.add_(x.reshape([1, this.inFeatures]), c);
        b?.add_(c);
      }
    });
  }

  /** The score w·x + b of one point. */
  protected score(x: Tensor): number {
    return noGrad(() => this.forward(x.reshape([1, this.inFeatures])).item());
  }
}
