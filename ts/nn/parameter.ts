// Parameter: a tensor that a Module owns and an optimizer updates. It lives outside
// every scope (it is kept) and requires grad by default.

import { Tensor } from '../tensor.js';
import { keep } from '../scope.js';
import * as ops from '../wasm/ops.js';

/**
 * A learnable tensor. Assigning one to a field of a `Module` registers it.
 *
 * @example
 * ```ts
 * class Scale extends nn.Module {
 *   s = new nn.Parameter(ones([1]));
 *   forward(x: Tensor) { return x.mul(this.s); }
 * }
 * ```
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(ops.detach(data.id));
    keep(this);
    if (requiresGrad) this.requiresGrad_(true);
  }
}
