// default_collate: turns a list of items into one batch, recursing into arrays and
// plain objects, like torch.utils.data.default_collate.

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { stack, fromArray } from '../creation.js';

/**
 * The batch `defaultCollate` makes from items of type `T`: tensors and numbers
 * become tensors with a new leading batch dim, arrays/tuples and plain objects keep
 * their structure.
 */
export type Collated<T> = T extends Tensor | number | boolean
  ? Tensor
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: Collated<T[K]> }
    : T extends object
      ? { [K in keyof T]: Collated<T[K]> }
      : unknown;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

function collate(items: readonly unknown[], path: string): unknown {
  const first = items[0];
  const mismatch = (i: number, what: string): FerrogradError =>
    new FerrogradError('value', `defaultCollate: item ${i}${path} is not ${what} like item 0${path}; the items of a batch must have the same structure`);

  if (first instanceof Tensor) {
    const ts = items.map((t, i) => {
      if (!(t instanceof Tensor)) throw mismatch(i, 'a Tensor');
      return t;
    });
    return stack(ts);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    const nums = items.map((v, i) => {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw mismatch(i, 'a number');
      return Number(v);
    });
    // PyTorch gives int64 or float64; the core's integer and float types are 32-bit.
    return nums.every(Number.isInteger) ? fromArray(Int32Array.from(nums)) : fromArray(Float32Array.from(nums));
  }
  if (Array.isArray(first)) {
    const n = first.length;
    const rows = items.map((v, i) => {
      if (!Array.isArray(v) || v.length !== n) throw mismatch(i, `an array of length ${n}`);
      return v;
    });
    return Array.from({ length: n }, (_, k) => collate(rows.map((r) => r[k]), `${path}[${k}]`));
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    const rows = items.map((v, i) => {
      if (!isPlainObject(v) || keys.some((k) => !(k in v))) throw mismatch(i, `an object with keys ${keys.join(', ')}`);
      return v;
    });
    return Object.fromEntries(keys.map((k) => [k, collate(rows.map((r) => r[k]), `${path}.${k}`)]));
  }
  const kind = first === null ? 'null' : typeof first === 'object' ? (first.constructor?.name ?? 'object') : typeof first;
  throw new FerrogradError('value', `defaultCollate: cannot batch items of type ${kind}${path ? ` at ${path}` : ''}; pass a collate function to the DataLoader`);
}

/**
 * Stacks a list of items into a batch: tensors with `stack` (a new first dim),
 * numbers into an int32 tensor (all integers) or a float32 one, recursing into
 * arrays and plain objects. It is the DataLoader's default `collate`. JavaScript has
 * one number type, so the dtype follows each batch's values (`[1, 2]` int32,
 * `[1, 2.5]` float32): give items as tensors, or cast, when the dtype must not vary.
 *
 * @example
 * ```ts
 * const [x, y] = data.defaultCollate([[randn([3]), 0], [randn([3]), 1]]); // x [2, 3], y int32 [2]
 * ```
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  if (items.length === 0) throw new FerrogradError('value', 'defaultCollate: cannot batch an empty list of items');
  // The recursion checks the structure at run time; Collated<T> states the same rules as a type.
  return collate(items, '') as Collated<T>;
}
