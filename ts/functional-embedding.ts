// F.embedding: rows of a weight matrix picked by integer indices.

import { FerrogradError } from './errors.js';
import { Tensor, where } from './tensor.js';

/** Options of `F.embedding`. */
export interface EmbeddingOptions {
  /** Index whose row receives no gradient (negative counts from the end). */
  paddingIdx?: number | null;
}

/**
 * Looks up rows of `weight` (`[numEmbeddings, dim]`) for int32 `input` of any shape; the
 * result is `[...input.shape, dim]`. The `paddingIdx` row is returned as it is but gets no
 * gradient, as in PyTorch.
 *
 * @example
 * ```ts
 * const w = randn([10, 3], { requiresGrad: true });
 * F.embedding(tensor([[1, 2], [4, 0]], { dtype: 'int32' }), w, { paddingIdx: 0 }).shape; // [2, 2, 3]
 * ```
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  if (input.dtype !== 'int32') {
    throw new FerrogradError('dtype', `embedding: indices must be int32, got ${input.dtype} of shape [${input.shape.join(', ')}]; call .int() first`);
  }
  if (weight.ndim !== 2) {
    throw new FerrogradError('shape', `embedding: weight must be 2-D [numEmbeddings, embeddingDim], got [${weight.shape.join(', ')}]`);
  }
  const [n, dim] = weight.shape;
  let pad = options.paddingIdx ?? null;
  if (pad !== null) {
    if (!Number.isInteger(pad) || pad < -n || pad >= n) {
      throw new FerrogradError('value', `embedding: paddingIdx must be an integer within numEmbeddings (${n}), got ${pad}`);
    }
    if (pad < 0) pad += n;
  }
  const flat = input.reshape([-1]);
  let rows = weight.indexSelect(0, flat);
  // The padding positions take their row from a detached copy of the weight, so the value
  // is unchanged but no gradient reaches that row.
  if (pad !== null && rows.requiresGrad) rows = where(flat.eq(pad).reshape([-1, 1]), rows.detach(), rows);
  return rows.reshape([...input.shape, dim]);
}
