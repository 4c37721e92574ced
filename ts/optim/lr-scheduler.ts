// Learning-rate schedulers (torch.optim.lr_scheduler): each sets `lr` on the
// optimizer's parameter groups when `step()` is called once per epoch.

import { FerrogradError } from '../errors.js';

/** The part of an optimizer a scheduler needs. */
export interface SchedulableOptimizer {
  readonly paramGroups: { lr: number }[];
}

/** Base of the epoch-indexed schedulers: lr(epoch) from each group's initial lr. */
export abstract class LRScheduler {
  readonly baseLrs: number[];
  lastEpoch = 0;
  constructor(readonly optimizer: SchedulableOptimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }
  /** The learning rate of group `i` at `epoch`. */
  protected abstract lrAt(baseLr: number, epoch: number, i: number): number;
  /** Advances one epoch and updates the optimizer's learning rates. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch, i)));
  }
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** Multiplies the lr by `gamma` every `stepSize` epochs. @example `new optim.StepLR(opt, { stepSize: 10, gamma: 0.5 })` */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: SchedulableOptimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    if (!(Number.isInteger(options.stepSize) && options.stepSize > 0)) {
      throw new FerrogradError('value', `StepLR: stepSize must be a positive integer, got ${options.stepSize}`);
    }
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
  }
  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** Multiplies the lr by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    readonly gamma: number,
  ) {
    super(optimizer);
  }
  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** epoch;
  }
}

/** Cosine annealing from the initial lr to `etaMin` over `tMax` epochs. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: SchedulableOptimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(options.tMax > 0)) throw new FerrogradError('value', `CosineAnnealingLR: tMax must be positive, got ${options.tMax}`);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
  }
  protected lrAt(base: number, epoch: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** lr = initial lr × lrLambda(epoch). */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    readonly lrLambda: (epoch: number) => number,
  ) {
    super(optimizer);
  }
  protected lrAt(base: number, epoch: number): number {
    return base * this.lrLambda(epoch);
  }
}

/** Options of `ReduceLROnPlateau`, with PyTorch's defaults. */
export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/**
 * Cuts the lr by `factor` when a metric has not improved for `patience` epochs.
 *
 * @example
 * ```ts
 * const sched = new optim.ReduceLROnPlateau(opt, { patience: 2 });
 * sched.step(validationLoss);
 * ```
 */
export class ReduceLROnPlateau {
  readonly options: Required<ReduceLROnPlateauOptions>;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  constructor(
    readonly optimizer: SchedulableOptimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    this.options = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...options };
    if (this.options.factor >= 1) throw new FerrogradError('value', `ReduceLROnPlateau: factor should be < 1.0, got ${this.options.factor}`);
    this.best = this.options.mode === 'min' ? Infinity : -Infinity;
  }
  private isBetter(a: number): boolean {
    const { mode, threshold, thresholdMode } = this.options;
    if (mode === 'min') return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (threshold + 1) : a > this.best + threshold;
  }
  step(metric: number): void {
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.options.patience) {
      for (const g of this.optimizer.paramGroups) {
        const next = Math.max(g.lr * this.options.factor, this.options.minLr);
        if (g.lr - next > this.options.eps) g.lr = next;
      }
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
  }
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}
