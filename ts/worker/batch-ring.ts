// The batches of DataParallel's shared-memory steps, written into a SharedArrayBuffer
// instead of fresh transferred arrays: the main thread copies each batch once, straight
// out of its wasm memory, and each replica's message carries views of its rows. No array
// is allocated per step on either side, so neither thread's garbage collector is pushed
// by external memory, and the main thread (which shares the cores with the replicas)
// does two copies a step and no tensor work.

import type { Tensor } from '../index.js';
import type { TensorWire } from './transfer.js';

/** One rank's rows of a step's batch, as wire tensors; null for a rank without rows. */
export type ShardWires = ([TensorWire<ArrayBufferLike>, TensorWire<ArrayBufferLike>] | null)[];

/**
 * `depth` slots, each holding one step's batch, used in turn. A slot is reused only once
 * the step that last used it has settled: its reply comes after every replica has read
 * its rows (each reads before the step's barrier).
 */
export class BatchRing {
  readonly #depth: number;
  #buffer: SharedArrayBuffer | null = null;
  #slotBytes = 0;
  /** The step that last used each slot of the current buffer. */
  #users: (number | undefined)[] = [];

  constructor(depth: number) {
    this.#depth = depth;
  }

  /**
   * Copies step `step`'s batch into its slot and returns each rank's rows (`sizes`, in
   * rank order) as views of it, `shared`; when that slot still belongs to a step in
   * flight, the rows come in arrays of their own, to be transferred.
   */
  place(step: number, x: Tensor, y: Tensor, sizes: readonly number[], inFlight: (step: number) => boolean): { shards: ShardWires; shared: boolean } {
    const bytes = 4 * (x.numel() + y.numel());
    if (this.#buffer === null || bytes > this.#slotBytes) {
      // A larger batch than any so far: a new buffer, all of whose slots are free. Steps in
      // flight keep the old one alive through their messages' views.
      this.#slotBytes = bytes;
      this.#buffer = new SharedArrayBuffer(this.#depth * bytes);
      this.#users = [];
    }
    const slot = step % this.#depth;
    const user = this.#users[slot];
    if (user !== undefined && inFlight(user)) return { shards: split(x, y, x.data(), y.data(), sizes, (a, from, to) => a.slice(from, to)), shared: false };
    this.#users[slot] = step;
    const at = slot * this.#slotBytes;
    const xs = read(x, this.#buffer, at);
    const ys = read(y, this.#buffer, at + 4 * x.numel());
    return { shards: split(x, y, xs, ys, sizes, (a, from, to) => a.subarray(from, to)), shared: true };
  }
}

function read(t: Tensor, buffer: SharedArrayBuffer, at: number): Float32Array | Int32Array {
  const n = t.numel();
  return t.dtype === 'int32' ? t.data(new Int32Array(buffer, at, n)) : t.data(new Float32Array(buffer, at, n));
}

type Part = (a: Float32Array | Int32Array, from: number, to: number) => Float32Array | Int32Array;

/** Each rank's contiguous rows of the batch `(x, y)`, whose elements are `xs`, `ys`. */
function split(x: Tensor, y: Tensor, xs: Float32Array | Int32Array, ys: Float32Array | Int32Array, sizes: readonly number[], part: Part): ShardWires {
  const n = x.shape[0];
  const xRow = n === 0 ? 0 : xs.length / n;
  const yRow = n === 0 ? 0 : ys.length / n;
  let row = 0;
  return sizes.map((len) => {
    const start = row;
    row += len;
    if (len === 0) return null;
    const wire = (t: Tensor, a: Float32Array | Int32Array, width: number): TensorWire<ArrayBufferLike> => ({
      shape: [len, ...t.shape.slice(1)],
      dtype: t.dtype,
      data: part(a, start * width, (start + len) * width),
    });
    return [wire(x, xs, xRow), wire(y, ys, yRow)];
  });
}
