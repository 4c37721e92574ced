// DataLoader: batches of a dataset, optionally shuffled, each iteration inside its
// own memory scope so that a training loop with no memory calls stays flat.

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { fromArray, randperm } from '../creation.js';
import { openScope, closeScope, tidy, type ScopeHandle } from '../scope.js';
import { TensorDataset, Subset, type Dataset } from './dataset.js';
import { defaultCollate } from './collate.js';
import type { Generator } from './generator.js';

/** Options of `DataLoader`, with PyTorch's defaults. */
export interface DataLoaderOptions<B> {
  batchSize?: number;
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
  /** Builds a batch from a list of items (default: stack tensors, recursively). */
  collate?: (items: unknown[]) => B;
  /** Shuffle with this generator instead of the global seeded one. */
  generator?: Generator;
}

/** Row indices of the underlying TensorDataset, when batches can be cut from it directly. */
function tensorSource(ds: Dataset<unknown>, indices: number[]): { source: TensorDataset; rows: number[] } | null {
  if (ds instanceof TensorDataset) return { source: ds, rows: indices };
  if (ds instanceof Subset) return tensorSource(ds.dataset, indices.map((i) => ds.indices[i]));
  return null;
}

/**
 * Iterates a dataset in batches. Tensors created during an iteration (the batch and
 * whatever the loop body computes from it) are freed when the next iteration starts
 * or the loop ends; `keep()` a tensor that must outlive its iteration.
 *
 * @example
 * ```ts
 * const loader = new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 64, shuffle: true });
 * for (const [xb, yb] of loader) {
 *   const loss = lossFn.forward(model.forward(xb), yb);
 *   opt.zeroGrad(); loss.backward(); opt.step();
 * }
 * ```
 */
export class DataLoader<B = Tensor[]> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly #collate: ((items: unknown[]) => B) | null;
  readonly #generator: Generator | undefined;

  constructor(
    readonly dataset: Dataset<unknown>,
    options: DataLoaderOptions<B> = {},
  ) {
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) {
      throw new FerrogradError('value', `DataLoader: batchSize should be a positive integer value, but got batchSize=${String(options.batchSize)}`);
    }
    if (!dataset || typeof dataset.length !== 'number' || typeof dataset.get !== 'function') {
      throw new FerrogradError('value', 'DataLoader: dataset must have a numeric length and a get(i) method');
    }
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.#collate = options.collate ?? null;
    this.#generator = options.generator;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  #order(): number[] {
    const n = this.dataset.length;
    if (!this.shuffle) return Array.from({ length: n }, (_, i) => i);
    if (this.#generator) return this.#generator.randperm(n);
    return tidy(() => Array.from(randperm(n).data()));
  }

  #batch(indices: number[]): B {
    const direct = this.#collate === null ? tensorSource(this.dataset, indices) : null;
    if (direct) {
      const idx = fromArray(Int32Array.from(direct.rows), [direct.rows.length]);
      // Collated batches of a TensorDataset are exactly its tensors indexed by row.
      return direct.source.tensors.map((t) => t.indexSelect(0, idx)) as B;
    }
    const items = indices.map((i) => this.dataset.get(i));
    return this.#collate ? this.#collate(items) : (defaultCollate(items) as B);
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.#order();
    const batches = this.length;
    let scope: ScopeHandle | null = null;
    try {
      for (let b = 0; b < batches; b++) {
        if (scope) closeScope(scope);
        scope = openScope(`DataLoader iteration ${b} (batches are freed when the next one starts)`);
        yield this.#batch(order.slice(b * this.batchSize, (b + 1) * this.batchSize));
      }
    } finally {
      if (scope) closeScope(scope);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    for (const b of this) yield b;
  }
}
