// Adagrad (torch.optim.Adagrad).

import { Tensor } from '../tensor.js';
import { fullLike } from '../creation.js';
import * as ops from '../wasm/ops.js';
import { Optimizer, checkRange, definedOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdagradOptions {
  lr?: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
  maximize?: boolean;
}

/** Adagrad. @example `new optim.Adagrad(model.parameters(), { lr: 0.1 })` */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: AdagradOptions = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...definedOptions(options) });
  }
  protected validate(g: Required<AdagradOptions>): void {
    checkRange(g.lr >= 0, 'learning rate', g.lr);
    checkRange(g.lrDecay >= 0, 'lr_decay value', g.lrDecay);
    checkRange(g.weightDecay >= 0, 'weight_decay value', g.weightDecay);
    checkRange(g.initialAccumulatorValue >= 0, 'initial_accumulator_value value', g.initialAccumulatorValue);
    checkRange(g.eps >= 0, 'epsilon value', g.eps);
  }
  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdagradOptions>, st: ParamState): void {
    if (!(st.sum instanceof Tensor)) {
      st.step = 0;
      st.sum = this.buffer(() => fullLike(p, g.initialAccumulatorValue));
    }
    st.step = (typeof st.step === 'number' ? st.step : 0) + 1;
    const clr = g.lr / (1 + (st.step - 1) * g.lrDecay);
    ops.optimizerStep('adagrad', p.id, grad.id, [st.sum.id], [clr, g.eps, g.weightDecay, +g.maximize]);
  }
}
