// Shared helpers of the nn fixture tests (nn-modules, losses, optimizers): rebuild the
// tensors stored in tests/fixtures/nn.json and compare against PyTorch's answers.

import { expect } from 'vitest';
import { Tensor, tensor, type DType } from '../../ts/index.js';

export interface Encoded {
  shape: number[];
  dtype: string;
  values: number[];
}

export function toDType(d: string): DType {
  if (d !== 'float32' && d !== 'int32') throw new Error(`fixture has unknown dtype ${d}`);
  return d;
}

/** The fixture tensor, as a new ferrograd tensor. */
export function build(e: Encoded, requiresGrad = false): Tensor {
  return tensor(e.values, { shape: e.shape, dtype: toDType(e.dtype), requiresGrad });
}

/** Fixture tensors by name (a JSON object whose keys differ between cases). */
export type EncodedDict = Partial<Record<string, Encoded>>;

/** The entry `key` of a fixture dict, which must be there. */
export function need(d: EncodedDict, key: string): Encoded {
  const e = d[key];
  if (e === undefined) throw new Error(`fixture has no entry ${key}`);
  return e;
}

/** A state dict of fixture tensors. */
export function buildDict(d: EncodedDict): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, e] of Object.entries(d)) if (e !== undefined) out[k] = build(e);
  return out;
}

/** |got − want| ≤ rtol·max(1, |want|) element by element, with shape and dtype equal. */
export function expectClose(actual: Tensor | null | undefined, expected: Encoded, label: string, rtol = 1e-4): void {
  expect(actual, `${label}: missing`).toBeInstanceOf(Tensor);
  if (!(actual instanceof Tensor)) return;
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  const got = Array.from(actual.data());
  const bad: string[] = [];
  expected.values.forEach((w, i) => {
    const g = got[i];
    if (!(Math.abs(g - w) <= rtol * Math.max(1, Math.abs(w))) && bad.length < 6) bad.push(`[${i}] got ${g}, want ${w}`);
  });
  expect(bad, `${label}: mismatches`).toEqual([]);
}

/** Σ(y·w): the scalar whose gradients the fixtures store. */
export function weightedSum(y: Tensor, w: Encoded): Tensor {
  return y.mul(build(w)).sum();
}
