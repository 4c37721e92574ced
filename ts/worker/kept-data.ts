// The training data a DataParallel's replicas keep, as PyTorch's DistributedSampler
// leaves each process its own dataset: when `fit` is given a DataLoader that cuts its
// batches straight from a TensorDataset, the dataset's two tensors are copied once into
// shared memory that every replica reads, and each epoch only sends the row order. The
// main thread then copies nothing and posts nothing per step.

import { data, type Tensor } from '../index.js';
import type { TensorWire } from './transfer.js';
import type { DataMessage } from './step-messages.js';

/** One epoch of a DataLoader as rows of its TensorDataset: batch b is `rows[bounds[b]]` to `rows[bounds[b + 1] - 1]`. */
export interface RunPlan {
  source: data.TensorDataset;
  rows: Int32Array;
  bounds: Int32Array;
}

/**
 * The rows of the next epoch of `batches` (drawing its order, as a loop over it would),
 * when it is a DataLoader cutting `[x, y]` batches from a TensorDataset; else null, and
 * nothing is drawn.
 */
export function runPlan(batches: unknown): RunPlan | null {
  if (!(batches instanceof data.DataLoader) || batches.tensorRows([])?.source.tensors.length !== 2) return null;
  const items: number[] = [];
  const bounds = [0];
  for (const batch of batches.batchSampler) {
    for (const item of batch) items.push(item);
    bounds.push(items.length);
  }
  // The same loader maps every item the same way: the whole epoch at once.
  const cut = batches.tensorRows(items);
  if (cut === null) return null;
  return { source: cut.source, rows: Int32Array.from(cut.rows), bounds: Int32Array.from(bounds) };
}

function shared(t: Tensor): TensorWire<SharedArrayBuffer> {
  const buffer = new SharedArrayBuffer(4 * t.numel());
  const values = t.dtype === 'int32' ? t.data(new Int32Array(buffer)) : t.data(new Float32Array(buffer));
  return { shape: t.shape, dtype: t.dtype, data: values };
}

/**
 * The TensorDataset the replicas hold. It is copied when a run first uses it, like a
 * DataLoader's persistent workers in PyTorch: changes made in place to its tensors
 * afterwards are not seen (a new TensorDataset over them is copied again).
 */
export class KeptData {
  #source: data.TensorDataset | null = null;

  /** The message that gives the replicas `source`, or null when they hold it already. */
  ship(source: data.TensorDataset): DataMessage | null {
    if (source === this.#source) return null;
    const [x, y] = source.tensors;
    const message: DataMessage = { kind: 'data', x: shared(x), y: shared(y) };
    this.#source = source;
    return message;
  }
}
