// The shards of DataParallel's shared-memory steps, written into a SharedArrayBuffer
// instead of fresh transferred arrays: the main thread copies each shard once, straight
// out of its wasm memory, and a step's message carries only views of the ring. No array
// is allocated per step on either side, so neither thread's garbage collector is pushed
// by external memory, and the main thread (which shares the cores with the replicas)
// spends less time per step.

import type { Tensor } from '../index.js';
import type { TensorWire } from './transfer.js';

/**
 * `depth` slots, each holding one step's shards for every rank, used in turn. A slot is
 * reused only once the step that last used it has settled: its reply comes after every
 * replica has read its shard (each reads before the step's barrier).
 */
export class ShardRing {
  readonly #depth: number;
  #buffer: SharedArrayBuffer | null = null;
  #slotBytes = 0;
  /** The step that last used each slot of the current buffer. */
  #users: (number | undefined)[] = [];

  constructor(depth: number) {
    this.#depth = depth;
  }

  /**
   * Copies step `step`'s shards into its slot and returns their wire forms (views of the
   * ring), or null when that slot still belongs to a step in flight: the caller then sends
   * the shards some other way.
   */
  place(step: number, shards: readonly (readonly [Tensor, Tensor] | null)[], inFlight: (step: number) => boolean): ([TensorWire<SharedArrayBuffer>, TensorWire<SharedArrayBuffer>] | null)[] | null {
    const bytes = shards.reduce((n, s) => n + (s === null ? 0 : 4 * (s[0].numel() + s[1].numel())), 0);
    if (this.#buffer === null || bytes > this.#slotBytes) {
      // A larger batch than any so far: a new buffer, all of whose slots are free. Steps in
      // flight keep the old one alive through their messages' views.
      this.#slotBytes = bytes;
      this.#buffer = new SharedArrayBuffer(this.#depth * bytes);
      this.#users = [];
    }
    const slot = step % this.#depth;
    const user = this.#users[slot];
    if (user !== undefined && inFlight(user)) return null;
    this.#users[slot] = step;
    const buffer = this.#buffer;
    let at = slot * this.#slotBytes;
    const wire = (t: Tensor): TensorWire<SharedArrayBuffer> => {
      const n = t.numel();
      const data = t.dtype === 'int32' ? t.data(new Int32Array(buffer, at, n)) : t.data(new Float32Array(buffer, at, n));
      at += 4 * n;
      return { shape: t.shape, dtype: t.dtype, data };
    };
    return shards.map((s) => (s === null ? null : [wire(s[0]), wire(s[1])]));
  }
}
