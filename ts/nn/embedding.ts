// Embedding: a learnable lookup table from token ids to vectors.

import { Tensor } from '../tensor.js';
import { randn, arange } from '../creation.js';
import { FerrogradError } from '../errors.js';
import { noGrad } from '../autograd.js';
import { embedding } from '../functional-embedding.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as init from './init.js';

/** Options of `Embedding`. */
export interface EmbeddingModuleOptions {
  /** This row starts at zero, is returned as it is, and never gets a gradient (e.g. a PAD token). */
  paddingIdx?: number | null;
}

/**
 * A table of `numEmbeddings` vectors of size `embeddingDim` indexed by int32 ids; weight
 * `[numEmbeddings, embeddingDim]` initialised N(0, 1) as in PyTorch, with the `paddingIdx`
 * row zeroed.
 *
 * @example
 * ```ts
 * const emb = new nn.Embedding(100, 16, { paddingIdx: 0 });
 * emb.forward(tensor([[5, 7, 0]], { dtype: 'int32' })).shape; // [1, 3, 16]
 * ```
 */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingModuleOptions = {},
  ) {
    super();
    for (const [name, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new FerrogradError('value', `Embedding: ${name} must be a non-negative integer, got ${v}`);
    }
    const pad = options.paddingIdx ?? null;
    if (pad !== null && (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings)) {
      throw new FerrogradError('value', `Embedding: paddingIdx must be within numEmbeddings (${numEmbeddings}), got ${pad}`);
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    this.weight = new Parameter(randn([numEmbeddings, embeddingDim]));
    this.resetParameters();
  }
  /** N(0, 1), then the padding row to zero. */
  resetParameters(): void {
    init.normal_(this.weight);
    const pad = this.paddingIdx;
    if (pad === null) return;
    noGrad(() => {
      const keepRow = arange(this.numEmbeddings, undefined, 1, { dtype: 'int32' }).ne(pad).float().reshape([-1, 1]);
      this.weight.copy_(this.weight.mul(keepRow));
    });
  }
  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }
}
