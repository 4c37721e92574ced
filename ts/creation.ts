// Creating tensors: from JavaScript data, filled, ranges, and random draws from the
// one seeded generator in the core.

import { FerrogradError } from './errors.js';
import { Tensor, fromTyped, dtypeCode, type DType, type NestedArray } from './tensor.js';
import { fromRows as stagedRows, weightedSum as stagedWeightedSum } from './wasm/core.js';
import * as ops from './wasm/ops.js';

/** Options shared by the creation functions. */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Options of `tensor()`: flat data needs a `shape`. */
export interface TensorDataOptions extends TensorOptions {
  shape?: number[];
}

function finish(t: Tensor, o: TensorOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Shape and flat values of nested arrays, checking that they are rectangular. */
function flatten(data: NestedArray): { shape: number[]; values: number[]; allInts: boolean } {
  const shape: number[] = [];
  for (let d: NestedArray = data; Array.isArray(d); d = d[0]) {
    shape.push(d.length);
    if (d.length === 0) break;
  }
  const values: number[] = [];
  let allInts = true;
  const walk = (d: NestedArray, k: number, path: string): void => {
    if (k === shape.length) {
      if (Array.isArray(d)) throw new FerrogradError('shape', `tensor: the nested arrays are ragged at ${path}: expected a number, got an array`);
      const v = typeof d === 'boolean' ? +d : d;
      if (typeof v !== 'number') throw new FerrogradError('dtype', `tensor: expected numbers, got ${typeof d} at ${path}`);
      if (!Number.isInteger(v)) allInts = false;
      values.push(v);
      return;
    }
    if (!Array.isArray(d) || d.length !== shape[k]) {
      throw new FerrogradError(
        'shape',
        `tensor: the nested arrays are ragged at ${path}: expected length ${shape[k]}, got ${Array.isArray(d) ? d.length : 'a number'}`,
      );
    }
    d.forEach((x, i) => walk(x, k + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  return { shape, values, allInts };
}

/**
 * Creates a tensor from nested arrays, a number, or flat data (array or typed array)
 * with `shape`. Like PyTorch, integer data gives int32 unless `dtype` says otherwise;
 * a Float32Array gives float32 and an Int32Array int32.
 *
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]);                         // int32 [2, 2]
 * tensor([0.5, 1.5], { requiresGrad: true });        // float32 [2]
 * tensor(new Float32Array(6), { shape: [2, 3] });    // float32 [2, 3]
 * ```
 */
export function tensor(data: NestedArray | Float32Array | Int32Array | readonly number[], options: TensorDataOptions = {}): Tensor {
  if (data instanceof Float32Array || data instanceof Int32Array) {
    const dtype = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
    return finish(fromFlat(data, options.shape ?? [data.length], dtype), options);
  }
  const { shape, values, allInts } = flatten(data as NestedArray);
  const dtype = options.dtype ?? (allInts ? 'int32' : 'float32');
  if (options.shape !== undefined) {
    if (shape.length > 1) throw new FerrogradError('shape', 'tensor: give either nested arrays or flat data with a shape, not both');
    return finish(fromFlat(values, options.shape, dtype), options);
  }
  return finish(fromFlat(values, shape, dtype), options);
}

/** A tensor from flat values; typed arrays of the right type are copied once, straight into wasm memory. */
function fromFlat(values: readonly number[] | Float32Array | Int32Array, shape: number[], dtype: DType): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new FerrogradError('value', `tensor: shape [${shape.join(', ')}] must hold non-negative integers`);
  }
  if (n !== values.length) {
    throw new FerrogradError('shape', `tensor: ${values.length} values cannot fill shape [${shape.join(', ')}] (${n} elements)`);
  }
  if (dtype === 'int32') return fromTyped(values instanceof Int32Array ? values : Int32Array.from(values, (v) => Math.trunc(v)), shape);
  return fromTyped(values instanceof Float32Array ? values : Float32Array.from(values), shape);
}

/**
 * `Σ weights[k]·terms[k]` as a new float32 tensor of `shape`, summed left to right in
 * float32 (a weight of 1 takes its term as it is; no terms give zeros), so the same terms
 * in the same order give the same bits on any thread. Each term is copied into wasm memory
 * once and summed in one pass: it is how DataParallel averages its replicas' gradients
 * straight from shared memory, and it serves any averaging of flat float32 data.
 *
 * @example
 * ```ts
 * const mean = weightedSum([gradsA, gradsB], [0.5, 0.5], [10, 5]); // two Float32Arrays of 50
 * ```
 */
export function weightedSum(terms: readonly Float32Array[], weights: readonly number[], shape: readonly number[]): Tensor {
  if (terms.length !== weights.length) {
    throw new FerrogradError('value', `weightedSum: ${terms.length} terms but ${weights.length} weights; give one weight per term`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  terms.forEach((t, k) => {
    if (!(t instanceof Float32Array) || t.length !== n) {
      const got = t instanceof Float32Array ? `${t.length} values` : Object.prototype.toString.call(t);
      throw new FerrogradError('shape', `weightedSum: term ${k} holds ${got}, but shape [${shape.join(', ')}] needs a Float32Array of ${n}`);
    }
  });
  return new Tensor(stagedWeightedSum(terms, weights, shape));
}

/**
 * The rows `rows` of `source`, flat data holding rows of `rowShape` one after the other,
 * as one tensor of shape `[rows.length, ...rowShape]` (float32 from a Float32Array, int32
 * from an Int32Array). Each row is copied once, straight into wasm memory, from any
 * buffer, a SharedArrayBuffer too: a batch cut from a data set kept in a typed array, as
 * `indexSelect` would cut it from a tensor holding the whole set.
 *
 * @example
 * ```ts
 * const pixels = new Float32Array(1000 * 784);              // 1000 images of 28×28
 * const batch = fromRows(pixels, [7, 3, 42], [1, 28, 28]);  // float32 [3, 1, 28, 28]
 * ```
 */
export function fromRows(source: Float32Array | Int32Array, rows: ArrayLike<number>, rowShape: readonly number[]): Tensor {
  if (!(source instanceof Float32Array || source instanceof Int32Array)) {
    throw new FerrogradError('dtype', `fromRows: source must be a Float32Array or an Int32Array, got ${Object.prototype.toString.call(source)}`);
  }
  if (!rowShape.every((d) => Number.isInteger(d) && d >= 0)) throw new FerrogradError('value', `fromRows: rowShape [${rowShape.join(', ')}] must hold non-negative integers`);
  const width = rowShape.reduce((a, b) => a * b, 1);
  const count = width === 0 ? 0 : source.length / width;
  if (!Number.isInteger(count)) {
    throw new FerrogradError('shape', `fromRows: ${source.length} values are not whole rows of [${rowShape.join(', ')}] (${width} values each)`);
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || (row >= count && width > 0)) {
      throw new FerrogradError('value', `fromRows: row ${row} (at ${i}) is out of range for ${count} rows of [${rowShape.join(', ')}]`);
    }
  }
  return new Tensor(stagedRows(source, rows, width, [rows.length, ...rowShape]));
}

/**
 * Flat data with a shape. Plain arrays become float32 unless `dtype` says int32.
 *
 * @example
 * ```ts
 * fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
 * ```
 */
export function fromArray(data: readonly number[] | Float32Array | Int32Array, shape?: number[], options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  return finish(fromFlat(data, shape ?? [data.length], dtype), options);
}

function filled(shape: number[], value: number, o: TensorOptions): Tensor {
  return finish(new Tensor(ops.full(dtypeCode(o.dtype ?? 'float32'), shape, value)), o);
}

/** @example `zeros([2, 3])` */
export function zeros(shape: number[], options: TensorOptions = {}): Tensor {
  return filled(shape, 0, options);
}
/** @example `ones([2, 3], { requiresGrad: true })` */
export function ones(shape: number[], options: TensorOptions = {}): Tensor {
  return filled(shape, 1, options);
}
/** @example `full([2, 2], 7)` */
export function full(shape: number[], value: number, options: TensorOptions = {}): Tensor {
  return filled(shape, value, options);
}
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return filled(t.shape, 0, { dtype: t.dtype, ...options });
}
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return filled(t.shape, 1, { dtype: t.dtype, ...options });
}
export function fullLike(t: Tensor, value: number, options: TensorOptions = {}): Tensor {
  return filled(t.shape, value, { dtype: t.dtype, ...options });
}

/**
 * `arange(end)` or `arange(start, end, step = 1)`; int32 when all arguments are integers.
 *
 * @example
 * ```ts
 * arange(5);          // [0, 1, 2, 3, 4] int32
 * arange(0, 1, 0.25); // [0, 0.25, 0.5, 0.75] float32
 * ```
 */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const dtype = options.dtype ?? ([s, e, step].every(Number.isInteger) ? 'int32' : 'float32');
  return finish(new Tensor(ops.arange(s, e, step, dtypeCode(dtype))), options);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. @example `linspace(0, 1, 5)` */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(ops.linspace(start, end, steps)), options);
}

/** The identity matrix (n × m, m defaults to n). @example `eye(3)` */
export function eye(n: number, m = n, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(ops.eye(n, m, dtypeCode(options.dtype ?? 'float32'))), options);
}

/** Seeds the generator behind every random op. @example `manualSeed(0)` */
export function manualSeed(seed: number): void {
  ops.manualSeed(seed);
}

/** Uniform on [0, 1). @example `rand([2, 3])` */
export function rand(shape: number[], options: TensorOptions = {}): Tensor {
  return finish(new Tensor(ops.rand(shape, 0, 1)), options);
}

/** Standard normal. @example `randn([64, 784])` */
export function randn(shape: number[], options: TensorOptions = {}): Tensor {
  return finish(new Tensor(ops.randn(shape, 0, 1)), options);
}

/** Integers uniform on [low, high), int32. @example `randint(0, 10, [5])` */
export function randint(low: number, high: number, shape: number[]): Tensor {
  return new Tensor(ops.randint(low, high, shape));
}

/** A random permutation of 0..n-1, int32. @example `randperm(10)` */
export function randperm(n: number): Tensor {
  return new Tensor(ops.randperm(n));
}

/** Concatenates along an existing dim. @example `cat([a, b], 0)` */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(ops.cat(tensors.map((t) => t.id), dim));
}

/** Stacks along a new dim. @example `stack([a, b], 1)` */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(ops.stack(tensors.map((t) => t.id), dim));
}
