// trainInWorker(): run a training script in its own worker, with progress coming back
// through a Comlink proxy and cancellation through an AbortSignal.

import { proxy } from 'comlink';
import type { Tensor } from '../index.js';
import { WorkerClient } from './client.js';
import { absoluteUrl, canShareMemory } from './env.js';
import type { HostApi } from './host.js';
import type { TrainProgress, TrainSpec } from './train-runtime.js';

/** Options of `trainInWorker`. */
export interface TrainInWorkerOptions {
  /** Called on the main thread for every `ctx.report()` of the script. */
  onProgress?: (p: TrainProgress) => void;
  /** Aborting it rejects the promise with the signal's reason and stops the worker. */
  signal?: AbortSignal;
  /**
   * After an abort, how long the script may take to stop on its own (it sees
   * `ctx.aborted`) before the worker is terminated; default 500 ms.
   */
  graceMs?: number;
  /** A name for the worker. */
  name?: string;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Runs a training script in a worker and resolves with the trained state dict. The
 * script is a module (built JavaScript) whose export receives a `TrainContext`: it
 * reports progress with `ctx.report({ epoch, batch, loss, examples })` and checks
 * `ctx.aborted` (or awaits `ctx.checkpoint()`) between batches. The main thread only
 * receives messages, so it stays responsive.
 *
 * Cancellation: aborting `signal` rejects at once with the signal's reason. The script
 * sees `ctx.aborted` immediately where SharedArrayBuffer is available (Node; browser
 * pages that are cross-origin isolated), else at its next `checkpoint()`; after
 * `graceMs` the worker is terminated regardless.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const stateDict = await trainInWorker(
 *   { module: new URL('./train-digits.js', import.meta.url), export: 'train', args: { epochs: 10 } },
 *   { onProgress: (p) => chart.add(p.loss), signal: controller.signal },
 * );
 * model.loadStateDict(stateDict);
 * ```
 */
export function trainInWorker(spec: TrainSpec, options: TrainInWorkerOptions = {}): Promise<Record<string, Tensor>> {
  const { onProgress, signal } = options;
  const graceMs = options.graceMs ?? 500;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const client = new WorkerClient<HostApi>(options.name ?? 'ferrograd-train');
  const shared = canShareMemory() ? new Int32Array(new SharedArrayBuffer(4)) : null;
  const wire = { module: absoluteUrl(spec.module), export: spec.export ?? 'default', args: spec.args ?? null };
  // The worker sends progress in batches (see PROGRESS_INTERVAL_MS); the user's callback still sees one event at a time.
  const progress =
    onProgress === undefined
      ? null
      : proxy((batch: TrainProgress[]) => {
          let failure: { error: unknown } | null = null;
          for (const p of batch) {
            try {
              onProgress(p);
            } catch (error) {
              // One failing event must not hide the others; the first error goes back to the worker, which ignores it.
              failure ??= { error };
            }
          }
          if (failure !== null) throw failure.error;
        });
  const running = client.call((r) => r.train(wire, progress, shared));

  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      if (shared !== null) Atomics.store(shared, 0, 1);
      else void client.callNow((r) => r.abort()).catch(() => undefined);
      reject(abortReason(signal ?? new AbortController().signal));
      // Give the script a moment to stop by itself, then make sure the thread is gone.
      const timer = new Promise<void>((r) => setTimeout(r, graceMs));
      void Promise.race([running.then(() => undefined, () => undefined), timer]).then(() => client.terminate());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    running.then(
      (sd) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(sd);
        void client.terminate();
      },
      (e: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
        void client.terminate();
      },
    );
  });
}
