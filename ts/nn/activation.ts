// Activation modules: the lecture's table (Identity, BinaryStep, Sigmoid, Tanh, ArcTan,
// ReLU, PReLU, ELU, Softplus) and LeakyReLU, GELU, Softmax, LogSoftmax.

import { Tensor } from '../tensor.js';
import { full } from '../creation.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as F from '../functional.js';

/** f(x) = 1 for x ≥ 0, else 0 (gradient 0). */
export class BinaryStep extends Module {
  forward(x: Tensor): Tensor {
    return F.binaryStep(x);
  }
}
/** f(x) = 1 / (1 + e^−x). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}
/** f(x) = tan⁻¹(x), f′(x) = 1 / (x² + 1). */
export class ArcTan extends Module {
  forward(x: Tensor): Tensor {
    return x.atan();
  }
}
/** f(x) = max(0, x). @example `new nn.ReLU().forward(tensor([-1, 2], { dtype: 'float32' }))` */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}
/** Options of `PReLU`. */
export interface PReLUOptions {
  /** 1, or the number of channels (dim 1 of the input). */
  numParameters?: number;
  init?: number;
}
/** f(x) = x for x ≥ 0, αx otherwise, with α learned (initialised to 0.25). */
export class PReLU extends Module {
  weight: Parameter;
  constructor(options: PReLUOptions = {}) {
    super();
    this.weight = new Parameter(full([options.numParameters ?? 1], options.init ?? 0.25));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.weight.numel()}`;
  }
}
/** f(x) = x for x > 0, α(eˣ − 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}
/** Options of `Softplus`. */
export interface SoftplusOptions {
  beta?: number;
  threshold?: number;
}
/** f(x) = log(1 + e^{βx}) / β, f′(x) = σ(βx). */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(options: SoftplusOptions = {}) {
    super();
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
  }
  forward(x: Tensor): Tensor {
    return F.softplus(x, this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return F.gelu(x);
  }
}
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
