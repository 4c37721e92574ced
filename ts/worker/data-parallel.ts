// DataParallel: synchronous data-parallel training over N workers, each with its own
// wasm instance and replica of the model. A batch is cut into contiguous shards; each
// replica computes the gradients of its shard; the main thread averages them weighted by
// shard size, always in rank order, so the sum (and so every bit of the result) does
// not depend on which worker finished first; every replica then applies the same
// averaged gradients with the same optimizer, so the replicas stay identical.

import { transfer } from 'comlink';
import { nn, Tensor, FerrogradError, keep, randint, saveModel, type Json, type ModuleSource } from '../index.js';
import { WorkerClient } from './client.js';
import { canShareMemory, coreCount } from './env.js';
import type { HostApi } from './host.js';
import type { LossSpec, OptimizerSpec, ShardResult } from './data-parallel-runtime.js';

/** The most workers DataParallel starts: beyond this the averaging and messaging dominate. */
export const MAX_WORKERS = 8;

/** Options of `DataParallel.create`. */
export interface DataParallelOptions {
  /** Number of workers; default the number of cores, at most 8. */
  workers?: number;
  /** The loss, by its `nn` class name (`'CrossEntropyLoss'`), optionally with options. Its reduction must be 'mean'. */
  loss: string | LossSpec;
  /** The optimizer, by its `optim` class name, with options: `{ name: 'SGD', options: { lr: 0.1, momentum: 0.9 } }`. */
  optimizer: OptimizerSpec;
  /** Where the model's class comes from, when it is a user-defined nn.Module subclass. */
  source?: ModuleSource;
  /**
   * Exchange gradients through one SharedArrayBuffer (default where available: Node,
   * cross-origin isolated pages); false posts transferred arrays instead.
   */
  sharedMemory?: boolean;
  /**
   * Seeds the replicas' generators (replica k gets `seed + k`), which draw the dropout
   * masks: two runs with the same seed, model and batches give identical weights.
   * Default: drawn from this thread's generator, so `manualSeed(s)` before `create`
   * makes the whole run repeatable too.
   */
  seed?: number;
  /**
   * For tests of determinism: milliseconds a replica waits before reporting its
   * gradients at a given step, to force a particular order of arrival.
   */
  replicaDelayMs?: (rank: number, step: number) => number;
}

/**
 * Contiguous shard sizes of `n` rows over `k` workers: the first `n % k` get one more.
 *
 * @example
 * ```ts
 * shardSizes(50, 3); // [17, 17, 16]
 * ```
 */
export function shardSizes(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0));
}

/**
 * Data-parallel training across workers: each `step(x, y)` splits the batch over the
 * replicas, averages their gradients deterministically and applies one optimizer
 * step on every replica. After N steps the weights equal those of single-process
 * training on the full batches, up to float rounding (the gradient sum is grouped by
 * shard).
 *
 * As with PyTorch's DataParallel, BatchNorm uses per-shard statistics and each replica
 * draws its own dropout masks; models without those match single-process training.
 *
 * @example
 * ```ts
 * const dp = await DataParallel.create(model, { workers: 4, loss: 'CrossEntropyLoss', optimizer: { name: 'SGD', options: { lr: 0.1 } } });
 * for (const [xb, yb] of loader) await dp.step(xb, yb);
 * model.loadStateDict(await dp.stateDict());
 * await dp.terminate();
 * ```
 */
export class DataParallel {
  readonly #clients: WorkerClient<HostApi>[];
  readonly #numel: number;
  readonly #shared: SharedArrayBuffer | null;
  readonly #delay: ((rank: number, step: number) => number) | undefined;
  #steps = 0;
  /** Why a shared-memory step failed; the replicas can no longer be trusted to agree. */
  #broken: unknown = undefined;

  private constructor(clients: WorkerClient<HostApi>[], numel: number, shared: SharedArrayBuffer | null, delay: DataParallelOptions['replicaDelayMs']) {
    this.#clients = clients;
    this.#numel = numel;
    this.#shared = shared;
    this.#delay = delay;
  }

  /** Starts the workers and ships each a replica of `model` with its loss and optimizer. */
  static async create(model: nn.Module, options: DataParallelOptions): Promise<DataParallel> {
    const workers = options.workers ?? Math.min(coreCount(), MAX_WORKERS);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new FerrogradError('value', `DataParallel: workers must be an integer in 1..${MAX_WORKERS}, got ${workers}`);
    }
    const useShared = options.sharedMemory ?? canShareMemory();
    if (useShared && !canShareMemory()) {
      throw new FerrogradError('usage', 'DataParallel: sharedMemory needs SharedArrayBuffer, which browsers only allow on cross-origin isolated pages (COOP/COEP headers)');
    }
    const bytes = saveModel(model, options.source === undefined ? {} : { source: options.source });
    const numel = model.parameters().reduce((n, p) => n + p.numel(), 0);
    // One gradient slot per replica, twice (even and odd steps): see sharedStep.
    const shared = useShared ? new SharedArrayBuffer(2 * workers * numel * 4) : null;
    const barrier = useShared ? new SharedArrayBuffer(8) : null;
    const seed = options.seed ?? randint(0, 2 ** 30, [1]).item();
    if (!Number.isInteger(seed)) throw new FerrogradError('value', `DataParallel: seed must be an integer, got ${seed}`);
    const loss: LossSpec = typeof options.loss === 'string' ? { name: options.loss } : options.loss;
    const clients = Array.from({ length: workers }, (_, rank) => new WorkerClient<HostApi>(`ferrograd-replica-${rank}`));
    try {
      const sizes = await Promise.all(
        clients.map((c, rank) => c.call((r) => r.initReplica(bytes.slice(), { rank, workers, loss, optimizer: options.optimizer, shared, barrier, seed: seed + rank }))),
      );
      if (sizes.some((n) => n !== numel)) throw new FerrogradError('value', `DataParallel: replicas have ${sizes.join(', ')} parameters, the model ${numel}`);
    } catch (e) {
      await Promise.all(clients.map((c) => c.terminate()));
      throw e;
    }
    return new DataParallel(clients, numel, shared, options.replicaDelayMs);
  }

  /** Number of replicas. */
  get workers(): number {
    return this.#clients.length;
  }
  /** Whether gradients go through a SharedArrayBuffer (else through transferred arrays). */
  get sharedMemory(): boolean {
    return this.#shared !== null;
  }

  /**
   * One training step on the batch `(x, y)`: shards, gradients, average, update.
   * Resolves with the batch's mean loss.
   */
  async step(x: Tensor, y: Tensor): Promise<number> {
    const n = x.shape[0];
    if (x.ndim === 0 || y.ndim === 0 || y.shape[0] !== n) {
      throw new FerrogradError('shape', `DataParallel.step: x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}] must have the same batch size in dim 0`);
    }
    if (n === 0) throw new FerrogradError('value', 'DataParallel.step: the batch is empty');
    if (this.#broken !== undefined) throw new FerrogradError('usage', `DataParallel.step: an earlier step failed (${String(this.#broken)}); create a new DataParallel`);
    const step = this.#steps++;
    const sizes = shardSizes(n, this.workers);
    if (this.#shared !== null) return this.#sharedStep(x, y, step, sizes);
    const pieces: Tensor[] = [];
    let start = 0;
    const calls = this.#clients.map((c, rank): Promise<ShardResult> | null => {
      const len = sizes[rank];
      const at = start;
      start += len;
      if (len === 0) return null;
      // Kept: the call is queued and serializes its arguments when its turn comes.
      const xs = keep(x.narrow(0, at, len));
      const ys = keep(y.narrow(0, at, len));
      pieces.push(xs, ys);
      const delay = this.#delay?.(rank, step) ?? 0;
      return c.call((r) => r.shardGradients(xs, ys, delay));
    });
    let results: (ShardResult | null)[];
    try {
      // The shards were serialized when the calls were posted; these handles can go.
      results = await Promise.all(calls);
    } finally {
      for (const t of pieces) t.dispose();
    }

    // Weighted mean over shards, in rank order whatever the order of arrival.
    // (With shared memory the replicas do this themselves: see #sharedStep.)
    const P = this.#numel;
    const acc = new Float64Array(P);
    let loss = 0;
    results.forEach((res, rank) => {
      if (res === null) return;
      const w = sizes[rank] / n;
      const g = res.grads;
      if (g === null || g.length !== P) throw new FerrogradError('value', `DataParallel: replica ${rank} sent no gradients`);
      for (let j = 0; j < P; j++) acc[j] += w * g[j];
      loss += w * res.loss;
    });

    const avg = new Float32Array(acc);
    await Promise.all(
      this.#clients.map((c) => {
        const copy = avg.slice();
        return c.call((r) => r.applyAverage(transfer(copy, [copy.buffer])));
      }),
    );
    return loss;
  }

  /**
   * A step over shared memory: one message per replica carrying its shard; the replicas
   * meet at a barrier, each averages the gradients of all in rank order and applies them.
   * The main thread only cuts the batch and sums the shards' losses.
   */
  async #sharedStep(x: Tensor, y: Tensor, step: number, sizes: number[]): Promise<number> {
    const n = x.shape[0];
    const weights = sizes.map((len) => len / n);
    const pieces: Tensor[] = [];
    let start = 0;
    const calls = this.#clients.map((c, rank): Promise<number> => {
      const len = sizes[rank];
      const at = start;
      start += len;
      const delay = this.#delay?.(rank, step) ?? 0;
      // A replica without rows still takes part: it must meet the others at the barrier.
      if (len === 0) return c.call((r) => r.sharedStep(null, null, step, weights, delay));
      // Kept: the call is queued and serializes its arguments when its turn comes.
      const xs = keep(x.narrow(0, at, len));
      const ys = keep(y.narrow(0, at, len));
      pieces.push(xs, ys);
      return c.call((r) => r.sharedStep(xs, ys, step, weights, delay));
    });
    let losses: number[];
    try {
      losses = await Promise.all(calls);
    } catch (e) {
      // The replicas may now disagree (some applied nothing): no later step may run.
      this.#broken = e;
      throw e;
    } finally {
      for (const t of pieces) t.dispose();
    }
    return losses.reduce((sum, l, rank) => sum + weights[rank] * l, 0);
  }

  /** The trained weights (from replica 0; all replicas hold the same). */
  stateDict(): Promise<Record<string, Tensor>> {
    const first = this.#clients[0];
    return first.call((r) => r.replicaStateDict());
  }

  /** Stops every worker. */
  async terminate(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.terminate()));
  }
}

export type { LossSpec, OptimizerSpec, Json };
