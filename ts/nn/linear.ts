// Linear, Identity and Flatten.

import { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { FerrogradError } from '../errors.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as init from './init.js';
import * as F from '../functional.js';

/** Options of `Linear`. */
export interface LinearOptions {
  bias?: boolean;
}

/**
 * y = x·Wᵀ + b, with W of shape [outFeatures, inFeatures] as in PyTorch, initialised
 * with kaiming-uniform (a = √5) and b with U(±1/√inFeatures).
 *
 * @example
 * ```ts
 * const fc = new nn.Linear(784, 10);
 * fc.forward(randn([64, 784])).shape; // [64, 10]
 * ```
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new FerrogradError('value', `Linear: ${name} must be a non-negative integer, got ${v}`);
    }
    this.weight = new Parameter(zeros([outFeatures, inFeatures]));
    this.bias = options.bias === false ? null : new Parameter(zeros([outFeatures]));
    this.resetParameters();
  }
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }
  forward(x: Tensor): Tensor {
    const last = x.shape[x.ndim - 1];
    if (x.ndim === 0 || last !== this.inFeatures) {
      throw new FerrogradError(
        'shape',
        `Linear(inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}): input of shape [${x.shape.join(', ')}] must end in ${this.inFeatures} features`,
      );
    }
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims `startDim..endDim` (default 1..-1: everything but the batch). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
