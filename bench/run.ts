// `npm run bench`: ferrograd against TensorFlow.js (wasm SIMD and cpu backends) and PyTorch on
// the workloads of issue 7. One process per library per round; libraries run round-robin for
// several rounds (the order rotates each round) so a burst of machine noise hits every column
// alike. Prints a table with medians, min–max and the ratios ferrograd/peer, and writes the raw
// samples to bench/results/results.json and a bar chart to bench/results/chart.svg.
//
//   npm run bench                         # 3 rounds, all libraries, all workloads (~5 min)
//   npm run bench -- --rounds 5           # more rounds
//   npm run bench -- --libs ferrograd,tfjs-wasm --workloads mm512_ab,cnn_train
//   npm run bench -- --quick              # smoke run: short budgets, 1 round
//   npm run bench -- --no-build           # skip `node scripts/build-wasm.mjs`
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, parseArgs, type Workload } from './common.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = parseArgs(process.argv.slice(2));
const rounds = Number(args.rounds ?? (args.quick ? 1 : 3));
const python = '/usr/bin/python3';
const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

interface Lib {
  id: string;
  title: string;
  cmd: string;
  argv: string[];
  /** Workloads this library is not run on, with the reason. */
  skip?: Record<string, string>;
  /** Workloads so slow here (seconds per call) that they run in the first round only. */
  firstRoundOnly?: string[];
}

const tsx = (file: string, ...rest: string[]) => ['--import', 'tsx', `${root}bench/runners/${file}`, ...rest];
const ALL_LIBS: Lib[] = [
  { id: 'ferrograd', title: 'ferrograd', cmd: process.execPath, argv: tsx('ferrograd.ts') },
  { id: 'tfjs-wasm', title: 'tfjs wasm', cmd: process.execPath, argv: tsx('tfjs.ts', '--backend', 'wasm'), firstRoundOnly: ['mm1024_atb', 'mm1024_abt'] },
  {
    id: 'tfjs-cpu',
    title: 'tfjs cpu',
    cmd: process.execPath,
    argv: tsx('tfjs.ts', '--backend', 'cpu'),
    firstRoundOnly: ['mm1024_atb', 'mm1024_abt', 'cnn_train'],
  },
  { id: 'pytorch', title: 'PyTorch', cmd: python, argv: [`${root}bench/runners/torch_bench.py`] },
];

/** Targets of issue 7 for ferrograd (one worker). */
const TARGETS: Record<string, { value: number; unit: 'GFLOPS' | 'ms' }> = {
  mm512_ab: { value: 38, unit: 'GFLOPS' },
  mm256_atb: { value: 38, unit: 'GFLOPS' },
  mm256_abt: { value: 38, unit: 'GFLOPS' },
  mm1024_atb: { value: 38, unit: 'GFLOPS' },
  mm1024_abt: { value: 38, unit: 'GFLOPS' },
  mlp_train: { value: 3, unit: 'ms' },
  cnn_train: { value: 12, unit: 'ms' },
  cnn_infer64: { value: 3.5, unit: 'ms' },
  cnn_infer1: { value: 0.1, unit: 'ms' },
};

const notes: string[] = [
  'tfjs: Aᵀ·B / A·Bᵀ at 1024 (both backends) and the CNN train step on tfjs-cpu take seconds per call, so they run in the first round only',
];
let libs = ALL_LIBS;
if (typeof args.libs === 'string') {
  const ids = args.libs.split(',');
  libs = ALL_LIBS.filter((l) => ids.includes(l.id));
}
let workloads: Workload[] = WORKLOADS;
if (typeof args.workloads === 'string') {
  const ids = args.workloads.split(',');
  workloads = WORKLOADS.filter((w) => ids.includes(w.id));
}
if (libs.some((l) => l.id === 'pytorch') && spawnSync(python, ['-c', 'import torch'], { env }).status !== 0) {
  notes.push(`PyTorch skipped: ${python} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
  libs = libs.filter((l) => l.id !== 'pytorch');
}
const passThrough = [...(args.quick ? ['--quick'] : []), ...(typeof args.budget === 'string' ? ['--budget', args.budget] : [])];

if (!args['no-build']) {
  console.log('building the wasm core (node scripts/build-wasm.mjs) ...');
  const b = spawnSync(process.execPath, [`${root}scripts/build-wasm.mjs`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error('build failed; fix it or pass --no-build');
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

const machine = {
  cpu: cpuModel(),
  cores: os.cpus().length,
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  date: new Date().toISOString(),
  loadavgStart: os.loadavg().map((x) => +x.toFixed(2)),
  loadavgEnd: [] as number[],
};

// samples[lib][workload] = per-call ms, pooled over rounds
const samples: Record<string, Record<string, number[]>> = {};
const libNotes: Record<string, Set<string>> = {};
const t0 = Date.now();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < libs.length; i++) {
    const lib = libs[(i + r) % libs.length]!;
    const ids = workloads.filter((w) => !lib.skip?.[w.id] && (r === 0 || !lib.firstRoundOnly?.includes(w.id))).map((w) => w.id);
    const started = Date.now();
    const p = spawnSync(lib.cmd, [...lib.argv, '--workloads', ids.join(','), ...passThrough], { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const line = p.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (!line) {
      const err = (p.stderr || p.stdout || '').split('\n').filter((l) => l.trim() && !l.startsWith('    at ')).slice(-3).join(' | ').slice(0, 400);
      console.log(`round ${r + 1}/${rounds} ${lib.id}: FAILED after ${secs}s (${err})`);
      (libNotes[lib.id] ??= new Set()).add(`failed in round ${r + 1}: ${err}`);
      continue;
    }
    const res = JSON.parse(line.slice('@@RESULT '.length)) as { notes: string[]; results: Record<string, number[]> };
    for (const n of res.notes) (libNotes[lib.id] ??= new Set()).add(n);
    for (const [id, s] of Object.entries(res.results)) ((samples[lib.id] ??= {})[id] ??= []).push(...s);
    console.log(`round ${r + 1}/${rounds} ${lib.id}: ${secs}s`);
  }
}
machine.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function stat(id: string, lib: string): Stat | null {
  const s = samples[lib]?.[id];
  if (!s?.length) return null;
  return { median: median(s), min: Math.min(...s), max: Math.max(...s), n: s.length };
}
const wl = (id: string) => WORKLOADS.find((w) => w.id === id)!;
/** Figure shown for a workload: GFLOPS for matmuls (higher is better), ms otherwise. */
const shown = (id: string, ms: number) => (wl(id).flops ? wl(id).flops! / (ms * 1e6) : ms);
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

const header = ['workload', 'unit', ...libs.map((l) => l.title), 'target', ...libs.filter((l) => l.id !== 'ferrograd').map((l) => `fg/${l.title}`)];
const rows: string[][] = [];
const summary: Record<string, Record<string, unknown>> = {};
for (const w of workloads) {
  const unit = w.flops ? 'GFLOPS' : 'ms';
  const cells: string[] = [w.label, unit];
  const medians: Record<string, number> = {};
  for (const l of libs) {
    const st = stat(w.id, l.id);
    if (!st) {
      cells.push(l.skip?.[w.id] ? 'skipped' : '—');
      continue;
    }
    const [a, b] = [shown(w.id, st.max), shown(w.id, st.min)].sort((x, y) => x - y);
    medians[l.id] = shown(w.id, st.median);
    cells.push(`${fmt(medians[l.id]!)} (${fmt(a!)}–${fmt(b!)})`);
    (summary[w.id] ??= {})[l.id] = { ...st, [unit]: medians[l.id] };
  }
  const t = TARGETS[w.id];
  const fg = medians['ferrograd'];
  cells.push(t ? `${t.unit === 'GFLOPS' ? '≥' : '≤'} ${t.value}${fg === undefined ? '' : (t.unit === 'GFLOPS' ? fg >= t.value : fg <= t.value) ? ' ✓' : ' ✗'}` : '');
  for (const l of libs.filter((x) => x.id !== 'ferrograd')) {
    const p = medians[l.id];
    cells.push(fg !== undefined && p !== undefined ? `${(fg / p).toFixed(2)}` : '—');
  }
  rows.push(cells);
}

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('');
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadavgStart.join(' ')} → ${machine.loadavgEnd.join(' ')}`);
console.log(`${rounds} round(s), ${((Date.now() - t0) / 1000).toFixed(0)} s; medians over all samples with (min–max); fg/peer = ferrograd's figure ÷ the peer's:`);
console.log('GFLOPS rows: > 1 means ferrograd is faster; ms rows: < 1 means ferrograd is faster.');
console.log('');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log('');
for (const n of notes) console.log(`note: ${n}`);
for (const l of libs) for (const n of libNotes[l.id] ?? []) console.log(`${l.id}: ${n}`);

const outDir = `${root}bench/results`;
mkdirSync(outDir, { recursive: true });
writeFileSync(
  `${outDir}/results.json`,
  `${JSON.stringify(
    {
      machine,
      rounds,
      plan: args.quick ? 'quick' : 'default',
      notes: [...notes, ...libs.flatMap((l) => [...(libNotes[l.id] ?? [])].map((n) => `${l.id}: ${n}`))],
      workloads: workloads.map((w) => ({ ...w, target: TARGETS[w.id] })),
      summary,
      samplesMs: samples,
    },
    null,
    1,
  )}\n`,
);
writeFileSync(`${outDir}/chart.svg`, chart());
console.log(`\nraw samples: bench/results/results.json; chart: bench/results/chart.svg`);

/** Horizontal bars, one group per workload: each library's speed relative to the fastest one in that row. */
function chart(): string {
  const colors: Record<string, string> = { ferrograd: '#d9480f', 'tfjs-wasm': '#1c7ed6', 'tfjs-cpu': '#74c0fc', pytorch: '#495057' };
  const barH = 14;
  const labelW = 300;
  const plotW = 420;
  let y = 40;
  const parts: string[] = [];
  for (const w of workloads) {
    const speeds = libs.map((l) => {
      const st = stat(w.id, l.id);
      return st ? 1 / st.median : 0;
    });
    const best = Math.max(...speeds, 1e-12);
    parts.push(`<text x="8" y="${y + 11}" font-weight="bold">${esc(w.label)}</text>`);
    y += 16;
    libs.forEach((l, i) => {
      const st = stat(w.id, l.id);
      const len = (speeds[i]! / best) * plotW;
      const label = st ? `${fmt(shown(w.id, st.median))} ${w.flops ? 'GFLOPS' : 'ms'}` : 'not run';
      parts.push(`<text x="${labelW - 8}" y="${y + 11}" text-anchor="end">${esc(l.title)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${len.toFixed(1)}" height="${barH - 2}" fill="${colors[l.id] ?? '#888'}"/>`);
      parts.push(`<text x="${(labelW + len + 6).toFixed(1)}" y="${y + 11}">${esc(label)}</text>`);
      y += barH;
    });
    y += 10;
  }
  const title = `ferrograd vs peers — speed relative to the fastest per row (longer is faster); ${esc(machine.cpu)}, Node ${machine.node}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 140}" height="${y + 10}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="20" font-size="13">${title}</text>
${parts.join('\n')}
</svg>
`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
