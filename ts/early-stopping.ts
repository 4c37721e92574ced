// Early stopping: stop training when a monitored metric stops improving, optionally
// restoring the best weights seen.

import { Tensor } from './tensor.js';
import { keep } from './scope.js';
import type { Module } from './nn/module.js';

/** Options of `EarlyStopping`. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min' for losses (default), 'max' for accuracies. */
  mode?: 'min' | 'max';
  /** Copy the best epoch's weights back into the model when stopping. */
  restoreBestWeights?: boolean;
}

/**
 * Tracks a validation metric; `step(metric, model)` returns true when training
 * should stop.
 *
 * @example
 * ```ts
 * const stopper = new EarlyStopping({ patience: 3, restoreBestWeights: true });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train();
 *   if (stopper.step(validate(), model)) break;
 * }
 * ```
 */
export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  readonly restoreBestWeights: boolean;
  best: number;
  bestEpoch = -1;
  epoch = -1;
  waited = 0;
  stopped = false;
  #bestState: Record<string, Tensor> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.patience = options.patience ?? 5;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.mode = options.mode ?? 'min';
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records one epoch's metric; true means stop (and the best weights are restored if asked). */
  step(metric: number, model?: Module): boolean {
    this.epoch += 1;
    const improved = this.mode === 'min' ? metric < this.best - this.minDelta : metric > this.best + this.minDelta;
    if (improved) {
      this.best = metric;
      this.bestEpoch = this.epoch;
      this.waited = 0;
      if (this.restoreBestWeights && model) this.#snapshot(model);
    } else {
      this.waited += 1;
    }
    this.stopped = this.waited >= this.patience;
    if (this.stopped && this.restoreBestWeights && model && this.#bestState) model.loadStateDict(this.#bestState);
    return this.stopped;
  }

  #snapshot(model: Module): void {
    if (this.#bestState) for (const t of Object.values(this.#bestState)) t.dispose();
    const copy: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(model.stateDict())) {
      copy[k] = t.clone().detach();
      t.dispose();
    }
    for (const t of Object.values(copy)) keep(t);
    this.#bestState = copy;
  }
}
