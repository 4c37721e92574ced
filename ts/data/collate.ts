// default_collate: stacks a list of items into a batch, recursing into arrays and
// plain objects; numbers become an int32 (all integers) or float32 tensor.

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { stack, tensor } from '../creation.js';

export type Collated = Tensor | Collated[] | { [key: string]: Collated };

export function defaultCollate(items: readonly unknown[]): Collated {
  const first = items[0];
  if (first instanceof Tensor) return stack(items.map((t, i) => expect(t, i, (v): v is Tensor => v instanceof Tensor, 'a Tensor')));
  if (typeof first === 'number' || typeof first === 'boolean') {
    const nums = items.map((v, i) => expect(v, i, (x): x is number | boolean => typeof x === 'number' || typeof x === 'boolean', 'a number'));
    return tensor(nums.map(Number));
  }
  if (Array.isArray(first)) {
    const n = first.length;
    const rows = items.map((v, i) => expect(v, i, (x): x is unknown[] => Array.isArray(x) && x.length === n, `an array of length ${n}`));
    return Array.from({ length: n }, (_, k) => defaultCollate(rows.map((r) => r[k])));
  }
  if (typeof first === 'object' && first !== null && Object.getPrototypeOf(first) === Object.prototype) {
    const keys = Object.keys(first);
    const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
    const rows = items.map((v, i) => expect(v, i, isRecord, 'an object'));
    return Object.fromEntries(keys.map((k) => [k, defaultCollate(rows.map((r) => r[k]))]));
  }
  throw new FerrogradError('value', `defaultCollate: cannot batch items of type ${typeof first}; pass a collate function to the DataLoader`);
}

function expect<T>(v: unknown, i: number, ok: (v: unknown) => v is T, what: string): T {
  if (!ok(v)) throw new FerrogradError('value', `defaultCollate: item ${i} is not ${what} like item 0; items of a batch must have the same structure`);
  return v;
}
