// Shared pieces of the side-by-side benchmark: the workload list (one definition for every
// library runner and the report), and the sampling loop the JavaScript runners use.
// bench/runners/torch_bench.py mirrors `measure` in Python.

/** The workloads. `flops` turns a time into GFLOPS for the matmul rows. */
export interface Workload {
  id: string;
  label: string;
  flops?: number;
}

export const WORKLOADS: Workload[] = [
  { id: 'mm512_ab', label: 'matmul 512×512 A·B', flops: 2 * 512 ** 3 },
  { id: 'mm256_atb', label: 'matmul 256 Aᵀ·B', flops: 2 * 256 ** 3 },
  { id: 'mm256_abt', label: 'matmul 256 A·Bᵀ', flops: 2 * 256 ** 3 },
  { id: 'mm1024_atb', label: 'matmul 1024 Aᵀ·B', flops: 2 * 1024 ** 3 },
  { id: 'mm1024_abt', label: 'matmul 1024 A·Bᵀ', flops: 2 * 1024 ** 3 },
  { id: 'mlp_train', label: 'MLP 784-256-128-10 train step, batch 64' },
  { id: 'cnn_train', label: 'lecture CNN train step, batch 64' },
  { id: 'cnn_infer64', label: 'lecture CNN inference, batch 64' },
  { id: 'cnn_infer1', label: 'lecture CNN inference, batch 1' },
];

/**
 * Sampling plan for one workload in one round (one process):
 *  - warm-up until `warmMs` have passed and at least `warmCalls` calls ran, so TurboFan has
 *    tiered the hot wasm and JS up (V8 cannot swap a running wasm call to the optimised tier,
 *    so one slow call is enough warm-up for a multi-second call);
 *  - then samples until `budgetMs` have passed and at least `minSamples` were taken. A sample
 *    times `reps` back-to-back calls (chosen so one sample lasts ≥ `sampleMs`, which keeps the
 *    timer's resolution out of the 0.1 ms figures) and records the time per call.
 */
export interface Plan {
  warmMs: number;
  warmCalls: number;
  budgetMs: number;
  minSamples: number;
  maxSamples: number;
  sampleMs: number;
}

export const PLAN: Plan = { warmMs: 400, warmCalls: 3, budgetMs: 1200, minSamples: 3, maxSamples: 40, sampleMs: 4 };

/** Runs the plan above on `fn`; returns per-call milliseconds, one entry per sample. */
export function measure(fn: () => void, plan: Plan = PLAN): number[] {
  const now = () => performance.now();
  let t0 = now();
  let calls = 0;
  let last = 0;
  while (calls < plan.warmCalls || now() - t0 < plan.warmMs) {
    const s = now();
    fn();
    last = now() - s;
    calls++;
    // A call that takes longer than the whole warm-up budget has warmed up after one run.
    if (last > plan.warmMs) break;
  }
  const reps = Math.max(1, Math.ceil(plan.sampleMs / Math.max(last, 1e-3)));
  const samples: number[] = [];
  t0 = now();
  while (samples.length < plan.maxSamples && (samples.length < plan.minSamples || now() - t0 < plan.budgetMs)) {
    const s = now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((now() - s) / reps);
  }
  return samples;
}

/** Parses `--key value` / `--flag` arguments. */
export type Args = Record<string, string | true>;

export function parseArgs(argv: string[]): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

/** Plan adjusted by `--quick` (smoke run) and `--budget <ms>`. */
export function planFrom(args: Args): Plan {
  const plan = { ...PLAN };
  if (args.quick) Object.assign(plan, { warmMs: 50, warmCalls: 1, budgetMs: 100, minSamples: 2 });
  if (args.budget) plan.budgetMs = Number(args.budget);
  return plan;
}

/** Prints the runner's result as the last stdout line, which the orchestrator parses. */
export function report(result: unknown): void {
  process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`);
}
