/**
 * The error every ferrograd operation throws for bad input. Its message names the op,
 * the shapes, dtypes or values involved, and the fix; `kind` classifies it.
 *
 * @example
 * ```ts
 * try { randn([2, 3]).matmul(randn([4, 5])); }
 * catch (e) { if (e instanceof FerrogradError) console.log(e.kind, e.message); }
 * // shape matmul: cannot multiply [2, 3] by [4, 5]: inner dimensions 3 and 4 differ
 * ```
 */
export class FerrogradError extends Error {
  /** 'shape' | 'dim' | 'dtype' | 'value' | 'freed' | 'oom' | 'autograd' | 'usage' */
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(message);
    this.name = 'FerrogradError';
    this.kind = kind;
  }
}
