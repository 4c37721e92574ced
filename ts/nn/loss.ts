// Loss modules: thin wrappers over the functional losses with PyTorch's defaults.

import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import * as F from '../functional.js';

/** The functional form of a loss: `F.mseLoss`, `F.crossEntropy`, … */
type LossFn<O> = (input: Tensor, target: Tensor, options: O) => Tensor;

abstract class Loss<O extends object> extends Module {
  readonly #fn: LossFn<O>;
  constructor(readonly options: O, fn: LossFn<O>) {
    super();
    this.#fn = fn;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return this.#fn(input, target, this.options);
  }
  override extraRepr(): string {
    return Object.entries(this.options)
      .filter(([, v]) => !(v instanceof Tensor))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
  }
}

/** Mean squared error. @example `new nn.MSELoss().forward(pred, target)` */
export class MSELoss extends Loss<F.ReductionOptions> {
  constructor(options: F.ReductionOptions = {}) {
    super(options, F.mseLoss);
  }
}
export class L1Loss extends Loss<F.ReductionOptions> {
  constructor(options: F.ReductionOptions = {}) {
    super(options, F.l1Loss);
  }
}
/** Binary cross-entropy on probabilities (after a sigmoid). */
export class BCELoss extends Loss<F.WeightedOptions> {
  constructor(options: F.WeightedOptions = {}) {
    super(options, F.binaryCrossEntropy);
  }
}
/** Binary cross-entropy on logits, stable for any magnitude. */
export class BCEWithLogitsLoss extends Loss<F.BCEWithLogitsOptions> {
  constructor(options: F.BCEWithLogitsOptions = {}) {
    super(options, F.binaryCrossEntropyWithLogits);
  }
}
/** The lecture's hinge loss max(0, 1 − y·ŷ), y ∈ {−1, 1} (linear SVM). */
export class HingeLoss extends Loss<F.MarginOptions> {
  constructor(options: F.MarginOptions = {}) {
    super(options, F.hingeLoss);
  }
}
/** The perceptron criterion max(0, −y·ŷ), y ∈ {−1, 1}. */
export class PerceptronLoss extends Loss<F.ReductionOptions> {
  constructor(options: F.ReductionOptions = {}) {
    super(options, F.perceptronLoss);
  }
}
/**
 * Cross-entropy on logits with int32 class indices or class probabilities.
 *
 * @example
 * ```ts
 * const lossFn = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * lossFn.forward(logits, labels);
 * ```
 */
export class CrossEntropyLoss extends Loss<F.CrossEntropyOptions> {
  constructor(options: F.CrossEntropyOptions = {}) {
    super(options, F.crossEntropy);
  }
}
export class NLLLoss extends Loss<F.WeightedOptions & { ignoreIndex?: number }> {
  constructor(options: F.WeightedOptions & { ignoreIndex?: number } = {}) {
    super(options, F.nllLoss);
  }
}
export class KLDivLoss extends Loss<F.KLDivOptions> {
  constructor(options: F.KLDivOptions = {}) {
    super(options, F.klDiv);
  }
}
