// DataParallel: synchronous data-parallel training over N workers, each with its own
// wasm instance and replica of the model. A batch is cut into contiguous shards; each
// replica computes the gradients of its shard; they are averaged weighted by shard size,
// always in rank order, so the sum (and so every bit of the result) does not depend on
// which worker finished first; every replica then applies the same averaged gradients
// with the same optimizer, so the replicas stay identical. With shared memory every
// replica averages the gradients itself, and steps travel on a port per replica
// (StepChannel), or not at all: `fit` over a DataLoader of a TensorDataset leaves the
// data with the replicas (KeptData), which cut their own shards. Without shared memory,
// the main thread averages transferred arrays (Comlink calls).

import { transfer } from 'comlink';
import { gradientMean } from './average.js';
import { nn, Tensor, FerrogradError, keep, randint, saveModel, tidy, type Json, type ModuleSource } from '../index.js';
import { WorkerClient } from './client.js';
import { canShareMemory, coreCount } from './env.js';
import type { HostApi } from './host.js';
import type { LossSpec, OptimizerSpec, ShardResult } from './data-parallel-runtime.js';
import { barrierBytes, REPORT_GROUP } from './barrier.js';
import { StepChannel } from './step-channel.js';
import { KeptData, runPlan, type RunPlan } from './kept-data.js';
import { shardSizes, shardWeights } from './shards.js';

/**
 * Steps `fit` keeps posted ahead of the one it waits for: two groups of reported steps,
 * so that the replicas still have a group to run when one is reported.
 */
const FIT_QUEUE = 2 * REPORT_GROUP;

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
 * for (let epoch = 0; epoch < 5; epoch++) await dp.fit(loader); // or: await dp.step(xb, yb) per batch
 * model.loadStateDict(await dp.stateDict());
 * await dp.terminate();
 * ```
 */
export class DataParallel {
  readonly #clients: WorkerClient<HostApi>[];
  readonly #numel: number;
  /** The parameters' shapes, in the order of the flat gradients. */
  readonly #shapes: number[][];
  /** The shared-memory steps' ports; null when gradients are transferred. */
  readonly #steps: StepChannel | null;
  readonly #delay: ((rank: number, step: number) => number) | undefined;
  #stepCount = 0;
  /** The latest step, settled or not: later steps without shared memory, and stateDict, wait for it. */
  #last: Promise<unknown> = Promise.resolve();
  /** Why a shared-memory step failed; the replicas can no longer be trusted to agree. */
  #broken: unknown = undefined;
  /** The training data the replicas keep for `fit` over a DataLoader (shared memory only). */
  readonly #kept = new KeptData();
  /** Whether `fit` is running steps over the kept data: nothing else may be posted meanwhile. */
  #inRun = false;

  private constructor(clients: WorkerClient<HostApi>[], shapes: number[][], numel: number, steps: StepChannel | null, delay: DataParallelOptions['replicaDelayMs']) {
    this.#clients = clients;
    this.#shapes = shapes;
    this.#numel = numel;
    this.#steps = steps;
    this.#delay = delay;
    // A worker that dies fails every step in flight (later ones fail at the post).
    if (steps !== null) for (const c of clients) c.died.catch((e: unknown) => steps.failAll(e));
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
    const params = model.parameters();
    const shapes = params.map((p) => p.shape);
    const numel = params.reduce((n, p) => n + p.numel(), 0);
    // One gradient slot per replica, twice (even and odd steps): see sharedStep.
    const shared = useShared ? new SharedArrayBuffer(2 * workers * numel * 4) : null;
    const barrier = useShared ? new SharedArrayBuffer(barrierBytes(workers)) : null;
    const steps = barrier === null ? null : new StepChannel(workers, FIT_QUEUE, barrier);
    const seed = options.seed ?? randint(0, 2 ** 30, [1]).item();
    if (!Number.isInteger(seed)) throw new FerrogradError('value', `DataParallel: seed must be an integer, got ${seed}`);
    const loss: LossSpec = typeof options.loss === 'string' ? { name: options.loss } : options.loss;
    const clients = Array.from({ length: workers }, (_, rank) => new WorkerClient<HostApi>(`ferrograd-replica-${rank}`));
    try {
      const sizes = await Promise.all(
        clients.map((c, rank) => {
          const port = steps === null ? null : steps.remotePort(rank);
          const config = { rank, workers, loss, optimizer: options.optimizer, shared, barrier, seed: seed + rank };
          return c.call((r) => r.initReplica(bytes.slice(), config, port === null ? null : transfer(port, [port])));
        }),
      );
      if (sizes.some((n) => n !== numel)) throw new FerrogradError('value', `DataParallel: replicas have ${sizes.join(', ')} parameters, the model ${numel}`);
    } catch (e) {
      steps?.close();
      await Promise.all(clients.map((c) => c.terminate()));
      throw e;
    }
    return new DataParallel(clients, shapes, numel, steps, options.replicaDelayMs);
  }

  /** Number of replicas. */
  get workers(): number {
    return this.#clients.length;
  }
  /** Whether gradients go through a SharedArrayBuffer (else through transferred arrays). */
  get sharedMemory(): boolean {
    return this.#steps !== null;
  }

  /**
   * One training step on the batch `(x, y)`: shards, gradients, average, update.
   * Resolves with the batch's mean loss.
   *
   * Steps run in the order they are called, and the batch is copied out when `step` is
   * called, so `x` and `y` may be freed as soon as it returns. With shared memory the
   * batch is posted at once: a step called before the previous one has resolved is
   * already queued in the workers when they finish that one, and they go on without
   * waiting for the main thread. `fit` keeps eight steps queued that way.
   */
  step(x: Tensor, y: Tensor): Promise<number> {
    const n = x.shape[0];
    if (x.ndim === 0 || y.ndim === 0 || y.shape[0] !== n) {
      return Promise.reject(new FerrogradError('shape', `DataParallel.step: x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}] must have the same batch size in dim 0`));
    }
    if (n === 0) return Promise.reject(new FerrogradError('value', 'DataParallel.step: the batch is empty'));
    if (this.#broken !== undefined) return Promise.reject(new FerrogradError('usage', `DataParallel.step: an earlier step failed (${String(this.#broken)}); create a new DataParallel`));
    if (this.#inRun) return Promise.reject(busy('step'));
    const step = this.#stepCount;
    const sizes = shardSizes(n, this.workers);
    const weights = shardWeights(sizes);
    let done: Promise<number>;
    try {
      done = this.#steps !== null ? this.#sharedStep(this.#steps, x, y, sizes, step, weights) : this.#transferredStep(this.#cut(x, y, sizes), step, weights, this.#last);
    } catch (e) {
      // The batch could not be read (a freed tensor): nothing was posted, and the step's
      // number stays free, since the replicas count steps without gaps.
      return Promise.reject(e);
    }
    this.#stepCount++;
    this.#last = done.catch((e: unknown) => {
      // Over shared memory the replicas may now disagree (some applied the step, some
      // not): no later step may run. Without it, a failed step applied nothing anywhere.
      if (this.#steps !== null) this.#broken ??= e;
    });
    return done;
  }

  /**
   * Trains on every batch of `batches` (an array, a DataLoader, any iterable or async
   * iterable of `[x, y]`), keeping the next eight steps queued in the workers while one
   * runs. Resolves with the losses, one per batch. An abort or a failure stops it after
   * the steps already queued.
   *
   * A DataLoader over a TensorDataset (or Subsets of one) of `[x, y]`, with shared memory,
   * takes a faster road: the replicas keep the dataset's tensors, copied once into shared
   * memory at the first `fit` over it, and cut their own shards of each batch, with the
   * same batches and the same bits as any other road. As with PyTorch's persistent
   * DataLoader workers, changes made in place to those tensors later are not seen; a new
   * TensorDataset over them is copied again.
   *
   * @example
   * ```ts
   * for (let epoch = 0; epoch < 10; epoch++) {
   *   const losses = await dp.fit(loader, { onStep: (loss, i) => bar.update(i, loss) });
   * }
   * ```
   */
  async fit(
    batches: Iterable<readonly Tensor[]> | AsyncIterable<readonly Tensor[]>,
    options: { onStep?: (loss: number, index: number) => void; signal?: AbortSignal } = {},
  ): Promise<number[]> {
    if (this.#inRun) throw busy('fit');
    options.signal?.throwIfAborted();
    const plan = this.#steps !== null && this.#broken === undefined ? runPlan(batches) : null;
    if (plan !== null && this.#steps !== null) return this.#fitKept(this.#steps, plan, options);
    const losses: number[] = [];
    // Steps posted and not yet reported, oldest first. FIT_QUEUE stay queued: the replicas
    // report steps by groups, the main thread shares the cores with them and may be late
    // to post, and a replica that finds no step waiting idles.
    const pending: Promise<number>[] = [];
    const settle = async (): Promise<void> => {
      const next = pending.shift();
      if (next === undefined) return;
      const loss = await next;
      losses.push(loss);
      options.onStep?.(loss, losses.length - 1);
    };
    try {
      for await (const batch of batches) {
        options.signal?.throwIfAborted();
        if (batch.length !== 2) throw new FerrogradError('value', `DataParallel.fit: each batch must be [x, y], got ${batch.length} tensor(s) at batch ${losses.length + pending.length}`);
        pending.push(this.step(batch[0], batch[1]));
        if (pending.length > FIT_QUEUE) await settle();
      }
      while (pending.length > 0) {
        options.signal?.throwIfAborted();
        await settle();
      }
    } finally {
      // On an error or abort, the steps queued behind it settle unobserved: fit reports the
      // first failure, and the later ones only follow from it (or are fine after an abort).
      for (const p of pending) p.catch(() => undefined);
      // Let them finish before handing back the replicas.
      await this.#last;
    }
    return losses;
  }

  /**
   * `fit` over the data the replicas keep: one message per replica for the whole epoch,
   * then the main thread only permits steps, FIT_QUEUE ahead of the last one reported,
   * through the barrier buffer. An abort stops the replicas after the steps permitted.
   */
  async #fitKept(channel: StepChannel, plan: RunPlan, options: { onStep?: (loss: number, index: number) => void; signal?: AbortSignal }): Promise<number[]> {
    const first = this.#stepCount;
    const count = plan.bounds.length - 1;
    if (count === 0) return [];
    const dead = this.#deadWorker();
    if (dead) throw dead;
    const last = first + count;
    const delay = this.#delay;
    const delays = delay === undefined ? null : Float64Array.from({ length: count * this.workers }, (_, i) => delay(i % this.workers, first + Math.floor(i / this.workers)));
    const kept = this.#kept.ship(plan.source);
    if (kept !== null) channel.keep(kept);
    const run = channel.run(first, plan.rows, plan.bounds, delays);
    this.#inRun = true;
    const ended = run.ended.finally(() => (this.#inRun = false));
    this.#last = ended.catch(() => undefined);
    for (const p of run.steps) p.catch((e: unknown) => (this.#broken ??= e));
    const permitThrough = (steps: number): void => {
      this.#stepCount = Math.min(last, steps);
      channel.permit(this.#stepCount);
    };
    const losses: number[] = [];
    try {
      permitThrough(first + FIT_QUEUE);
      for (const step of run.steps) {
        options.signal?.throwIfAborted();
        const loss = await step;
        losses.push(loss);
        permitThrough(first + losses.length + FIT_QUEUE);
        options.onStep?.(loss, losses.length - 1);
      }
    } finally {
      if (this.#stepCount < last) channel.stop(run.id, this.#stepCount);
      // The steps permitted run on; the replicas are free again once every one has left the run.
      await Promise.allSettled([...run.steps.slice(0, this.#stepCount - first), ended]);
    }
    return losses;
  }

  /** Copies of the rank-order shards of the batch, made now (the caller may free x, y). */
  #cut(x: Tensor, y: Tensor, sizes: number[]): ([Tensor, Tensor] | null)[] {
    let start = 0;
    return sizes.map((len) => {
      const at = start;
      start += len;
      return len === 0 ? null : [keep(x.narrow(0, at, len)), keep(y.narrow(0, at, len))];
    });
  }

  /**
   * A step without shared memory: the gradients come back as transferred arrays, the
   * main thread averages them and sends the mean to every replica. It starts once the
   * previous step is over, since a replica must apply step s before computing step s + 1.
   */
  async #transferredStep(shards: ([Tensor, Tensor] | null)[], step: number, weights: number[], previous: Promise<unknown>): Promise<number> {
    let results: (ShardResult | null)[];
    try {
      await previous;
      results = await Promise.all(
        this.#clients.map((c, rank) => {
          const shard = shards[rank];
          if (shard === null) return null;
          const delay = this.#delay?.(rank, step) ?? 0;
          return c.call((r) => r.shardGradients(shard[0], shard[1], delay));
        }),
      );
    } finally {
      // Serialized when the calls were posted (or never needed): these copies can go.
      for (const shard of shards) shard?.forEach((t) => t.dispose());
    }
    const grads = results.map((res, rank) => {
      if (res === null) return null;
      if (res.grads === null || res.grads.length !== this.#numel) throw new FerrogradError('value', `DataParallel: replica ${rank} sent no gradients`);
      return res.grads;
    });
    const avg = new Float32Array(this.#numel);
    tidy(() => {
      let at = 0;
      for (const g of gradientMean(grads, weights, this.#shapes)) at += g.data(avg.subarray(at, at + g.numel())).length;
    });
    await Promise.all(
      this.#clients.map((c) => {
        const copy = avg.slice();
        return c.call((r) => r.applyAverage(transfer(copy, [copy.buffer])));
      }),
    );
    return results.reduce((sum, res, rank) => sum + (res === null ? 0 : weights[rank] * res.loss), 0);
  }

  /**
   * A step over shared memory: one message per replica carrying views of its rows of the
   * batch, posted now; the replicas meet at a barrier, each averages the gradients of all
   * in rank order and applies them, and the last to finish reports the batch's loss. The
   * main thread only copies the batch once.
   */
  #sharedStep(channel: StepChannel, x: Tensor, y: Tensor, sizes: number[], step: number, weights: number[]): Promise<number> {
    const dead = this.#deadWorker();
    if (dead) return Promise.reject(dead);
    // Each replica runs the steps in the order they were posted.
    return channel.post(step, x, y, sizes, weights, (rank) => this.#delay?.(rank, step) ?? 0);
  }

  /**
   * Why a worker died, if one did: steps posted to it would never be answered (those in
   * flight were failed when it died), so the shared-memory roads refuse at once.
   */
  #deadWorker(): Error | null {
    return this.#clients.find((c) => c.crashed !== null)?.crashed ?? null;
  }

  /** The trained weights after every step called so far (from replica 0; all replicas hold the same). */
  async stateDict(): Promise<Record<string, Tensor>> {
    await this.#last;
    const first = this.#clients[0];
    return first.call((r) => r.replicaStateDict());
  }

  /** Stops every worker. */
  async terminate(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.terminate()));
    this.#steps?.close();
  }
}

function busy(op: string): FerrogradError {
  return new FerrogradError('usage', `DataParallel.${op}: fit is running over a DataLoader; await it first`);
}

export type { LossSpec, OptimizerSpec, Json };
