// BatchNorm1d and BatchNorm2d: batch statistics in training, running statistics in eval,
// with PyTorch's parameter and buffer names so state dicts load unchanged.

import { Tensor } from '../tensor.js';
import { zeros, ones } from '../creation.js';
import { FerrogradError } from '../errors.js';
import { noGrad } from '../autograd.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as F from '../functional.js';

/** Options of the batch-norm layers. */
export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; `null` for a cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel scale (`weight`) and shift (`bias`). */
  affine?: boolean;
  /** Keep running_mean/running_var for eval; without them eval uses batch statistics. */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 0) {
      throw new FerrogradError('value', `${new.target.name}: numFeatures must be a non-negative integer, got ${numFeatures}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = this.affine ? new Parameter(ones([numFeatures])) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      // PyTorch stores int64; ferrograd's integers are int32.
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
  }

  /** Throws unless `x` has a shape this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  get runningMean(): Tensor | null {
    return this.getBuffer('running_mean');
  }
  get runningVar(): Tensor | null {
    return this.getBuffer('running_var');
  }
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer('num_batches_tracked');
  }

  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new FerrogradError(
        'shape',
        `${this.constructor.name}(${this.numFeatures}): input ${`[${x.shape.join(', ')}]`} has ${x.shape[1]} channels in dim 1, expected ${this.numFeatures}`,
      );
    }
    let momentum = this.momentum ?? 0;
    const tracked = this.numBatchesTracked;
    if (this.training && tracked) {
      noGrad(() => tracked.add_(1));
      // momentum null: a cumulative moving average over the batches seen so far.
      if (this.momentum === null) momentum = 1 / tracked.item();
    }
    // Batch statistics in training, and in eval when there are no running ones.
    const useBatch = this.training || this.runningMean === null;
    const updateRunning = !this.training || this.trackRunningStats;
    return F.batchNorm(x, updateRunning ? this.runningMean : null, updateRunning ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatch,
      momentum,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    const py = (b: boolean): string => (b ? 'True' : 'False');
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum === null ? 'None' : this.momentum}, affine=${py(this.affine)}, track_running_stats=${py(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs (statistics per channel C).
 *
 * @example
 * ```ts
 * const bn = new nn.BatchNorm1d(100);
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new FerrogradError('shape', `BatchNorm1d: expected 2D or 3D input (got ${x.ndim}D input of shape [${x.shape.join(', ')}])`);
    }
  }
}

/**
 * Batch normalisation over [N, C, H, W] inputs (statistics per channel C).
 *
 * @example
 * ```ts
 * const bn = new nn.BatchNorm2d(16, { momentum: 0.1 });
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) {
      throw new FerrogradError('shape', `BatchNorm2d: expected 4D input (got ${x.ndim}D input of shape [${x.shape.join(', ')}])`);
    }
  }
}
