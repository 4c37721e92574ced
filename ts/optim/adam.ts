// Adam and AdamW (torch.optim.Adam / AdamW).

import { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import * as ops from '../wasm/ops.js';
import { Optimizer, checkRange, definedOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

function adamStep(opt: Optimizer<AdamOptions>, make: (f: () => Tensor) => Tensor, p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState, decoupled: boolean): void {
  void opt;
  if (typeof st.step !== 'number') {
    st.step = 0;
    st.expAvg = make(() => zerosLike(p));
    st.expAvgSq = make(() => zerosLike(p));
    if (g.amsgrad) st.maxExpAvgSq = make(() => zerosLike(p));
  }
  st.step += 1;
  const [b1, b2] = g.betas;
  const state = [st.expAvg, st.expAvgSq, ...(g.amsgrad ? [st.maxExpAvgSq] : [])].map((t) => (t instanceof Tensor ? t.id : 0));
  const stepSize = g.lr / (1 - b1 ** st.step);
  const bc2Sqrt = Math.sqrt(1 - b2 ** st.step);
  ops.optimizerStep('adam', p.id, grad.id, state, [g.lr, b1, b2, g.eps, g.weightDecay, +g.amsgrad, +decoupled, +g.maximize, stepSize, bc2Sqrt]);
}

function validateAdam(g: Required<AdamOptions>): void {
  checkRange(g.lr >= 0, 'learning rate', g.lr);
  checkRange(g.eps >= 0, 'epsilon value', g.eps);
  checkRange(g.betas[0] >= 0 && g.betas[0] < 1, 'beta parameter at index 0', g.betas[0]);
  checkRange(g.betas[1] >= 0 && g.betas[1] < 1, 'beta parameter at index 1', g.betas[1]);
  checkRange(g.weightDecay >= 0, 'weight_decay value', g.weightDecay);
}

/**
 * Adam with L2 weight decay added to the gradient.
 *
 * @example
 * ```ts
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Params<AdamOptions>, options: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...definedOptions(options) });
  }
  protected validate(g: Required<AdamOptions>): void {
    validateAdam(g);
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    adamStep(this, (f) => this.buffer(f), p, grad, g, st, false);
  }
}

/** Adam with decoupled weight decay (default 0.01). @example `new optim.AdamW(model.parameters(), { lr: 1e-3 })` */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: Params<AdamOptions>, options: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...definedOptions(options) });
  }
  protected validate(g: Required<AdamOptions>): void {
    validateAdam(g);
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    adamStep(this, (f) => this.buffer(f), p, grad, g, st, true);
  }
}
