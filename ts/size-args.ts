// Spatial size arguments as PyTorch takes them: one number for both dims, or a pair.

import { FerrogradError } from './errors.js';

/** A size given once for both spatial dims, or as `[h, w]`. */
export type IntOrPair = number | readonly [number, number] | readonly number[];

/** `v` as `[h, w]`; arrays must have exactly two entries (PyTorch's `_pair`). */
export function pair(op: string, what: string, v: IntOrPair): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (v.length !== 2) throw new FerrogradError('value', `${op}: ${what} must be a number or [h, w], got [${v.join(', ')}]`);
  return [v[0], v[1]];
}
