// The worker half of trainInWorker: imports the user's training script, hands it a
// context (progress reporting, cancellation) and returns the trained state dict.

import { nn, Tensor, FerrogradError, type Json } from '../index.js';

/** Which training script to run: a module file and the export of its training function. */
export interface TrainSpec {
  /** URL or path of the script (built JavaScript); relative paths resolve against the page or the working directory. */
  module: string | URL;
  /** The export holding the training function; default `'default'`. */
  export?: string;
  /** JSON arguments, available to the script as `ctx.args`. */
  args?: Json;
}

/** What a training script reports after a batch (or an epoch). */
export interface TrainReport {
  epoch: number;
  batch: number;
  loss: number;
  /** Examples in this batch; drives the examples/s figure. */
  examples?: number;
  /** Anything else worth charting (accuracy, learning rate, …). */
  metrics?: Record<string, number>;
}

/** A progress event as the main thread's `onProgress` receives it. */
export interface TrainProgress extends TrainReport {
  /** Examples reported so far. */
  examplesSeen: number;
  /** Examples per second since training started. */
  examplesPerSecond: number;
  /** Milliseconds since training started. */
  elapsedMs: number;
}

/** What a training script gets to talk to the main thread. */
export interface TrainContext {
  /** The spec's `args`. */
  readonly args: Json;
  /** True once the main thread aborted; check it between batches. */
  readonly aborted: boolean;
  /** Throws an AbortError if the main thread aborted. */
  throwIfAborted(): void;
  /** Sends progress to the main thread's `onProgress` (does not wait for it). */
  report(r: TrainReport): void;
  /**
   * Lets this worker's event loop run, so that an abort sent as a message (when
   * SharedArrayBuffer is unavailable) arrives; then throws if aborted. Cheap: call it
   * once per batch or epoch.
   */
  checkpoint(): Promise<void>;
}

/**
 * A training script's function: trains and returns the model (or its state dict).
 *
 * @example
 * ```ts
 * // train.js
 * export async function train(ctx) {
 *   const model = new nn.Sequential(new nn.Linear(64, 10));
 *   for (let epoch = 0; epoch < 5; epoch++) { ...; ctx.report({ epoch, batch, loss, examples }); await ctx.checkpoint(); }
 *   return model;
 * }
 * ```
 */
export type TrainFunction = (ctx: TrainContext) => nn.Module | Record<string, Tensor> | Promise<nn.Module | Record<string, Tensor>>;

/** Mutable abort state of the run in progress. */
export interface AbortState {
  /** Set by a message from the main thread. */
  flagged: boolean;
  /** Set by the main thread through shared memory, visible even inside a synchronous loop. */
  shared: Int32Array | null;
}

function abortError(): Error {
  return typeof DOMException === 'function' ? new DOMException('training was aborted by the main thread', 'AbortError') : new Error('AbortError: training was aborted');
}

function isTrainFunction(v: unknown): v is TrainFunction {
  return typeof v === 'function';
}

function isTensorRecord(v: unknown): v is Record<string, Tensor> {
  return typeof v === 'object' && v !== null && Object.values(v).every((t) => t instanceof Tensor);
}

/** Runs the training script named by `spec` (its module URL already absolute). */
/**
 * At most one progress message per this many milliseconds. A script may report far
 * more often than that (every example of a tiny model): one message per report then
 * floods the main thread, whose timers and frames wait behind thousands of queued
 * messages (measured: 20 000 reports, 125 ms of event-loop lag and 2.5 s of traffic).
 * Reports in between are batched, never dropped, so every event still arrives in order.
 */
export const PROGRESS_INTERVAL_MS = 20;

/**
 * Sends reports in batches, at most one message per PROGRESS_INTERVAL_MS. It needs no
 * reply to send the next batch, since a script in a synchronous loop never processes
 * replies; a timer flushes the tail when the script yields, `drain` at the end.
 */
class ProgressBatcher {
  readonly #send: (batch: TrainProgress[]) => unknown;
  #queue: TrainProgress[] = [];
  #lastSent = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(send: (batch: TrainProgress[]) => unknown) {
    this.#send = send;
  }

  push(p: TrainProgress): void {
    this.#queue.push(p);
    if (performance.now() - this.#lastSent >= PROGRESS_INTERVAL_MS) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), PROGRESS_INTERVAL_MS);
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#lastSent = performance.now();
    // The main thread's onProgress may throw; that must not stop training.
    const sent: Promise<unknown> = Promise.resolve(this.#send(batch)).catch(() => undefined);
    this.#inFlight.add(sent);
    void sent.then(() => this.#inFlight.delete(sent));
  }

  /**
   * Sends what is queued and waits until the main thread has handled every batch, so
   * that all progress events arrive before the result (the proxy's channel and the
   * worker's own are separate ports, with no order between them).
   */
  async drain(): Promise<void> {
    this.#flush();
    await Promise.all([...this.#inFlight]);
  }
}

export async function runTraining(
  spec: { module: string; export: string; args: Json },
  onProgress: ((batch: TrainProgress[]) => unknown) | null,
  abort: AbortState,
): Promise<Record<string, Tensor>> {
  const mod: unknown = await import(/* @vite-ignore */ /* webpackIgnore: true */ spec.module);
  const fn: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, spec.export) : undefined;
  if (!isTrainFunction(fn)) throw new FerrogradError('usage', `trainInWorker: ${spec.module} has no function export "${spec.export}"`);
  const start = performance.now();
  let seen = 0;
  const progress = onProgress === null ? null : new ProgressBatcher(onProgress);
  const isAborted = (): boolean => abort.flagged || (abort.shared !== null && Atomics.load(abort.shared, 0) !== 0);
  const ctx: TrainContext = {
    args: spec.args,
    get aborted() {
      return isAborted();
    },
    throwIfAborted() {
      if (isAborted()) throw abortError();
    },
    report(r) {
      seen += r.examples ?? 0;
      const elapsedMs = performance.now() - start;
      // Queued, not awaited: a slow main thread must not slow training down.
      progress?.push({ ...r, examplesSeen: seen, elapsedMs, examplesPerSecond: elapsedMs > 0 ? (seen * 1000) / elapsedMs : 0 });
    },
    async checkpoint() {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (isAborted()) throw abortError();
    },
  };
  const result = await fn(ctx);
  await progress?.drain();
  if (result instanceof nn.Module) return result.stateDict();
  if (isTensorRecord(result)) return result;
  throw new FerrogradError('usage', `trainInWorker: ${spec.export} must return the trained nn.Module or its state dict`);
}
