// Loss modules: thin wrappers over the functional losses with PyTorch's defaults.

import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import * as F from '../functional.js';

abstract class Loss<O extends object> extends Module {
  constructor(readonly options: O) {
    super();
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
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
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.options);
  }
}
export class L1Loss extends Loss<F.ReductionOptions> {
  constructor(options: F.ReductionOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, this.options);
  }
}
/** Binary cross-entropy on probabilities (after a sigmoid). */
export class BCELoss extends Loss<F.WeightedOptions> {
  constructor(options: F.WeightedOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, this.options);
  }
}
/** Binary cross-entropy on logits, stable for any magnitude. */
export class BCEWithLogitsLoss extends Loss<F.BCEWithLogitsOptions> {
  constructor(options: F.BCEWithLogitsOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, this.options);
  }
}
/** The lecture's hinge loss max(0, 1 − y·ŷ), y ∈ {−1, 1} (linear SVM). */
export class HingeLoss extends Loss<F.MarginOptions> {
  constructor(options: F.MarginOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.hingeLoss(input, target, this.options);
  }
}
/** The perceptron criterion max(0, −y·ŷ), y ∈ {−1, 1}. */
export class PerceptronLoss extends Loss<F.ReductionOptions> {
  constructor(options: F.ReductionOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.perceptronLoss(input, target, this.options);
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
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, this.options);
  }
}
export class NLLLoss extends Loss<F.WeightedOptions & { ignoreIndex?: number }> {
  constructor(options: F.WeightedOptions & { ignoreIndex?: number } = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, this.options);
  }
}
export class KLDivLoss extends Loss<F.KLDivOptions> {
  constructor(options: F.KLDivOptions = {}) {
    super(options);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, this.options);
  }
}
