// Where one train step's time goes, by function, wasm kernels included: samples the step with
// V8's CPU profiler (node:inspector) and prints self time per function. Build the wasm with its
// function names first, or the kernels show up as wasm-function[N]:
//
//   FERROGRAD_WASM_NAMES=1 npm run build:wasm && npx tsx bench/wasm-profile.ts cnn
//   npm run build:wasm                         # back to the stripped module afterwards
//
// Usage: npx tsx bench/wasm-profile.ts [cnn|mlp|cnn-infer|cnn-infer1] [steps]
import { Session } from 'node:inspector/promises';
import { nn, optim, randn, randint, tidy, noGrad } from '../ts/index.js';
import { LectureCnn } from './lecture-cnn.js';

const [which = 'cnn', stepsArg = '200'] = process.argv.slice(2);
const steps = Number(stepsArg);

function workload(): () => void {
  if (which === 'mlp' || which === 'cnn') {
    const model = which === 'mlp' ? new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10)) : new LectureCnn();
    const x = which === 'mlp' ? randn([64, 784]) : randn([64, 1, 28, 28]);
    const y = randint(0, 10, [64]);
    const lossFn = new nn.CrossEntropyLoss();
    const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
    return () => tidy(() => {
      opt.zeroGrad();
      lossFn.forward(model.forward(x), y).backward();
      opt.step();
    });
  }
  if (which === 'cnn-infer' || which === 'cnn-infer1') {
    const model = new LectureCnn();
    model.eval();
    const x = randn([which === 'cnn-infer1' ? 1 : 64, 1, 28, 28]);
    return () => noGrad(() => tidy(() => void model.forward(x)));
  }
  throw new Error(`unknown workload ${which}; use cnn, mlp, cnn-infer or cnn-infer1`);
}

/** `_ZN14ferrograd_core7kernels6im2col9im2col_ld17h…E` → `ferrograd_core::kernels::im2col::im2col_ld`. */
function demangle(name: string): string {
  const m = /^_ZN((?:\d+[^\d]\S*?)+)17h[0-9a-f]{16}E$/.exec(name);
  if (!m) return name || '(anonymous)';
  const parts: string[] = [];
  for (let rest = m[1]; rest.length > 0; ) {
    const len = /^\d+/.exec(rest);
    if (!len) break;
    const n = Number(len[0]);
    parts.push(rest.slice(len[0].length, len[0].length + n));
    rest = rest.slice(len[0].length + n);
  }
  return parts.join('::').replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ');
}

const step = workload();
// Warm-up: long enough for V8 to tier the wasm up to TurboFan.
for (let i = 0, t0 = performance.now(); i < 20 || performance.now() - t0 < 1000; i++) step();

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const ms = (performance.now() - t0) / steps;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
const deltas = profile.timeDeltas ?? [];
(profile.samples ?? []).forEach((id, i) => {
  const node = byId.get(id);
  const dt = deltas[i] ?? 0;
  if (!node) return;
  const name = node.callFrame.url.startsWith('wasm://') ? demangle(node.callFrame.functionName) : `${node.callFrame.functionName || '(anonymous)'} (JS)`;
  if (name === '(idle) (JS)' || name === '(program) (JS)') return;
  self.set(name, (self.get(name) ?? 0) + dt);
  total += dt;
});
console.log(`${which}: ${ms.toFixed(2)} ms per step over ${steps} steps; self time by function:`);
for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`  ${((100 * t) / total).toFixed(1).padStart(5)} %  ${(((t / 1000) / steps)).toFixed(3).padStart(7)} ms  ${name}`);
}
