// The packed GEMM in every layout against a plain JavaScript product, at sizes that leave
// ragged panels (rows and columns not multiples of the 2×16 tile, depths past one 256 slab):
// A·B (matmul), A·Bᵀ (F.linear, which packs B by transposing rows) and Aᵀ·B (the weight
// gradient of F.linear).
import { describe, expect, it } from 'vitest';
import { tensor, tidy, F } from '../../ts/index.js';
import { mulberry32 } from './gradcheck-helper.js';

function rand(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround(r() * 2 - 1));
}

/** C = A·B in float64, A m×k and B k×n row-major. */
function product(a: number[], b: number[], m: number, n: number, k: number): number[] {
  const c = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

function transpose(a: number[], rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, idx) => a[(idx % rows) * cols + Math.floor(idx / rows)]);
}

function expectClose(got: Float32Array, want: number[], k: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  const tol = 1e-5 * Math.sqrt(k);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]) <= tol * (1 + Math.abs(want[i])))) throw new Error(`${what}: [${i}] ${g} vs ${want[i]}`);
  });
}

describe('GEMM layouts match a plain product', () => {
  const sizes: [number, number, number][] = [[5, 25, 300], [33, 9, 70], [64, 250, 20], [3, 41, 600], [18, 17, 19]];
  for (const [m, n, k] of sizes) {
    it(`m=${m} n=${n} k=${k}`, () => tidy(() => {
      const a = rand(m * k, m * 1000 + k), w = rand(n * k, n * 1000 + k + 1), g = rand(m * n, m + n);
      const at = tensor(a, { shape: [m, k], requiresGrad: true });
      const wt = tensor(w, { shape: [n, k], requiresGrad: true });
      const wT = transpose(w, n, k); // k×n
      const y = F.linear(at, wt); // A·Wᵀ
      expectClose(y.data() as Float32Array, product(a, wT, m, n, k), k, 'A·Bᵀ');
      expectClose(at.matmul(tensor(wT, { shape: [k, n] })).data() as Float32Array, product(a, wT, m, n, k), k, 'A·B');
      y.backward(tensor(g, { shape: [m, n] }));
      // dW = gᵀ·A (an Aᵀ·B product), dA = g·W (A·B).
      expectClose(wt.grad!.data() as Float32Array, product(transpose(g, m, n), a, n, k, m), m, 'Aᵀ·B (weight gradient)');
      expectClose(at.grad!.data() as Float32Array, product(g, w, m, k, n), n, 'A·B (input gradient)');
    }));
  }
});
