// Compares builds of the wasm core head to head, interleaved in one process, so a burst of
// machine noise hits every variant alike (PERF-NOTES: bursts move a median by up to 25 %).
// Build each variant with `node scripts/build-wasm.mjs` and copy target/ferrograd.opt.wasm away
// between builds, then:
//   node bench/gemm-variants.mjs a.wasm b.wasm ...
// It drives the raw C-ABI exports (the module has no imports): A·B via fg_matmul, A·Bᵀ via
// fg_linear (x·Wᵀ), at several sizes, and prints median GFLOPS per variant.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const files = process.argv.slice(2);
const variants = await Promise.all(
  files.map(async (f) => ({ name: basename(f, '.wasm'), x: (await WebAssembly.instantiate(readFileSync(f), {})).instance.exports })),
);

function randn(x, shape) {
  const p = x.fg_args(shape.length);
  new Float64Array(x.memory.buffer, p, shape.length).set(shape);
  const id = x.fg_randn(shape.length, 0, 1);
  if (id < 0) throw new Error('fg_randn failed');
  return id;
}

// [label, m, n, k, layout]
const cases = [
  ['A·B 512', 512, 512, 512, 'ab'],
  ['A·Bᵀ 512', 512, 512, 512, 'abt'],
  ['A·B 256', 256, 256, 256, 'ab'],
  ['A·Bᵀ 1024', 1024, 1024, 1024, 'abt'],
  ['MLP fc1 fwd 64×256×784 (A·Bᵀ)', 64, 256, 784, 'abt'],
  ['conv2-like 20×64×250 (A·B)', 20, 64, 250, 'ab'],
];
const rounds = Number(process.env.ROUNDS ?? 7);
const results = new Map();
for (const v of variants) {
  v.ops = cases.map(([, m, n, k, layout]) => {
    const x = v.x;
    const a = randn(x, [m, k]);
    const b = layout === 'ab' ? randn(x, [k, n]) : randn(x, [n, k]);
    return () => {
      const id = layout === 'ab' ? x.fg_matmul(a, b) : x.fg_linear(a, b, 0);
      if (id < 0) throw new Error('op failed');
      x.fg_free(id);
    };
  });
}
// warm-up: every variant, every case, long enough to tier up
for (const v of variants) for (const op of v.ops) for (let t0 = performance.now(); performance.now() - t0 < 300; ) op();
for (let r = 0; r < rounds; r++) {
  for (const v of (r % 2 ? [...variants].reverse() : variants)) {
    cases.forEach(([label, m, n, k], i) => {
      const op = v.ops[i];
      const t0 = performance.now();
      let reps = 0;
      while (performance.now() - t0 < 150) {
        op();
        reps++;
      }
      const ms = (performance.now() - t0) / reps;
      const key = `${label}|${v.name}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push((2 * m * n * k) / (ms * 1e6));
    });
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(['case'.padEnd(32), ...variants.map((v) => v.name.padStart(12))].join(' '));
for (const [label] of cases) {
  console.log([label.padEnd(32), ...variants.map((v) => med(results.get(`${label}|${v.name}`)).toFixed(1).padStart(12))].join(' '));
}
