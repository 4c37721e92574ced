// RMSprop (torch.optim.RMSprop).

import { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import * as ops from '../wasm/ops.js';
import { Optimizer, checkRange, definedOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

/** RMSprop. @example `new optim.RMSprop(model.parameters(), { lr: 0.01 })` */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: RMSpropOptions = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...definedOptions(options) });
  }
  protected validate(g: Required<RMSpropOptions>): void {
    checkRange(g.lr >= 0, 'learning rate', g.lr);
    checkRange(g.eps >= 0, 'epsilon value', g.eps);
    checkRange(g.momentum >= 0, 'momentum value', g.momentum);
    checkRange(g.weightDecay >= 0, 'weight_decay value', g.weightDecay);
    checkRange(g.alpha >= 0, 'alpha value', g.alpha);
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup<RMSpropOptions>, st: ParamState): void {
    if (!(st.squareAvg instanceof Tensor)) {
      st.step = 0;
      st.squareAvg = this.buffer(() => zerosLike(p));
      if (g.momentum > 0) st.momentumBuffer = this.buffer(() => zerosLike(p));
      if (g.centered) st.gradAvg = this.buffer(() => zerosLike(p));
    }
    st.step = (typeof st.step === 'number' ? st.step : 0) + 1;
    const state = [st.squareAvg, ...(g.momentum > 0 ? [st.momentumBuffer] : []), ...(g.centered ? [st.gradAvg] : [])].map((t) =>
      t instanceof Tensor ? t.id : 0,
    );
    ops.optimizerStep('rmsprop', p.id, grad.id, state, [g.lr, g.alpha, g.eps, g.weightDecay, g.momentum, +g.centered, +g.maximize]);
  }
}
