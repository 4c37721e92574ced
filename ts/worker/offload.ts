// offload(): a model running in a worker, behind a handle whose calls look like the
// model's own but return promises. The model crosses as saveModel bytes.

import { nn, Tensor, keep, save, load, saveModel, type MemoryInfo, type ModuleSource } from '../index.js';
import { sendAndFree } from './transfer.js';
import { WorkerClient } from './client.js';
import type { HostApi } from './host.js';

/** Options of `offload`. */
export interface OffloadOptions {
  /** Where the model's class comes from, when it is a user-defined nn.Module subclass (see `ModuleSource`). */
  source?: ModuleSource;
  /** A name for the worker (shown in devtools and in error messages). */
  name?: string;
}

/**
 * A model running in a worker. Calls queue in order; if the worker crashes, every
 * pending call rejects with a `WorkerCrashedError` and `restart()` brings it back.
 */
export interface OffloadedModel {
  /** `model.forward(x)` in the worker, in the mode the model was offloaded in, without autograd. */
  forward(x: Tensor): Promise<Tensor>;
  /** `model.forward(x)` in eval mode (dropout off), without autograd. */
  predict(x: Tensor): Promise<Tensor>;
  /** Copies new weights into the worker's model (keys as `stateDict()`; missing keys keep their values). */
  updateWeights(stateDict: Record<string, Tensor>): Promise<void>;
  /** The worker model's state dict. */
  stateDict(): Promise<Record<string, Tensor>>;
  /** The worker's wasm memory: live tensors and bytes (flat across calls). */
  memory(): Promise<MemoryInfo>;
  /** Starts a fresh worker with the model as last shipped (initial weights plus `updateWeights`). */
  restart(): Promise<void>;
  /** Stops the worker; pending calls reject. */
  terminate(): Promise<void>;
  /** Calls queued or running. */
  readonly pending: number;
}

/**
 * A handle on `x`'s data that outlives the caller's scope: a queued call serializes
 * its arguments only when its turn comes, by which time the caller's DataLoader
 * iteration or tidy may have freed `x`. It is freed once it has been sent.
 */
function snapshot(x: Tensor): Tensor {
  return sendAndFree(keep(x.detach()));
}

class Offloaded implements OffloadedModel {
  #client: WorkerClient<HostApi>;
  readonly #bytes: Uint8Array<ArrayBuffer>;
  /** Weights sent by updateWeights, as safetensors bytes, for restart() to send again. */
  #weights: Uint8Array<ArrayBuffer> | null = null;
  readonly #name: string;
  #ready: Promise<void>;

  constructor(bytes: Uint8Array<ArrayBuffer>, name: string) {
    this.#bytes = bytes;
    this.#name = name;
    this.#client = new WorkerClient<HostApi>(name);
    this.#ready = this.#load();
  }

  async #load(): Promise<void> {
    // Copies go over (and are detached there) so that restart() can ship them again.
    await this.#client.call((r) => r.load(this.#bytes.slice()));
    const weights = this.#weights;
    if (weights !== null) await this.#client.call((r) => r.updateWeights(load(weights)));
  }

  get pending(): number {
    return this.#client.pending;
  }
  forward(x: Tensor): Promise<Tensor> {
    const snap = snapshot(x);
    return this.#client.call((r) => r.forward(snap));
  }
  predict(x: Tensor): Promise<Tensor> {
    const snap = snapshot(x);
    return this.#client.call((r) => r.predict(snap));
  }
  async updateWeights(stateDict: Record<string, Tensor>): Promise<void> {
    const previous = this.#weights === null ? {} : load(this.#weights);
    this.#weights = save({ ...previous, ...stateDict });
    for (const t of Object.values(previous)) t.dispose();
    const snaps = Object.fromEntries(Object.entries(stateDict).map(([k, t]) => [k, snapshot(t)]));
    await this.#client.call((r) => r.updateWeights(snaps));
  }
  stateDict(): Promise<Record<string, Tensor>> {
    return this.#client.call((r) => r.stateDict());
  }
  memory(): Promise<MemoryInfo> {
    return this.#client.call((r) => r.memory());
  }
  async restart(): Promise<void> {
    await this.#client.terminate();
    this.#client = new WorkerClient<HostApi>(this.#name);
    this.#ready = this.#load();
    await this.#ready;
  }
  terminate(): Promise<void> {
    return this.#client.terminate();
  }
  /** Resolves once the model is loaded in the worker (calls wait for it anyway). */
  ready(): Promise<void> {
    return this.#ready;
  }
}

/**
 * Runs `model` in a worker (a browser module Worker or a Node worker thread) and
 * returns a handle to call it. The model crosses as architecture + weights, so its
 * layers must be built-in, registered, or given a `source`. The result is computed by
 * the same wasm code, so it is bit-identical to `model.forward(x)` here.
 *
 * @example
 * ```ts
 * import { offload } from 'ferrograd/worker';
 * const remote = await offload(model);
 * const logits = await remote.forward(x); // the main thread stays free meanwhile
 * await remote.terminate();
 * ```
 */
export async function offload(model: nn.Module, options: OffloadOptions = {}): Promise<OffloadedModel> {
  const bytes = saveModel(model, options.source === undefined ? {} : { source: options.source });
  const handle = new Offloaded(bytes, options.name ?? `ferrograd-${model.constructor.name}`);
  await handle.ready();
  return handle;
}
