// SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD).

import { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import * as ops from '../wasm/ops.js';
import { Optimizer, checkRange, definedOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

/**
 * Stochastic gradient descent: w ← w − lr·d, with d the (momentum-averaged) gradient.
 *
 * @example
 * ```ts
 * const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: SGDOptions = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...definedOptions(options) });
  }
  protected validate(g: Required<SGDOptions>): void {
    checkRange(g.lr >= 0, 'learning rate', g.lr);
    checkRange(g.momentum >= 0, 'momentum value', g.momentum);
    checkRange(g.weightDecay >= 0, 'weight_decay value', g.weightDecay);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, st: ParamState): void {
    const hasMomentum = g.momentum !== 0;
    const first = hasMomentum && !(st.momentumBuffer instanceof Tensor);
    if (first) st.momentumBuffer = this.buffer(() => zerosLike(p));
    const state = hasMomentum && st.momentumBuffer instanceof Tensor ? [st.momentumBuffer.id] : [];
    ops.optimizerStep('sgd', p.id, grad.id, state, [g.lr, g.momentum, g.dampening, g.weightDecay, +g.nesterov, +g.maximize, +first]);
  }
}
