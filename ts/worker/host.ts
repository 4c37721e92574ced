// The script every ferrograd worker runs (dist/worker-host.js): one model for offload(),
// a training run for trainInWorker(), or a replica for DataParallel. It has its own
// wasm instance, since each thread instantiates the package on import.

import { nn, Tensor, FerrogradError, loadModelAsync, memory, noGrad, tidy, type Json, type MemoryInfo } from '../index.js';
import { expose } from './rpc.js';
import { sendAndFree } from './transfer.js';
import { runTraining, type AbortState, type TrainProgress } from './train-runtime.js';
import { initReplica, shardGradients, applyAverage, replicaStateDict, type ReplicaConfig, type ShardResult } from './data-parallel-runtime.js';

let model: nn.Module | null = null;
let abortState: AbortState = { flagged: false, shared: null };

function loaded(): nn.Module {
  if (model === null) throw new FerrogradError('usage', 'ferrograd worker: no model loaded');
  return model;
}

/** Runs the model on `x` (freed afterwards) and sends the result without keeping a copy here. */
function run(x: unknown, evalMode: boolean): Tensor {
  // A plain object posted by a foreign caller would otherwise fail deep in a layer.
  if (!(x instanceof Tensor)) throw new FerrogradError('value', `ferrograd worker: forward/predict take a Tensor, got ${Object.prototype.toString.call(x)}`);
  const m = loaded();
  const was = m.training;
  if (evalMode) m.eval();
  try {
    // tidy frees the intermediates; the result survives it and is freed once serialized.
    const y = tidy(() => noGrad(() => m.forward(x)));
    if (y !== x) x.dispose();
    return sendAndFree(y);
  } catch (e) {
    // A rejected input (wrong shape, wrong dtype) must not stay behind in this worker.
    if (!x.isDisposed) x.dispose();
    throw e;
  } finally {
    if (evalMode) m.train(was);
  }
}

const api = {
  /** Replaces the model with the one in `bytes` (saveModel format). */
  async load(bytes: Uint8Array): Promise<{ parameters: number }> {
    const next = await loadModelAsync(bytes);
    model = next;
    return { parameters: next.parameters().reduce((n, p) => n + p.numel(), 0) };
  },
  /** `model.forward(x)` in the model's current mode, without autograd. */
  forward(x: Tensor): Tensor {
    return run(x, false);
  },
  /** `model.forward(x)` in eval mode (dropout off, running statistics), without autograd. */
  predict(x: Tensor): Tensor {
    return run(x, true);
  },
  updateWeights(stateDict: Record<string, Tensor>): void {
    try {
      loaded().loadStateDict(stateDict, { strict: false });
    } finally {
      for (const t of Object.values(stateDict)) t.dispose();
    }
  },
  stateDict(): Record<string, Tensor> {
    const sd = loaded().stateDict();
    for (const t of Object.values(sd)) sendAndFree(t);
    return sd;
  },
  async train(
    spec: { module: string; export: string; args: Json },
    onProgress: ((batch: TrainProgress[]) => unknown) | null,
    sharedAbort: Int32Array | null,
  ): Promise<Record<string, Tensor>> {
    abortState = { flagged: false, shared: sharedAbort };
    const sd = await runTraining(spec, onProgress, abortState);
    for (const t of Object.values(sd)) sendAndFree(t);
    return sd;
  },
  /** Cooperative abort for when there is no shared memory; seen at the script's next checkpoint(). */
  abort(): void {
    abortState.flagged = true;
  },
  initReplica(bytes: Uint8Array, config: ReplicaConfig, steps: MessagePort | null): Promise<number> {
    return initReplica(bytes, config, steps);
  },
  shardGradients(x: Tensor, y: Tensor, delayMs: number): Promise<ShardResult> {
    return shardGradients(x, y, delayMs);
  },
  applyAverage(avg: Float32Array | null): void {
    applyAverage(avg);
  },
  replicaStateDict(): Record<string, Tensor> {
    const sd = replicaStateDict();
    for (const t of Object.values(sd)) sendAndFree(t);
    return sd;
  },
  /** This worker's wasm memory (live tensors, bytes), to check that calls leak nothing. */
  memory(): MemoryInfo {
    return memory();
  },
  ping(): string {
    return 'pong';
  },
};

/** The API of ferrograd's worker host, as the main thread sees it through `wrap`. */
export type HostApi = typeof api;

expose(api);
