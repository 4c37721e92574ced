// The only module that touches WebAssembly: it unpacks and instantiates the embedded
// binary, types the raw exports, and moves numbers, shapes and element data across.

import { FerrogradError } from '../errors.js';
import { wasmGzipBase64 } from './binary.generated.js';
import { decodeBase64 } from '../base64.js';
import { gunzip } from '../gunzip.js';

/** The C-ABI exports of crates/wasm, typed by hand. Ids > 0; -1 means "error". */
interface Exports {
  memory: WebAssembly.Memory;
  fg_args(n: number): number;
  fg_out(): number;
  fg_error_ptr(): number;
  fg_error_len(): number;
  fg_text_ptr(): number;
  fg_staging(nbytes: number): number;
  fg_from_staging(dtype: number, ndim: number, numel: number): number;
  fg_weighted_sum(nterms: number, ndim: number, numel: number): number;
  fg_free(id: number): number;
  fg_info(id: number): number;
  fg_data(id: number): number;
  fg_memory(): number;
  fg_clear_pool(): void;
  fg_full(dtype: number, ndim: number, value: number): number;
  fg_arange(start: number, end: number, step: number, dtype: number): number;
  fg_linspace(start: number, end: number, steps: number): number;
  fg_eye(n: number, m: number, dtype: number): number;
  fg_manual_seed(seed: number): void;
  fg_rand(ndim: number, low: number, high: number): number;
  fg_randn(ndim: number, mean: number, std: number): number;
  fg_randint(low: number, high: number, ndim: number): number;
  fg_randperm(n: number): number;
  fg_cast(id: number, dtype: number): number;
  fg_unary(code: number, id: number, p: number, q: number): number;
  fg_binary(code: number, a: number, b: number): number;
  fg_where(cond: number, a: number, b: number): number;
  fg_masked_fill(id: number, mask: number, value: number): number;
  fg_sum(id: number, ndims: number, keepdim: number, mean: number): number;
  fg_extremum_dim(id: number, dim: number, keepdim: number, isMax: number): number;
  fg_extremum_all(id: number, isMax: number): number;
  fg_arg_extremum(id: number, hasDim: number, dim: number, keepdim: number, isMax: number): number;
  fg_var(id: number, ndims: number, correction: number, keepdim: number): number;
  fg_softmax(id: number, dim: number, log: number): number;
  fg_matmul(a: number, b: number): number;
  fg_linear(x: number, w: number, b: number): number;
  fg_reshape(id: number, ndim: number): number;
  fg_permute(id: number, ndim: number): number;
  fg_transpose(id: number, d0: number, d1: number): number;
  fg_expand(id: number, ndim: number): number;
  fg_cat(n: number, dim: number): number;
  fg_stack(n: number, dim: number): number;
  fg_narrow(id: number, dim: number, start: number, length: number): number;
  fg_select(id: number, dim: number, index: number): number;
  fg_index_select(id: number, dim: number, index: number): number;
  fg_gather(id: number, dim: number, index: number): number;
  fg_set_requires_grad(id: number, flag: number): number;
  fg_grad(id: number): number;
  fg_set_grad(id: number, grad: number): number;
  fg_detach(id: number): number;
  fg_backward(id: number, grad: number, retain: number): number;
  fg_set_grad_enabled(flag: number): number;
  fg_grad_fn(id: number): number;
  fg_inplace(kind: number, a: number, b: number, alpha: number): number;
  fg_fill(id: number, value: number): number;
  fg_cross_entropy(x: number, target: number, weight: number, ignoreIndex: number, labelSmoothing: number): number;
  fg_bce_with_logits(x: number, target: number, posWeight: number): number;
  fg_optimizer_step(kind: number, param: number, grad: number, nstate: number): number;
  fg_conv2d(x: number, weight: number, bias: number, nargs: number): number;
  fg_pool2d(kind: number, x: number, nargs: number): number;
  fg_adaptive_avg_pool2d(x: number, oh: number, ow: number): number;
  fg_rnn(mode: number, x: number, h0: number, c0: number, wIh: number, wHh: number, bIh: number, bHh: number, reverse: number, nlengths: number): number;
}

const FUNCTIONS = [
  'fg_args', 'fg_out', 'fg_error_ptr', 'fg_error_len', 'fg_text_ptr', 'fg_staging', 'fg_from_staging', 'fg_weighted_sum', 'fg_free',
  'fg_info', 'fg_data', 'fg_memory', 'fg_clear_pool', 'fg_full', 'fg_arange', 'fg_linspace', 'fg_eye',
  'fg_manual_seed', 'fg_rand', 'fg_randn', 'fg_randint', 'fg_randperm', 'fg_cast', 'fg_unary', 'fg_binary',
  'fg_where', 'fg_masked_fill', 'fg_sum', 'fg_extremum_dim', 'fg_extremum_all', 'fg_arg_extremum', 'fg_var',
  'fg_softmax', 'fg_matmul', 'fg_linear', 'fg_reshape', 'fg_permute', 'fg_transpose', 'fg_expand', 'fg_cat', 'fg_stack',
  'fg_narrow', 'fg_select', 'fg_index_select', 'fg_gather', 'fg_set_requires_grad', 'fg_grad', 'fg_set_grad',
  'fg_detach', 'fg_backward', 'fg_set_grad_enabled', 'fg_grad_fn', 'fg_inplace', 'fg_fill', 'fg_cross_entropy',
  'fg_bce_with_logits', 'fg_optimizer_step',
  'fg_conv2d', 'fg_pool2d', 'fg_adaptive_avg_pool2d',
  'fg_rnn',
] as const satisfies readonly Exclude<keyof Exports, 'memory'>[];

/** Checks that the instance exports everything `Exports` declares. */
function isExports(e: WebAssembly.Exports): e is WebAssembly.Exports & Exports {
  return e.memory instanceof WebAssembly.Memory && FUNCTIONS.every((name) => typeof e[name] === 'function');
}

// Embedded gzipped (see scripts/build-wasm.mjs): that keeps the package's main file small.
const { instance } = await WebAssembly.instantiate(await gunzip(decodeBase64(wasmGzipBase64), 'the embedded wasm module'), {});
if (!isExports(instance.exports)) {
  throw new Error('ferrograd: the embedded wasm module does not match ts/wasm/core.ts; rebuild with `npm run build`');
}
/** The raw exports. Only ts/wasm/ may use this. */
export const raw: Exports = instance.exports;

const utf8 = new TextDecoder();

/**
 * A wasm32 address from an export's i32 result: addresses are unsigned, but JS reads i32
 * results as signed, so an address past 2 GiB of memory would come back negative.
 */
export function addr(ptr: number): number {
  return ptr >>> 0;
}

function readText(ptr: number, len: number): string {
  return utf8.decode(new Uint8Array(raw.memory.buffer, ptr, len));
}

/** Throws the pending Rust error as a FerrogradError. */
function throwLast(): never {
  const msg = readText(addr(raw.fg_error_ptr()), raw.fg_error_len());
  const tab = msg.indexOf('\t');
  throw new FerrogradError(tab < 0 ? 'value' : msg.slice(0, tab), tab < 0 ? msg : msg.slice(tab + 1));
}

/** Checks an id-returning call. */
export function check(result: number): number {
  if (result < 0) throwLast();
  return result;
}

/** Checks an id-or-zero call (e.g. `.grad`), mapping 0 to null. */
export function checkOptional(result: number): number | null {
  if (result < 0) throwLast();
  return result === 0 ? null : result;
}

/** Rejects non-integer numbers before they reach Rust, where NaN would become 0. */
export function assertInts(op: string, what: string, values: readonly number[]): void {
  for (const v of values) {
    if (!Number.isInteger(v)) {
      throw new FerrogradError('value', `${op}: ${what} must be integers, got ${String(v)} in [${values.join(', ')}]`);
    }
  }
}

/** Puts integers into the args area; returns their count. */
export function stageInts(op: string, what: string, values: readonly number[]): number {
  assertInts(op, what, values);
  const ptr = addr(raw.fg_args(values.length));
  if (ptr === 0) throw new FerrogradError('oom', `${op}: out of memory staging ${values.length} arguments`);
  new Float64Array(raw.memory.buffer, ptr, values.length).set(values);
  return values.length;
}

export type DTypeCode = 0 | 1;

export interface Info {
  dtype: DTypeCode;
  requiresGrad: boolean;
  isLeaf: boolean;
  shape: number[];
}

// The core's result area is a fixed array, so one float64 view of the whole memory serves
// every read until the memory grows (which detaches the view: its length drops to 0). Every
// tensor made reads its metadata here, so a fresh view per read was measurable at batch 1.
let outView = new Float64Array(0);
let outBase = 0;
function outArea(): Float64Array {
  if (outView.length === 0) {
    outView = new Float64Array(raw.memory.buffer);
    outBase = raw.fg_out() >>> 3;
  }
  return outView;
}

export function info(id: number): Info {
  const ndim = check(raw.fg_info(id));
  const out = outArea();
  const shape = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) shape[i] = out[outBase + 4 + i];
  return {
    dtype: out[outBase] === 1 ? 1 : 0,
    requiresGrad: out[outBase + 1] === 1,
    isLeaf: out[outBase + 2] === 1,
    shape,
  };
}

/** out[i] after a call that reports extra results there. */
export function outValue(i: number): number {
  return outArea()[outBase + i];
}

export function readGradFn(id: number): string {
  const len = check(raw.fg_grad_fn(id));
  return readText(addr(raw.fg_text_ptr()), len);
}

/** Creates a tensor of `shape` from `numel` elements that `fill` writes into the staging area. */
function fromStaged(op: string, int32: boolean, numel: number, shape: readonly number[], fill: (staged: Float32Array | Int32Array) => void): number {
  // The shape goes to the args area, the elements to the staging area; neither call touches the other.
  stageInts(op, 'shape sizes', shape);
  const ptr = addr(raw.fg_staging(numel * 4));
  if (ptr === 0) throwLast();
  fill(int32 ? new Int32Array(raw.memory.buffer, ptr, numel) : new Float32Array(raw.memory.buffer, ptr, numel));
  return check(raw.fg_from_staging(int32 ? 1 : 0, shape.length, numel));
}

/** Creates a tensor from a typed array copy of `data`. */
export function fromData(data: Float32Array | Int32Array, shape: readonly number[]): number {
  return fromStaged('tensor', data instanceof Int32Array, data.length, shape, (staged) => staged.set(data));
}

/**
 * Creates a tensor of `shape` from the rows `rows` of `source`, rows of `width` elements
 * (its caller checked the rows), each copied once into the staging area.
 */
export function fromRows(source: Float32Array | Int32Array, rows: ArrayLike<number>, width: number, shape: readonly number[]): number {
  return fromStaged('fromRows', source instanceof Int32Array, rows.length * width, shape, (staged) => {
    for (let i = 0; i < rows.length; i++) staged.set(source.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
  });
}

/**
 * `Σ weights[k]·terms[k]` as a new float32 tensor of `shape` (its caller checked the
 * lengths): the terms are staged back to back, then summed in one pass in wasm.
 */
export function weightedSum(terms: readonly Float32Array[], weights: readonly number[], shape: readonly number[]): number {
  assertInts('weightedSum', 'shape sizes', shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const args = addr(raw.fg_args(weights.length + shape.length));
  if (args === 0) throw new FerrogradError('oom', `weightedSum: out of memory staging ${weights.length + shape.length} arguments`);
  const staged = addr(raw.fg_staging(terms.length * n * 4));
  if (staged === 0) throwLast();
  // Views after both calls: staging may have grown the memory, detaching older views.
  const a = new Float64Array(raw.memory.buffer, args, weights.length + shape.length);
  a.set(weights);
  a.set(shape, weights.length);
  const data = new Float32Array(raw.memory.buffer, staged, terms.length * n);
  terms.forEach((t, k) => data.set(t, k * n));
  return check(raw.fg_weighted_sum(terms.length, shape.length, n));
}

/** A copy of the elements of tensor `id`: into `out` when given (its caller checked type and length), else a new array. */
export function readData(id: number, dtype: DTypeCode, numel: number, out?: Float32Array | Int32Array): Float32Array | Int32Array {
  const ptr = addr(raw.fg_data(id));
  if (ptr === 0) throwLast();
  const view = dtype === 1 ? new Int32Array(raw.memory.buffer, ptr, numel) : new Float32Array(raw.memory.buffer, ptr, numel);
  if (out === undefined) return view.slice();
  out.set(view);
  return out;
}

export function memoryStats(): { tensors: number; bytes: number; pooledBytes: number; wasmBytes: number } {
  raw.fg_memory();
  const out = new Float64Array(raw.memory.buffer, addr(raw.fg_out()), 3);
  return { tensors: out[0], bytes: out[1], pooledBytes: out[2], wasmBytes: raw.memory.buffer.byteLength };
}
