// Dropout: active in training mode only, drawing masks from the seeded generator.

import { Tensor } from '../tensor.js';
import { FerrogradError } from '../errors.js';
import { Module } from './module.js';
import * as F from '../functional.js';

/**
 * Zeroes each element with probability `p` during training and scales the rest by
 * 1/(1−p); the identity after `eval()`.
 *
 * @example
 * ```ts
 * const drop = new nn.Dropout(0.25);
 * ```
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new FerrogradError('value', `Dropout: probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

/**
 * Zeroes whole channels (each [H, W] plane of an [N, C, H, W] input) with probability `p`
 * during training and scales the rest by 1/(1−p); the identity after `eval()`.
 *
 * @example
 * ```ts
 * const drop = new nn.Dropout2d(0.2);
 * ```
 */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new FerrogradError('value', `Dropout2d: probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}
