// What a vector load costs next to f32x4 mul+add on this machine, and so where the GEMM's
// ceiling is. Every kernel below runs the micro-kernel's step: 8 accumulators, 8 mul + 8 add
// (64 flops) over 4 "B" vectors and 2 "A" broadcasts, 4 steps per loop iteration with an exit test
// between steps (as in kernels/simd/gemm.rs). They differ only in how many of those 6
// operands are loaded from (L1-resident) memory each step instead of held in registers:
//   0 loads: the mul+add peak;  2: the A broadcasts;  4: the B vectors;
//   6: both, which is what any GEMM tile that fits V8's 15 vector registers needs
//      (2×16 and 4×8 alike: R + W/4 = 6 loads for R·W/4 = 8 accumulators).
// The library's 512×512 A·B runs in the same rounds, so the ratios compare like with like.
//
// Usage: npm run bench:simd-loads -- [rounds]   (needs binaryen's wasm-as, as the build does)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn, tidy } from '../ts/index.js';

type Kernel = { name: string; loadB: boolean; loadA: boolean };
const kernels: Kernel[] = [
  { name: '0 loads (peak)', loadB: false, loadA: false },
  { name: '2 loads (A)', loadB: false, loadA: true },
  { name: '4 loads (B)', loadB: true, loadA: false },
  { name: '6 loads (A+B)', loadB: true, loadA: true },
];

/** One exported function per kernel: `(iterations) → f32`, 4 steps of 8 mul + 8 add each. */
function moduleText(): string {
  const acc = (i: number) => `$c${i}`;
  let w = '(module (memory (export "mem") 1)\n';
  kernels.forEach((k, n) => {
    w += `(func (export "k${n}") (param $n i32) (result f32) (local $p i32)\n`;
    for (let i = 0; i < 8; i++) w += `(local ${acc(i)} v128)`;
    w += '(local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $a0 v128) (local $a1 v128)\n';
    for (const v of ['b0', 'b1', 'b2', 'b3', 'a0', 'a1']) w += `(local.set $${v} (f32x4.splat (f32.const 0.25)))\n`;
    w += '(block $done (loop $l\n';
    for (let s = 0; s < 4; s++) {
      if (k.loadB) for (let j = 0; j < 4; j++) w += `(local.set $b${j} (v128.load offset=${64 * s + 16 * j} (local.get $p)))\n`;
      if (k.loadA) for (let r = 0; r < 2; r++) w += `(local.set $a${r} (v128.load32_splat offset=${16384 + 8 * s + 4 * r} (local.get $p)))\n`;
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j < 4; j++) {
          const c = acc(4 * r + j);
          w += `(local.set ${c} (f32x4.add (local.get ${c}) (f32x4.mul (local.get $a${r}) (local.get $b${j}))))\n`;
        }
      }
      // A distinct test per step keeps each step a basic block of its own, as in the library.
      if (s < 3) w += `(br_if $done (i32.eq (local.get $n) (i32.const ${-1 - s})))\n`;
    }
    // Walk a 16 KiB window (a packed B panel's size) 256 bytes per iteration.
    w += '(local.set $p (i32.and (i32.add (local.get $p) (i32.const 256)) (i32.const 16383)))\n';
    w += '(local.set $n (i32.sub (local.get $n) (i32.const 1)))\n';
    w += '(br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))\n';
    let sum = `(local.get ${acc(0)})`;
    for (let i = 1; i < 8; i++) sum = `(f32x4.add ${sum} (local.get ${acc(i)}))`;
    w += `(f32x4.extract_lane 0 ${sum}))\n`;
  });
  return `${w})\n`;
}

function assemble(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'simd-loads-'));
  try {
    writeFileSync(join(dir, 'k.wat'), text);
    execFileSync('wasm-as', ['--enable-simd', join(dir, 'k.wat'), '-o', join(dir, 'k.wasm')]);
    return new Uint8Array(readFileSync(join(dir, 'k.wasm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rounds = Number(process.argv[2] ?? 21);
const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble(moduleText())), {});
const run = (n: number) => instance.exports[`k${n}`] as (iterations: number) => number;
new Float32Array((instance.exports.mem as WebAssembly.Memory).buffer).fill(0.25);

const ITERATIONS = 1_000_000;
const a = randn([512, 512]);
const b = randn([512, 512]);
const cases: [string, () => void, number][] = [
  ...kernels.map((k, n): [string, () => void, number] => [k.name, () => void run(n)(ITERATIONS), ITERATIONS * 4 * 64]),
  ['ferrograd matmul 512 A·B', () => tidy(() => void a.matmul(b)), 2 * 512 ** 3],
];
for (const [, f] of cases) for (const t = performance.now(); performance.now() - t < 400; ) f();
const gflops = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const [name, f, flops] of cases) {
    const t = performance.now();
    f();
    const ms = performance.now() - t;
    gflops.set(name, [...(gflops.get(name) ?? []), flops / ms / 1e6]);
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const peak = median(gflops.get(kernels[0].name) ?? []);
console.log(`median of ${rounds} interleaved rounds; ratio = GFLOPS / the 0-load peak`);
for (const [name] of cases) {
  const g = median(gflops.get(name) ?? []);
  console.log(`${name.padEnd(26)} ${g.toFixed(1).padStart(6)} GFLOPS  ${(g / peak).toFixed(2)}`);
}
