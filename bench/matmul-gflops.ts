// Quick figure for matmul throughput at n×n×n in the three layouts that training uses.
// Usage: npx tsx bench/matmul-gflops.ts [n ...]   (medians over repeated runs)
import { randn, tidy } from '../ts/index.js';

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length ? sizes : [256, 512]) {
  const a = randn([n, n]);
  const b = randn([n, n]);
  const layouts = {
    // `void`: what tidy's function returns is kept, and these results must be freed each call.
    'A·B': () => void a.matmul(b),
    'Aᵀ·B': () => void a.t().matmul(b),
    'A·Bᵀ': () => void a.matmul(b.t()),
  };
  const row: string[] = [];
  for (const [name, f] of Object.entries(layouts)) {
    for (let i = 0; i < 5; i++) tidy(f);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      tidy(f);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const med = times[times.length >> 1];
    row.push(`${name} ${((2 * n ** 3) / (med * 1e6)).toFixed(1)} GFLOPS (${med.toFixed(2)} ms)`);
  }
  console.log(`n=${n}: ${row.join(' | ')}`);
}
