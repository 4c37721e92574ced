// Datasets (torch.utils.data): an indexable collection with a length, and the
// standard ways to build and combine them.

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';
import { randperm } from '../creation.js';
import type { Generator } from './generator.js';

/** Anything with a length and an item getter. */
export interface Dataset<T> {
  readonly length: number;
  get(i: number): T;
}

function checkIndex(name: string, i: number, length: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= length) {
    throw new FerrogradError('value', `${name}.get: index ${i} is out of range for a dataset of length ${length}`);
  }
}

/**
 * Rows of tensors that share their first dim; `get(i)` returns row i of each.
 * DataLoader batches it with one `indexSelect` per tensor, no per-row copies.
 *
 * @example
 * ```ts
 * const ds = new data.TensorDataset(X, y);   // X [N, 4], y [N]
 * const [x0, y0] = ds.get(0);                 // [4], []
 * ```
 */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new FerrogradError('value', 'TensorDataset: expected at least one tensor');
    const n = tensors[0].ndim > 0 ? tensors[0].shape[0] : -1;
    for (const t of tensors) {
      if (t.ndim === 0 || t.shape[0] !== n) {
        throw new FerrogradError(
          'shape',
          `TensorDataset: size mismatch between tensors: all first dims must be equal, got shapes ${tensors.map((x) => `[${x.shape.join(', ')}]`).join(', ')}`,
        );
      }
    }
    this.tensors = tensors;
  }
  get length(): number {
    return this.tensors[0].shape[0];
  }
  get(i: number): Tensor[] {
    checkIndex('TensorDataset', i, this.length);
    return this.tensors.map((t) => t.select(0, i));
  }
}

/** The items of `dataset` at `indices`. */
export class Subset<T> implements Dataset<T> {
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: number[],
  ) {
    for (const i of indices) checkIndex('Subset', i, dataset.length);
  }
  get length(): number {
    return this.indices.length;
  }
  get(i: number): T {
    checkIndex('Subset', i, this.length);
    return this.dataset.get(this.indices[i]);
  }
}

/** Datasets one after another. */
export class ConcatDataset<T> implements Dataset<T> {
  readonly cumulativeSizes: number[];
  constructor(readonly datasets: Dataset<T>[]) {
    if (datasets.length === 0) throw new FerrogradError('value', 'ConcatDataset: datasets should not be an empty list');
    let total = 0;
    this.cumulativeSizes = datasets.map((d) => (total += d.length));
  }
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }
  get(i: number): T {
    checkIndex('ConcatDataset', i, this.length);
    const k = this.cumulativeSizes.findIndex((c) => i < c);
    return this.datasets[k].get(k === 0 ? i : i - this.cumulativeSizes[k - 1]);
  }
}

/**
 * Splits a dataset at random into non-overlapping subsets of the given lengths, or
 * fractions summing to 1 (remainders go to the first splits, as PyTorch does).
 *
 * @example
 * ```ts
 * const [train, test] = data.randomSplit(ds, [0.8, 0.2]);
 * ```
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], options: { generator?: Generator } = {}): Subset<T>[] {
  const n = dataset.length;
  let sizes = lengths;
  const fractions = lengths.every((l) => l >= 0 && l <= 1) && Math.abs(lengths.reduce((a, b) => a + b, 0) - 1) < 1e-9 && lengths.some((l) => !Number.isInteger(l) || n <= 1);
  if (fractions) {
    sizes = lengths.map((f) => Math.floor(n * f));
    let rest = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % sizes.length, rest--) sizes[i] += 1;
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== n) {
    throw new FerrogradError('value', `randomSplit: sum of input lengths [${lengths.join(', ')}] does not equal the length of the input dataset (${n})`);
  }
  const perm = options.generator ? options.generator.randperm(n) : tidy(() => Array.from(randperm(n).data()));
  let at = 0;
  return sizes.map((s) => new Subset(dataset, perm.slice(at, (at += s))));
}
