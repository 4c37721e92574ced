// Datasets (torch.utils.data): an indexable collection with a length, and the
// standard ways to build and combine them.

import { FerrogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { randperm } from '../creation.js';
import type { Generator } from './generator.js';

/**
 * Anything with a length and an item getter; a DataLoader batches its items.
 *
 * @example
 * ```ts
 * const squares: data.Dataset<[number, number]> = { length: 10, get: (i) => [i, i * i] };
 * ```
 */
export interface Dataset<T> {
  readonly length: number;
  get(i: number): T;
}

function checkIndex(name: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new FerrogradError('value', `${name}.get: index ${i} is out of range for a dataset of length ${length}`);
  }
}

const shapeOf = (t: Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * Rows of tensors that share their first dim; `get(i)` returns row i of each (a
 * label vector [N] gives 0-d rows). A DataLoader batches it with one `indexSelect`
 * per tensor rather than row by row. The tensors are not copied: keep them alive
 * (create them outside scopes, or `keep()` them) as long as the dataset is used.
 *
 * @example
 * ```ts
 * const ds = new data.TensorDataset(X, y);   // X [N, 4], y [N]
 * const [x0, y0] = ds.get(0);                 // [4], []
 * ```
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> implements Dataset<T> {
  readonly tensors: T;

  constructor(...tensors: T) {
    if (tensors.length === 0) throw new FerrogradError('value', 'TensorDataset: expected at least one tensor');
    const n = tensors[0].ndim > 0 ? tensors[0].shape[0] : -1;
    if (tensors.some((t) => t.ndim === 0 || t.shape[0] !== n)) {
      throw new FerrogradError(
        'shape',
        `TensorDataset: size mismatch between tensors: every tensor needs the same first dim (one row per item), got shapes ${tensors.map(shapeOf).join(', ')}`,
      );
    }
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0].shape[0];
  }

  get(i: number): T {
    checkIndex('TensorDataset', i, this.length);
    // map() forgets that the result has one entry per tensor, as T says.
    return this.tensors.map((t) => t.select(0, i)) as T;
  }
}

/**
 * The items of `dataset` at `indices`, in that order.
 *
 * @example
 * ```ts
 * const firstTen = new data.Subset(ds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * ```
 */
export class Subset<T> implements Dataset<T> {
  readonly indices: readonly number[];

  constructor(
    readonly dataset: Dataset<T>,
    indices: readonly number[],
  ) {
    for (const i of indices) checkIndex('Subset', i, dataset.length);
    // A copy, so that the caller mutating its array cannot change the subset.
    this.indices = Object.freeze([...indices]);
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T {
    checkIndex('Subset', i, this.length);
    return this.dataset.get(this.indices[i]);
  }
}

/**
 * Datasets one after another: item `i` of the concatenation.
 *
 * @example
 * ```ts
 * const both = new data.ConcatDataset([trainA, trainB]); // both.length === trainA.length + trainB.length
 * ```
 */
export class ConcatDataset<T> implements Dataset<T> {
  /** Running totals of the lengths: item i lives in the first dataset whose total exceeds i. */
  readonly cumulativeSizes: readonly number[];
  readonly datasets: readonly Dataset<T>[];

  constructor(datasets: readonly Dataset<T>[]) {
    if (datasets.length === 0) throw new FerrogradError('value', 'ConcatDataset: datasets should not be an empty list');
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }

  get(i: number): T {
    checkIndex('ConcatDataset', i, this.length);
    // Binary search: concatenations of many small datasets stay O(log k) per item.
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (i < this.cumulativeSizes[mid]) hi = mid;
      else lo = mid + 1;
    }
    return this.datasets[lo].get(lo === 0 ? i : i - this.cumulativeSizes[lo - 1]);
  }
}

/** Options of `randomSplit`. */
export interface RandomSplitOptions {
  /** Shuffle with this generator instead of the global seeded one (`manualSeed`). */
  generator?: Generator;
}

/** A permutation of 0..n-1 as numbers, from `generator` or the core's seeded one. */
export function permutation(n: number, generator?: Generator): number[] {
  if (generator !== undefined) return generator.randperm(n);
  const p = randperm(n);
  try {
    return Array.from(p.data());
  } finally {
    p.dispose();
  }
}

/**
 * Splits a dataset at random into non-overlapping subsets of the given lengths, or
 * of the given fractions when they sum to 1 (each gets `floor(n × f)` items and the
 * remainder is dealt one by one from the first split on, as PyTorch does).
 *
 * @example
 * ```ts
 * manualSeed(0);
 * const [train, test] = data.randomSplit(ds, [0.8, 0.2]); // or [120, 30]
 * ```
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], options: RandomSplitOptions = {}): Subset<T>[] {
  const n = dataset.length;
  const total = lengths.reduce((a, b) => a + b, 0);
  let sizes = [...lengths];
  // PyTorch's rule: a sum close to 1 that does not exceed the length means fractions.
  if (Math.abs(total - 1) <= 1e-9 && total <= n) {
    lengths.forEach((f, i) => {
      if (!(f >= 0 && f <= 1)) throw new FerrogradError('value', `randomSplit: fraction at index ${i} is not between 0 and 1 (got ${f})`);
    });
    sizes = lengths.map((f) => Math.floor(n * f));
    const remainder = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) sizes[i % sizes.length] += 1;
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== n) {
    throw new FerrogradError(
      'value',
      `randomSplit: sum of input lengths [${lengths.join(', ')}] does not equal the length of the input dataset (${n}); give non-negative integer lengths summing to ${n} or fractions summing to 1`,
    );
  }
  const perm = permutation(n, options.generator);
  let at = 0;
  return sizes.map((s) => new Subset(dataset, perm.slice(at, (at += s))));
}
