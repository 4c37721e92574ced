// DataLoader: the batches of a dataset, optionally shuffled, each iteration inside
// its own memory scope so that a training loop with no memory calls stays flat.

import { FerrogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { fromArray } from '../creation.js';
import { openScope, closeScope, type ScopeHandle } from '../scope.js';
import { TensorDataset, Subset, permutation, type Dataset } from './dataset.js';
import { defaultCollate } from './collate.js';
// Aliased: the built-in Generator type is needed for the iterator below.
import { Generator as RandomGenerator } from './generator.js';

/** Options of `DataLoader`, with PyTorch's defaults. */
export interface DataLoaderOptions<B = Tensor[], T = unknown> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Draw a new order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Builds a batch from a list of items (default: `defaultCollate`). */
  collate?: (items: T[]) => B;
  /** Shuffle with this generator instead of the global seeded one (`manualSeed`). */
  generator?: RandomGenerator;
}

/** Where a DataLoader cuts a batch from: rows of a TensorDataset's tensors (see `DataLoader.tensorRows`). */
export interface TensorRows {
  source: TensorDataset;
  /** The rows of `source`'s tensors that make the batch, in order. */
  rows: number[];
}

const OPTION_NAMES = ['batchSize', 'shuffle', 'dropLast', 'collate', 'generator'];

/**
 * The TensorDataset a batch can be cut from directly, and the rows to cut: a
 * TensorDataset or Subsets of one whose `get` is the stock one (a subclass that
 * overrides `get`, to transform items say, goes through `get` and collate).
 */
function tensorRows(ds: Dataset<unknown>, rows: number[]): TensorRows | null {
  if (ds instanceof TensorDataset) return ds.get === TensorDataset.prototype.get ? { source: ds, rows } : null;
  if (ds instanceof Subset && ds.get === Subset.prototype.get) {
    const { indices } = ds;
    return tensorRows(ds.dataset, rows.map((i) => indices[i]));
  }
  return null;
}

/** A batch the way defaultCollate makes it, cut straight from the tensors when it can. */
function defaultBatch(dataset: Dataset<unknown>, indices: number[]): unknown {
  const direct = tensorRows(dataset, indices);
  if (direct === null) return defaultCollate(indices.map((i) => dataset.get(i)));
  const idx = fromArray(Int32Array.from(direct.rows));
  // Exactly what defaultCollate would stack from the rows, without the per-row copies.
  return direct.source.tensors.map((t) => t.indexSelect(0, idx));
}

// Without a collate function, B is the caller's statement of what defaultCollate
// makes of the items (Tensor[] by default, right for TensorDatasets); the type
// system cannot relate the two, so this is the one place that trusts it.
const asBatch = <B>(batch: unknown): B => batch as B;

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/**
 * Iterates a dataset in batches, with `for…of` or `for await…of`; one loop over it
 * is one epoch, and `length` is the number of batches.
 *
 * Memory: every iteration runs in its own scope. The batch and every tensor the
 * loop body creates are freed when the loop moves on to the next batch or ends
 * (`break`, `return` and exceptions included), so a training loop needs no `tidy`.
 * `keep()` a tensor that must outlive its iteration (free it yourself later), or
 * read numbers out with `item()`. Drive the iterator by hand only if you also call
 * its `return()`: an iterator abandoned mid-epoch leaves its scope open, and that
 * scope then owns (and holds on to) every tensor created afterwards.
 *
 * Batches of a `TensorDataset` (or `Subset`s of one, as `randomSplit` makes) are cut
 * with one `indexSelect` per tensor; other datasets go through `get(i)` item by item
 * and `collate` (default: `defaultCollate`).
 *
 * Types: `B` is the batch type (default `Tensor[]`, what a TensorDataset gives),
 * inferred from `collate` when there is one; for other items without a collate
 * function, name it: `new DataLoader<data.Collated<Item>>(ds)`. `T` is the item type.
 *
 * @example
 * ```ts
 * const loader = new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 64, shuffle: true });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [xb, yb] of loader) {
 *     const loss = lossFn.forward(model.forward(xb), yb);
 *     opt.zeroGrad();
 *     loss.backward();
 *     opt.step();
 *   }
 * }
 * ```
 */
export class DataLoader<B = Tensor[], T = unknown> implements Iterable<B>, AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: RandomGenerator | undefined;
  // A closure rather than the collate function itself: a field typed with T as a
  // parameter would stop DataLoader<B, [Tensor, Tensor]> passing as a DataLoader<B>.
  readonly #makeBatch: (indices: number[]) => B;
  /** Whether batches are cut by defaultCollate's rules (no collate function given). */
  readonly #collatesByDefault: boolean;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<B, T> = {}) {
    if (typeof dataset !== 'object' || dataset === null || !Number.isInteger(dataset.length) || dataset.length < 0 || typeof dataset.get !== 'function') {
      throw new FerrogradError('value', 'DataLoader: dataset should have a non-negative integer length and a get(i) method');
    }
    for (const key of Object.keys(options)) {
      // A misspelt option (batch_size) would otherwise silently fall back to its default.
      if (!OPTION_NAMES.includes(key)) {
        throw new FerrogradError('value', `DataLoader: unknown option '${key}'; the options are ${OPTION_NAMES.join(', ')}`);
      }
    }
    const { batchSize = 1, shuffle = false, dropLast = false, collate, generator } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new FerrogradError('value', `DataLoader: batchSize should be a positive integer value, but got batchSize=${describe(batchSize)}`);
    }
    if (typeof shuffle !== 'boolean') {
      throw new FerrogradError('value', `DataLoader: shuffle should be a boolean value, but got shuffle=${describe(shuffle)}`);
    }
    if (typeof dropLast !== 'boolean') {
      throw new FerrogradError('value', `DataLoader: dropLast should be a boolean value, but got dropLast=${describe(dropLast)}`);
    }
    if (collate !== undefined && typeof collate !== 'function') {
      throw new FerrogradError('value', `DataLoader: collate should be a function, but got collate=${describe(collate)}`);
    }
    if (generator !== undefined && !(generator instanceof RandomGenerator)) {
      throw new FerrogradError('value', `DataLoader: generator should be a data.Generator, but got generator=${describe(generator)}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generator;
    this.#collatesByDefault = collate === undefined;
    this.#makeBatch = collate !== undefined ? (indices) => collate(indices.map((i) => dataset.get(i))) : (indices) => asBatch<B>(defaultBatch(dataset, indices));
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * The item indices of each batch of an epoch, like PyTorch's `loader.batch_sampler`:
   * every loop over it is a new epoch, drawing a new order when shuffling, exactly as a
   * loop over the loader itself does (the batches are made from these).
   *
   * @example
   * ```ts
   * for (const indices of loader.batchSampler) console.log(indices); // [3, 0, 7, …], …
   * ```
   */
  get batchSampler(): Iterable<number[]> {
    return { [Symbol.iterator]: () => this.#batchIndices() };
  }

  *#batchIndices(): Generator<number[], void, undefined> {
    // Drawn when the epoch starts (first next()), so each loop gets a new order.
    const order = this.shuffle ? permutation(this.dataset.length, this.generator) : Array.from({ length: this.dataset.length }, (_, i) => i);
    for (let b = 0; b < this.length; b++) yield order.slice(b * this.batchSize, (b + 1) * this.batchSize);
  }

  /**
   * Where the batch of the items `indices` comes from when it is cut straight from
   * tensors: the TensorDataset and its rows, for a TensorDataset (or Subsets of one) with
   * the default collate. Null when batches are made item by item through `get` and a
   * collate function. Data-parallel training uses it to ship the tensors to its workers once.
   *
   * @example
   * ```ts
   * const loader = new data.DataLoader(new data.Subset(ds, [5, 9]), { batchSize: 2 });
   * loader.tensorRows([1, 0]); // { source: ds, rows: [9, 5] }
   * ```
   */
  tensorRows(indices: number[]): TensorRows | null {
    return this.#collatesByDefault ? tensorRows(this.dataset, indices) : null;
  }

  /** One epoch: the batches in order (a fresh order per epoch when shuffling). */
  *[Symbol.iterator](): Generator<B, void, undefined> {
    let scope: ScopeHandle | undefined;
    let b = 0;
    try {
      for (const indices of this.batchSampler) {
        if (scope !== undefined) closeScope(scope);
        scope = openScope(`DataLoader iteration ${b++} (keep() what must outlive it)`);
        yield this.#makeBatch(indices);
      }
    } finally {
      // Runs on exhaustion and on break/return/throw in the loop (the iterator's return()).
      if (scope !== undefined) closeScope(scope);
    }
  }

  /**
   * The same epoch for `for await…of`, e.g. in a loop that awaits UI updates. While
   * the loop body awaits, the iteration's scope stays open, so tensors that other
   * async code creates meanwhile are freed with the batch: `keep()` those.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<B, void, undefined> {
    // for…of closes the inner epoch (and its scope) when this generator is returned early.
    for (const batch of this) yield batch;
  }
}
