// Finite-difference gradient checking for the tests in this folder. It runs in Node
// and in Chromium, so it uses nothing but ferrograd and plain JavaScript.

import { fromArray, noGrad, tidy, type Tensor } from '../../ts/index.js';

/** Tolerances of `gradcheck`; the defaults suit float32 forwards with h = 1e-2. */
export interface GradcheckOptions {
  /** Step of the central difference. */
  h?: number;
  rtol?: number;
  atol?: number;
}

/** Deterministic numbers in [0, 1) (mulberry32), so every run checks the same points. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let inputSeed = 1;

/**
 * A float32 tensor of `shape` with values uniform in [lo, hi), each kept at least
 * `gap` away from every point in `avoid` (kinks such as 0 for relu and abs), so that
 * a step of h never crosses a non-differentiable point.
 */
export function rnd(shape: number[], lo = -2, hi = 2, avoid: number[] = [], gap = 0.1): Tensor {
  const next = mulberry32(inputSeed++ * 7919);
  const n = shape.reduce((a, b) => a * b, 1);
  const values: number[] = [];
  while (values.length < n) {
    const v = lo + (hi - lo) * next();
    if (avoid.every((p) => Math.abs(v - p) >= gap)) values.push(v);
  }
  return fromArray(values, shape);
}

/**
 * Distinct values (pairwise at least `spacing` apart) in random order, for max/min
 * whose gradient is undefined at ties.
 */
export function distinct(shape: number[], spacing = 0.25): Tensor {
  const next = mulberry32(inputSeed++ * 104729);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * spacing);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return fromArray(values, shape);
}

/** Fixed weights for an output of `n` elements: distinct, of both signs, never 0. */
function weights(n: number): number[] {
  const next = mulberry32(0x5eed + n);
  return Array.from({ length: n }, (_, i) => (0.3 + next()) * (i % 3 === 1 ? -1 : 1));
}

/** Σ w·out in float64, so the difference quotient loses no precision to a float32 sum. */
function weightedSum(out: Tensor, w: number[]): number {
  const d = out.data();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * w[i];
  return s;
}

/**
 * Checks the gradients that backward computes for `fn(...inputs)` against central
 * differences of the loss Σ w·fn(...inputs) with fixed weights w, so that every output
 * element counts with its own weight. `inputs` are float32 tensors whose values and
 * shapes are copied; `fn` must be a pure function of its arguments. Throws an Error
 * listing the first mismatches; returns the largest absolute difference seen.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): number {
  const { h = 1e-2, rtol = 2e-2, atol = 1e-3 } = options;
  return tidy(() => {
    const values = inputs.map((t) => Array.from(t.data()));
    const shapes = inputs.map((t) => t.shape);

    // Analytic: backward through Σ w·out, the weights applied inside the graph.
    const leaves = values.map((v, i) => fromArray(v, shapes[i], { requiresGrad: true }));
    const out = fn(...leaves);
    if (out.dtype !== 'float32') throw new Error(`gradcheck: fn returned ${out.dtype}, expected float32`);
    const w = weights(out.numel());
    out.mul(fromArray(w, out.shape)).sum().backward();
    const analytic = leaves.map((l) => {
      const g = l.grad;
      return g === null ? null : Array.from(g.data());
    });

    // Numeric: rebuild every input from JS arrays with one element moved by ±h.
    const evaluate = (k: number, j: number, delta: number): number =>
      noGrad(() => {
        const xs = values.map((v, i) => {
          if (i !== k) return fromArray(v, shapes[i]);
          const moved = v.slice();
          moved[j] += delta;
          return fromArray(moved, shapes[i]);
        });
        return weightedSum(fn(...xs), w);
      });

    const problems: string[] = [];
    let worst = 0;
    values.forEach((v, k) => {
      const a = analytic[k];
      const gotShape = leaves[k].grad?.shape;
      if (a !== null && JSON.stringify(gotShape) !== JSON.stringify(shapes[k])) {
        problems.push(`input ${k}: grad has shape [${gotShape?.join(', ')}] but the input has [${shapes[k].join(', ')}]`);
        return;
      }
      for (let j = 0; j < v.length; j++) {
        const numeric = (evaluate(k, j, h) - evaluate(k, j, -h)) / (2 * h);
        // A leaf that backward never reached has no grad: fine only if it truly is 0.
        const got = a === null ? 0 : a[j];
        const diff = Math.abs(got - numeric);
        worst = Math.max(worst, diff);
        if (!(diff <= atol + rtol * Math.max(Math.abs(got), Math.abs(numeric)))) {
          problems.push(`input ${k} [${shapes[k].join(', ')}] element ${j} (x = ${v[j]}): backward ${got}, finite difference ${numeric}`);
        }
      }
    });
    if (problems.length > 0) {
      throw new Error(`gradcheck: ${problems.length} mismatches\n  ${problems.slice(0, 8).join('\n  ')}`);
    }
    return worst;
  });
}
