// The Tensor handle: an id into wasm memory plus a cached shape and dtype. Values
// stay in Rust; methods call the core and wrap the resulting ids.

import { FerrogradError } from './errors.js';
import { info, readData, readGradFn, fromData, type DTypeCode } from './wasm/core.js';
import * as ops from './wasm/ops.js';
import { markTracked, track, untrack, withScope, type Tracked } from './scope.js';

// Consumers whose TypeScript lib predates explicit resource management still need
// `Symbol.dispose` to type-check our .d.ts; this matches lib.esnext.disposable.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export type DType = 'float32' | 'int32';
/** A nested array of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

const DTYPE_NAMES: readonly DType[] = ['float32', 'int32'];
export const dtypeCode = (d: DType): DTypeCode => (d === 'int32' ? 1 : 0);

/** What the garbage collector's backstop holds for a tensor: its id, and whether it is still to free. */
interface Handle {
  readonly id: number;
  live: boolean;
}

// The backstop for tensors dropped outside any scope without dispose(). Only unscoped
// tensors are registered (made outside every scope, or leaving the scopes kept or returned):
// a scope frees the rest itself, and each registration is a weak cell that every young-
// generation collection has to process. A tensor freed by hand marks its handle dead
// rather than unregistering: registering with an unregister token cost twice as much as
// registering without one.
const registry = new FinalizationRegistry<Handle>((h) => {
  if (h.live) ops.free(h.id);
  h.live = false;
});

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so that backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * An n-dimensional array of float32 or int32 in wasm memory, with autograd.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
 * const y = w.matmul(w).sum();
 * y.backward();
 * w.grad?.toArray(); // [[7, 11], [9, 13]]
 * ```
 */
export class Tensor implements Tracked {
  #id: number;
  #handle: Handle;
  #freed: string | null = null;
  #shape: readonly number[];
  #dtype: DType;

  /** Wraps a fresh core id; the scope that is open now owns the result. */
  constructor(id: number) {
    const i = info(id);
    this.#id = id;
    this.#shape = Object.freeze(i.shape);
    this.#dtype = DTYPE_NAMES[i.dtype];
    this.#handle = { id, live: true };
    if (!track(this)) this.unscoped();
  }

  /** The core id; throws the "freed" error if the tensor has been freed. */
  get id(): number {
    if (this.#freed !== null) {
      throw new FerrogradError(
        'freed',
        `Tensor(shape [${this.#shape.join(', ')}]) was freed ${this.#freed}; ` +
          'return it from the scope, call keep(tensor) to pin it, or .clone() it inside the scope',
      );
    }
    return this.#id;
  }

  get shape(): number[] {
    return [...this.#shape];
  }
  get dtype(): DType {
    return this.#dtype;
  }
  get ndim(): number {
    return this.#shape.length;
  }
  dim(): number {
    return this.#shape.length;
  }
  numel(): number {
    return this.#shape.reduce((a, b) => a * b, 1);
  }
  /** `size()` is the shape; `size(d)` one dim (negative counts from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return this.shape;
    const n = this.ndim;
    const d = dim < 0 ? dim + n : dim;
    if (!Number.isInteger(dim) || d < 0 || d >= n) {
      throw new FerrogradError('dim', `size: dim ${dim} is out of range for a tensor with ${n} dims`);
    }
    return this.#shape[d];
  }

  // ---- lifecycle ----

  get isDisposed(): boolean {
    return this.#freed !== null;
  }
  /** Frees the tensor's memory now. Using it afterwards throws. */
  dispose(): void {
    if (this.#freed !== null) return;
    untrack(this);
    this.release('by dispose()');
  }
  /** Hands this tensor to the garbage collector's backstop; scopes call it (see `Tracked`). */
  unscoped(): void {
    if (this.#handle.live) registry.register(this, this.#handle);
  }
  release(reason: string): void {
    if (this.#freed !== null) return;
    ops.free(this.#id);
    this.#handle.live = false;
    this.#freed = reason;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- reading out ----

  /**
   * A copy of the elements, row-major: a new array, or written into `out` (a typed array
   * of this tensor's dtype and exactly `numel()` elements, which may be a view into a
   * larger or shared buffer) and returned, so that reading in a loop allocates nothing.
   *
   * @example
   * ```ts
   * const buf = new Float32Array(x.numel());
   * x.data(buf); // buf now holds x's values
   * ```
   */
  data(): Float32Array | Int32Array;
  data<T extends Float32Array | Int32Array>(out: T): T;
  data(out?: Float32Array | Int32Array): Float32Array | Int32Array {
    const n = this.numel();
    if (out !== undefined) {
      const want = this.#dtype === 'int32' ? 'Int32Array' : 'Float32Array';
      const ok = this.#dtype === 'int32' ? out instanceof Int32Array : out instanceof Float32Array;
      if (!ok || out.length !== n) {
        const got = out instanceof Float32Array || out instanceof Int32Array ? `${out instanceof Int32Array ? 'an Int32Array' : 'a Float32Array'} of ${out.length}` : Object.prototype.toString.call(out);
        throw new FerrogradError('value', `data: out must be a ${want} of ${n} elements for a ${this.#dtype} tensor of shape [${this.#shape.join(', ')}], got ${got}`);
      }
    }
    return readData(this.id, dtypeCode(this.#dtype), n, out);
  }
  /** The value of a one-element tensor. */
  item(): number {
    const n = this.numel();
    if (n !== 1) {
      throw new FerrogradError('value', `item: a Tensor with ${n} elements cannot be converted to a number; only one-element tensors can`);
    }
    return this.data()[0];
  }
  /** The elements as nested arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const d = this.data();
    const shape = this.#shape;
    if (shape.length === 0) return d[0];
    let at = 0;
    const build = (k: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[k]; i++) out.push(k === shape.length - 1 ? d[at++] : build(k + 1));
      return out;
    };
    return build(0);
  }
  toString(): string {
    const body = JSON.stringify(this.toArray());
    const grad = this.requiresGrad ? ', requires_grad=True' : '';
    return `tensor(${body}${this.#dtype === 'int32' ? ', dtype=int32' : ''}${grad})`;
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return info(this.id).requiresGrad;
  }
  set requiresGrad(flag: boolean) {
    ops.setRequiresGrad(this.id, flag);
  }
  /** Sets requiresGrad in place and returns this tensor, like PyTorch's `requires_grad_()`. */
  requiresGrad_(flag = true): this {
    ops.setRequiresGrad(this.id, flag);
    return this;
  }
  get isLeaf(): boolean {
    return info(this.id).isLeaf;
  }
  /** The name of the op that made this tensor (`'MulBackward'`), or null for a leaf. */
  get gradFn(): string | null {
    const n = readGradFn(this.id);
    return n === '' ? null : n;
  }
  /** The accumulated gradient of a leaf, or null before any backward. */
  get grad(): Tensor | null {
    const g = ops.grad(this.id);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    ops.setGrad(this.id, g === null ? null : g.id);
  }
  /** Backpropagates from this tensor: a scalar, or any shape with `gradient` given. */
  backward(gradient?: Tensor | null, options: BackwardOptions = {}): void {
    ops.backward(this.id, gradient ? gradient.id : null, options.retainGraph ?? false);
  }
  /** The same values without history. */
  detach(): Tensor {
    return new Tensor(ops.detach(this.id));
  }
  /** A copy that stays in the graph. */
  clone(): Tensor {
    return this.add(0);
  }

  // ---- elementwise ----

  add(other: Tensor | number, alpha = 1): Tensor {
    return binary('add', this, alpha === 1 ? other : mulScalar(other, alpha));
  }
  sub(other: Tensor | number, alpha = 1): Tensor {
    return binary('sub', this, alpha === 1 ? other : mulScalar(other, alpha));
  }
  mul(other: Tensor | number): Tensor {
    return binary('mul', this, other);
  }
  div(other: Tensor | number): Tensor {
    return binary('div', this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return typeof exponent === 'number' && this.#dtype === 'float32'
      ? new Tensor(ops.unary('pow', this.id, exponent))
      : binary('pow', this, exponent);
  }
  /** `other - this`, as PyTorch's `rsub`. */
  rsub(other: Tensor | number): Tensor {
    return binary('sub', other, this);
  }
  eq(other: Tensor | number): Tensor {
    return binary('eq', this, other);
  }
  ne(other: Tensor | number): Tensor {
    return binary('ne', this, other);
  }
  lt(other: Tensor | number): Tensor {
    return binary('lt', this, other);
  }
  le(other: Tensor | number): Tensor {
    return binary('le', this, other);
  }
  gt(other: Tensor | number): Tensor {
    return binary('gt', this, other);
  }
  ge(other: Tensor | number): Tensor {
    return binary('ge', this, other);
  }
  neg(): Tensor {
    return this.unary('neg');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  sign(): Tensor {
    return this.unary('sign');
  }
  sin(): Tensor {
    return this.unary('sin');
  }
  cos(): Tensor {
    return this.unary('cos');
  }
  atan(): Tensor {
    return this.unary('atan');
  }
  relu(): Tensor {
    return this.unary('relu');
  }
  sigmoid(): Tensor {
    return this.unary('sigmoid');
  }
  tanh(): Tensor {
    return this.unary('tanh');
  }
  square(): Tensor {
    return this.mul(this);
  }
  /** Limits values to [min, max]; either bound may be omitted (undefined or null). */
  clamp(min?: number | null, max?: number | null): Tensor {
    if ((min === undefined || min === null) && (max === undefined || max === null)) {
      throw new FerrogradError('value', 'clamp: at least one of min and max must be given');
    }
    return this.unary('clamp', min ?? NaN, max ?? NaN);
  }
  /** Applies an elementwise op by name (the lecture's activations live in F). */
  unary(name: ops.UnaryName, p = 0, q = 0): Tensor {
    return new Tensor(ops.unary(name, this.id, p, q));
  }
  /** Elements of `this` where `condition` is true, else of `other`. */
  where(condition: Tensor, other: Tensor | number): Tensor {
    return where(condition, this, other);
  }
  /** Replaces elements where `mask` is non-zero by `value`. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(ops.maskedFill(this.id, mask.id, value));
  }

  // ---- reductions ----

  sum(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(ops.sum(this.id, dims(dim), keepdim, false));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(ops.sum(this.id, dims(dim), keepdim, true));
  }
  /** `max()` over all elements, or `max(dim)` → `[values, indices]`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return extremum(this, dim, keepdim, true);
  }
  /** `min()` over all elements, or `min(dim)` → `[values, indices]`. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return extremum(this, dim, keepdim, false);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(ops.argExtremum(this.id, dim, keepdim, true));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(ops.argExtremum(this.id, dim, keepdim, false));
  }
  /** Variance; `correction` 1 (default) is the unbiased estimate, 0 the population one. */
  var(dim?: number | number[], options: VarOptions = {}): Tensor {
    return new Tensor(ops.variance(this.id, dims(dim), correction(options), options.keepdim ?? false));
  }
  std(dim?: number | number[], options: VarOptions = {}): Tensor {
    return withScope('std', () => this.var(dim, options).sqrt());
  }
  softmax(dim: number): Tensor {
    return new Tensor(ops.softmax(this.id, dim, false));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(ops.softmax(this.id, dim, true));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(ops.matmul(this.id, other.id));
  }
  mm(other: Tensor): Tensor {
    if (this.ndim !== 2 || other.ndim !== 2) {
      throw new FerrogradError('shape', `mm: both arguments must be 2-D, got [${this.shape.join(', ')}] and [${other.shape.join(', ')}]; use matmul for other shapes`);
    }
    return this.matmul(other);
  }

  // ---- shape ----

  reshape(...shape: number[] | [number[]]): Tensor {
    return new Tensor(ops.reshape(this.id, sizes(shape)));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return this.reshape(...shape);
  }
  /** Flattens dims `startDim..endDim` (all by default) into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    const n = this.ndim;
    if (n === 0) return this.reshape([1]);
    const s = startDim < 0 ? startDim + n : startDim;
    const e = endDim < 0 ? endDim + n : endDim;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e >= n || s > e) {
      throw new FerrogradError('dim', `flatten: startDim ${startDim} and endDim ${endDim} are invalid for a tensor with ${n} dims`);
    }
    const sh = this.#shape;
    return this.reshape([...sh.slice(0, s), sh.slice(s, e + 1).reduce((a, b) => a * b, 1), ...sh.slice(e + 1)]);
  }
  /** Removes size-1 dims (all, or only `dim`). */
  squeeze(dim?: number): Tensor {
    const sh = this.#shape;
    if (dim === undefined) return this.reshape(sh.filter((d) => d !== 1));
    const d = normDim('squeeze', dim, sh.length);
    return this.reshape(sh[d] === 1 ? sh.filter((_, i) => i !== d) : [...sh]);
  }
  unsqueeze(dim: number): Tensor {
    const sh = [...this.#shape];
    const d = normDim('unsqueeze', dim, sh.length + 1);
    sh.splice(d, 0, 1);
    return this.reshape(sh);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(ops.transpose(this.id, dim0, dim1));
  }
  /** Transpose of a matrix (or a vector unchanged), as `t()`. */
  t(): Tensor {
    if (this.ndim > 2) throw new FerrogradError('shape', `t: expects a tensor with at most 2 dims, got ${this.ndim}; use transpose(d0, d1)`);
    return this.ndim < 2 ? this.reshape(this.shape) : this.transpose(0, 1);
  }
  get T(): Tensor {
    return this.permute([...this.#shape.keys()].reverse());
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return new Tensor(ops.permute(this.id, sizes(dims)));
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return new Tensor(ops.expand(this.id, sizes(shape)));
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(ops.narrow(this.id, dim, start, length));
  }
  /** Elements `start` (inclusive) to `end` (exclusive) of `dim`, negative from the end. */
  slice(dim: number, start = 0, end?: number): Tensor {
    // normDim rather than size(dim), so that a bad dim is reported as slice's.
    const size = this.#shape[normDim('slice', dim, this.ndim)];
    const clampIdx = (i: number): number => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
    const s = clampIdx(start);
    const e = clampIdx(end ?? size);
    return this.narrow(dim, s, Math.max(e - s, 0));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(ops.select(this.id, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(ops.indexSelect(this.id, dim, index.id));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(ops.gather(this.id, dim, index.id));
  }
  float(): Tensor {
    return new Tensor(ops.cast(this.id, 0));
  }
  int(): Tensor {
    return new Tensor(ops.cast(this.id, 1));
  }
  to(dtype: DType): Tensor {
    return new Tensor(ops.cast(this.id, dtypeCode(dtype)));
  }

  // ---- in place (for optimizers and initialisers; run them under noGrad) ----

  add_(other: Tensor | number, alpha = 1): this {
    return inplace(this, 'add', other, alpha);
  }
  sub_(other: Tensor | number, alpha = 1): this {
    return inplace(this, 'add', other, -alpha);
  }
  mul_(other: Tensor | number): this {
    return inplace(this, 'mul', other, 1);
  }
  copy_(src: Tensor): this {
    return inplace(this, 'copy', src, 1);
  }
  fill_(value: number): this {
    ops.fill(this.id, value);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }
}
markTracked(Tensor.prototype);

/** Options of `var` and `std`. */
export interface VarOptions {
  /** Subtracted from the count in the denominator; default 1 (Bessel's correction). */
  correction?: number;
  /** PyTorch's older flag: `unbiased: false` means correction 0. */
  unbiased?: boolean;
  keepdim?: boolean;
}

function correction(o: VarOptions): number {
  return o.correction ?? (o.unbiased === false ? 0 : 1);
}

function dims(dim: number | number[] | undefined): number[] {
  return dim === undefined ? [] : typeof dim === 'number' ? [dim] : dim;
}

function sizes(args: number[] | [number[]]): number[] {
  const first = args[0];
  return Array.isArray(first) ? first : args.filter((a): a is number => typeof a === 'number');
}

function normDim(op: string, dim: number, n: number): number {
  const d = dim < 0 ? dim + n : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= n) {
    throw new FerrogradError('dim', `${op}: dim ${dim} is out of range (expected a dim in [${-n}, ${n - 1}])`);
  }
  return d;
}

/** A 0-d tensor for a JavaScript number: int32 for integers, float32 otherwise. */
export function scalarId(value: number): number {
  return ops.full(Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 1 : 0, [], value);
}

/** Runs `fn` on the id of `x`, or of a temporary 0-d tensor for a number. */
function withOperand<T>(x: Tensor | number, fn: (id: number) => T): T {
  if (typeof x !== 'number') return fn(x.id);
  const id = scalarId(x);
  try {
    return fn(id);
  } finally {
    ops.free(id);
  }
}

function mulScalar(x: Tensor | number, alpha: number): Tensor | number {
  return typeof x === 'number' ? x * alpha : x.mul(alpha);
}

function binary(name: ops.BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  return withOperand(a, (ia) => withOperand(b, (ib) => new Tensor(ops.binary(name, ia, ib))));
}

function inplace<T extends Tensor>(t: T, kind: keyof typeof ops.INPLACE, other: Tensor | number, alpha: number): T {
  withOperand(other, (id) => ops.inplace(kind, t.id, id, alpha));
  return t;
}

function extremum(t: Tensor, dim: number | undefined, keepdim: boolean, isMax: boolean): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return new Tensor(ops.extremumAll(t.id, isMax));
  const [v, i] = ops.extremumDim(t.id, dim, keepdim, isMax);
  return [new Tensor(v), new Tensor(i)];
}

/**
 * `where(condition, x, y)`: elements of `x` where `condition` is non-zero, else of `y`.
 *
 * @example
 * ```ts
 * where(x.gt(0), x, 0); // relu
 * ```
 */
export function where(condition: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  return withOperand(x, (ix) => withOperand(y, (iy) => new Tensor(ops.where(condition.id, ix, iy))));
}

/** Builds a Tensor from a typed array copied into wasm memory. */
export function fromTyped(data: Float32Array | Int32Array, shape: readonly number[]): Tensor {
  return new Tensor(fromData(data, shape));
}
