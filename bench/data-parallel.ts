// DataParallel with 2 workers against 1 worker on the lecture's CNN (conv 1→10 k5,
// max-pool 2, conv 10→20 k5, max-pool 2, dropout .25, fc 320→100→10, ReLU), trained
// on Fashion-MNIST (or the bundled digits scaled to 28×28 when it is absent), each turn
// through `fit` over a DataLoader of that turn's rows, so that the replicas keep the
// training set and the main thread sends no batch:
//   - training throughput, examples/s: both configurations train side by side, taking
//     turns of STRETCH steps (so the machine's slow and fast phases hit both alike); the
//     medians over the turns after WARMUP steps, and the median ratio of neighbouring turns;
//   - held-out accuracy of each after the same epochs over the same batches;
//   - two 2-worker runs with the same seed: identical weights, compared as bytes;
//   - the machine's ceiling in the same turns: plain worker threads (no DataParallel)
//     running the same forward + backward, BATCH rows on one thread alone against
//     BATCH / 2 rows on each of two threads at once, and how close DataParallel came to it.
// Workers run the built package, so this imports dist/: `npm run build` first.
//
//   npm run bench:data-parallel            (DP_TRAIN=60000 DP_EPOCHS=2 DP_BATCH=64 by default)
//   DP_TRAIN=12000 npm run bench:data-parallel   (quicker; so short a training ends a few
//                                                  points of accuracy apart either way)
//   DP_COMPARE_FEEDS=1 npm run bench:data-parallel  (adds 2 workers fed batch tensors)

import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { data, nn, keep, manualSeed, noGrad, randperm, save, tensor, tidy, type Tensor } from '../dist/index.js';
import * as datasets from '../dist/datasets.js';
import { DataParallel } from '../dist/worker.js';

const TRAIN = Number(process.env.DP_TRAIN ?? 60000);
const EPOCHS = Number(process.env.DP_EPOCHS ?? 2);
const BATCH = Number(process.env.DP_BATCH ?? 64);
// Each configuration starts fresh workers, whose wasm runs in V8's baseline tier until its hot
// functions are recompiled by TurboFan: measured, that takes ~100 steps, with shard compute
// ~1.7× slower until then. Steady-state throughput is what is compared.
const WARMUP = 120;
const STRETCH = 20;
// DP_COMPARE_FEEDS=1 adds 2 workers fed batch tensors step by step, in the same turns.
const COMPARE_FEEDS = process.env.DP_COMPARE_FEEDS === '1';
const SEED = 7;
const OPTIMIZER = { name: 'SGD', options: { lr: 0.05, momentum: 0.9 } };
const FASHION = '/usr/share/datasets/fashion-mnist';

function lectureCnn(): nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(1, 10, 5), // [N, 10, 24, 24]
    new nn.ReLU(),
    new nn.MaxPool2d(2), // [N, 10, 12, 12]
    new nn.Conv2d(10, 20, 5), // [N, 20, 8, 8]
    new nn.ReLU(),
    new nn.MaxPool2d(2), // [N, 20, 4, 4]
    new nn.Flatten(),
    new nn.Dropout(0.25),
    new nn.Linear(320, 100),
    new nn.ReLU(),
    new nn.Linear(100, 10),
  );
}

interface Split {
  x: Tensor;
  y: Tensor;
}

/** The 8×8 digits, nearest-neighbour scaled to 28×28 (each pixel 3.5 wide, by index). */
function digits28(): { train: Split; test: Split; source: string } {
  const d = new datasets.Digits();
  const n = d.targets.shape[0];
  const src = d.data.data();
  const out = new Float32Array(n * 28 * 28);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) out[i * 784 + r * 28 + c] = src[i * 64 + Math.floor(r / 3.5) * 8 + Math.floor(c / 3.5)] / 16;
  }
  const x = tensor(out, { shape: [n, 1, 28, 28] });
  const cut = n - 297;
  return { train: { x: x.narrow(0, 0, cut), y: d.targets.narrow(0, 0, cut) }, test: { x: x.narrow(0, cut, n - cut), y: d.targets.narrow(0, cut, n - cut) }, source: 'UCI digits scaled to 28×28' };
}

async function loadData(): Promise<{ train: Split; test: Split; source: string }> {
  if (!existsSync(FASHION)) return digits28();
  const train = await datasets.FashionMNIST.load({ root: FASHION, train: true });
  const test = await datasets.FashionMNIST.load({ root: FASHION, train: false });
  const n = Math.min(TRAIN, train.targets.shape[0]);
  return { train: { x: train.data.narrow(0, 0, n), y: train.targets.narrow(0, 0, n) }, test: { x: test.data, y: test.targets }, source: `Fashion-MNIST (${n} training images, ${test.targets.shape[0]} test images)` };
}

/** The rows of each batch of one epoch: the same for every configuration (seeded permutation; the last partial batch dropped). */
function epochRows(train: Split, epoch: number): number[][] {
  manualSeed(1000 + epoch);
  const perm = Array.from(randperm(train.y.shape[0]).data());
  const out: number[][] = [];
  for (let at = 0; at + BATCH <= perm.length; at += BATCH) out.push(perm.slice(at, at + BATCH));
  return out;
}

function accuracy(model: nn.Module, test: Split): number {
  model.eval();
  let correct = 0;
  const n = test.y.shape[0];
  for (let at = 0; at < n; at += 1000) {
    const len = Math.min(1000, n - at);
    correct += tidy(() => noGrad(() => model.forward(test.x.narrow(0, at, len)).argmax(1).eq(test.y.narrow(0, at, len)).sum().item()));
  }
  return correct / n;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * How a configuration is fed: `loader`, a DataLoader over a Subset of the training set per
 * turn (the replicas keep the training set and cut their own shards); `batches`, the
 * batch tensors themselves, posted step by step.
 */
type Feed = 'loader' | 'batches';

interface Config {
  workers: number;
  feed: Feed;
}

interface Trained extends Config {
  /** Examples/s of each timed stretch, in order. */
  stretches: number[];
  accuracy: number;
  bytes: Uint8Array;
}

/** What one turn of `feed` trains on: the batches whose rows are `chunk`. */
function turnInput(feed: Feed, train: Split, dataset: data.TensorDataset, chunk: number[][]): data.DataLoader | Tensor[][] {
  if (feed === 'loader') return new data.DataLoader(new data.Subset(dataset, chunk.flat()), { batchSize: BATCH });
  return chunk.map((rows) => {
    const idx = tensor(Int32Array.from(rows));
    return [keep(train.x.indexSelect(0, idx)), keep(train.y.indexSelect(0, idx))];
  });
}

/**
 * Trains one model per configuration (same seed, same batches) with stretches of STRETCH
 * steps taken in turn, the order alternating, so that the machine's slow and fast phases
 * fall on every configuration alike; stretches after WARMUP steps are timed. `fit` keeps
 * the next steps queued in the workers, as a training loop would.
 */
async function trainInTurn(configs: Config[], sets: { train: Split; test: Split }, probe: CeilingProbe | null = null): Promise<Trained[]> {
  const batches = Array.from({ length: EPOCHS }, (_, epoch) => epochRows(sets.train, epoch)).flat();
  const dataset = new data.TensorDataset(sets.train.x, sets.train.y);
  const runs = await Promise.all(
    configs.map(async (config) => {
      manualSeed(SEED);
      const model = lectureCnn();
      const dp = await DataParallel.create(model, { workers: config.workers, seed: SEED, loss: 'CrossEntropyLoss', optimizer: OPTIMIZER });
      return { ...config, model, dp, stretches: [] as number[] };
    }),
  );
  try {
    for (let at = 0, turn = 0; at < batches.length; at += STRETCH, turn++) {
      const chunk = batches.slice(at, at + STRETCH);
      for (const r of turn % 2 === 0 ? runs : [...runs].reverse()) {
        const input = turnInput(r.feed, sets.train, dataset, chunk);
        const t0 = performance.now();
        await r.dp.fit(input);
        const ms = performance.now() - t0;
        if (Array.isArray(input)) input.flat().forEach((t) => t.dispose());
        if (at >= WARMUP && chunk.length === STRETCH) r.stretches.push((STRETCH * BATCH * 1000) / ms);
      }
      if (probe !== null && at >= WARMUP && chunk.length === STRETCH) await probe.turn();
    }
    return await Promise.all(
      runs.map(async (r) => {
        const sd = await r.dp.stateDict();
        r.model.loadStateDict(sd);
        return { workers: r.workers, feed: r.feed, stretches: r.stretches, accuracy: accuracy(r.model, sets.test), bytes: save(sd) };
      }),
    );
  } finally {
    await Promise.all(runs.map((r) => r.dp.terminate()));
  }
}

/**
 * The machine's parallel ceiling, measured in the same turns as DataParallel: two plain
 * worker threads (no DataParallel, no messages per step) running forward + backward of
 * the lecture's CNN on random data. Each turn times STRETCH steps of BATCH rows on one
 * thread alone, then STRETCH steps of BATCH / 2 rows on each thread at once: their ratio
 * is what a perfect two-way split of the batch would give at that moment. On a shared
 * 2-core machine it moves with the neighbours' load, which bounds DataParallel's ratio.
 */
class CeilingProbe {
  /** Per turn: ms per step of BATCH rows alone, and of BATCH / 2 rows on two threads at once (the slower). */
  readonly alone: number[] = [];
  readonly together: number[] = [];
  readonly #threads: Worker[];

  private constructor(threads: Worker[]) {
    this.#threads = threads;
  }

  static async start(): Promise<CeilingProbe> {
    const index = new URL('../dist/index.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(index)}).then(({ nn, randn, randint, tidy, manualSeed }) => {
        manualSeed(1);
        const m = new nn.Sequential(new nn.Conv2d(1, 10, 5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(10, 20, 5), new nn.ReLU(), new nn.MaxPool2d(2),
          new nn.Flatten(), new nn.Dropout(0.25), new nn.Linear(320, 100), new nn.ReLU(), new nn.Linear(100, 10));
        const lf = new nn.CrossEntropyLoss();
        const x = randn([${BATCH}, 1, 28, 28]);
        const y = randint(0, 10, [${BATCH}]);
        const shards = { ${BATCH}: [x, y], ${BATCH / 2}: [x.narrow(0, 0, ${BATCH / 2}), y.narrow(0, 0, ${BATCH / 2})] };
        parentPort.on('message', ({ rows, steps }) => {
          const [xs, ys] = shards[rows];
          const t0 = performance.now();
          for (let i = 0; i < steps; i++) tidy(() => { lf.forward(m.forward(xs), ys).backward(); for (const p of m.parameters()) p.grad = null; });
          parentPort.postMessage((performance.now() - t0) / steps);
        });
        parentPort.postMessage(0);
      });`;
    const threads = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Worker>((resolve, reject) => {
            const w = new Worker(code, { eval: true });
            w.once('message', () => resolve(w));
            w.once('error', reject);
          }),
      ),
    );
    const probe = new CeilingProbe(threads);
    // Warm-up, as for the replicas: until TurboFan has compiled the kernels.
    for (let i = 0; i < WARMUP / STRETCH; i++) await probe.#run(BATCH / 2, 2);
    return probe;
  }

  #run(rows: number, threads: number): Promise<number> {
    return Promise.all(
      this.#threads.slice(0, threads).map(
        (w) =>
          new Promise<number>((resolve) => {
            w.once('message', resolve);
            w.postMessage({ rows, steps: STRETCH });
          }),
      ),
    ).then((ms) => Math.max(...ms));
  }

  /** One turn: the batch on one thread, then half of it on each of two. */
  async turn(): Promise<void> {
    this.alone.push(await this.#run(BATCH, 1));
    this.together.push(await this.#run(BATCH / 2, 2));
  }

  /** Per turn: what a perfect split would gain, step time alone over step time of two halves at once. */
  get ceilings(): number[] {
    return this.alone.map((t, i) => t / this.together[i]);
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#threads.map((w) => w.terminate()));
  }
}

const sets = await loadData();
const load0 = loadavg();
console.log(`DataParallel on the lecture's CNN: ${sets.source}, batch ${BATCH}, ${EPOCHS} epoch(s), SGD lr 0.05 momentum 0.9`);
console.log(`load average before: ${load0.map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);

const probe = await CeilingProbe.start();
const configs: Config[] = [
  { workers: 1, feed: 'loader' },
  { workers: 2, feed: 'loader' },
  ...(COMPARE_FEEDS ? [{ workers: 2, feed: 'batches' } as const] : []),
];
const [one, two, twoFedBatches] = await trainInTurn(configs, sets, probe).finally(() => probe.terminate());
const [twoAgain] = await trainInTurn([{ workers: 2, feed: 'loader' }], sets);
const load1 = loadavg();

const same = two.bytes.length === twoAgain.bytes.length && two.bytes.every((b, i) => b === twoAgain.bytes[i]);
const rate = (r: Trained): number => median(r.stretches);
const stepMs = (r: Trained): number => (1000 * BATCH) / rate(r);
const fmt = (r: Trained): string =>
  `${r.workers} worker(s), fed ${r.feed === 'loader' ? 'a DataLoader' : 'batch tensors'}: ${rate(r).toFixed(0)} examples/s (median of ${r.stretches.length} stretches of ${STRETCH} steps; ` +
  `range ${Math.min(...r.stretches).toFixed(0)}-${Math.max(...r.stretches).toFixed(0)}), ${stepMs(r).toFixed(1)} ms a step, test accuracy ${(100 * r.accuracy).toFixed(2)} %`;
console.log(fmt(one));
console.log(fmt(two));
const ratios = two.stretches.map((t, i) => t / one.stretches[i]);
// Every timed stretch trains the same number of examples: total throughput is their count over the summed time.
const totalRate = (r: Trained): number => r.stretches.length / sum(r.stretches.map((rate) => 1 / rate));
console.log(
  `throughput ratio 2 / 1 workers: ${(rate(two) / rate(one)).toFixed(3)}× (ratio of medians); ${(totalRate(two) / totalRate(one)).toFixed(3)}× (examples over total time); ` +
    `per pair of neighbouring stretches: median ${median(ratios).toFixed(3)}×, quartiles ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}×`,
);
if (twoFedBatches !== undefined) {
  console.log(fmt(twoFedBatches));
  const feeds = two.stretches.map((t, i) => t / twoFedBatches.stretches[i]);
  console.log(`2 workers, DataLoader over batch tensors: ${(rate(two) / rate(twoFedBatches)).toFixed(3)}× (ratio of medians), neighbouring stretches: median ${median(feeds).toFixed(3)}×`);
}
console.log(`accuracy difference: ${(100 * Math.abs(two.accuracy - one.accuracy)).toFixed(2)} points`);
console.log(`two 2-worker runs with seed ${SEED}: weights ${same ? 'identical' : 'DIFFERENT'} (${two.bytes.length} bytes of safetensors compared; second run ${(100 * twoAgain.accuracy).toFixed(2)} %)`);
const ceilings = probe.ceilings;
const reached = ratios.map((r, i) => r / ceilings[i]);
console.log(
  `machine ceiling in the same turns (plain threads, no DataParallel): ${BATCH} rows on one thread ${median(probe.alone).toFixed(1)} ms a step, ` +
    `${BATCH / 2} rows on each of two at once ${median(probe.together).toFixed(1)} ms: a perfect split gives ${median(ceilings).toFixed(2)}× ` +
    `(quartiles ${quantile(ceilings, 0.25).toFixed(2)}-${quantile(ceilings, 0.75).toFixed(2)}×), ${(sum(probe.alone) / sum(probe.together)).toFixed(2)}× over total time; ` +
    `DataParallel reached a median ${(100 * median(reached)).toFixed(0)} % of it turn by turn`,
);
console.log(
  `overhead per step over the plain threads: 1 worker ${(stepMs(one) - median(probe.alone)).toFixed(1)} ms, 2 workers ${(stepMs(two) - median(probe.together)).toFixed(1)} ms`,
);
console.log(`load average after: ${load1.map((l) => l.toFixed(2)).join(' ')}`);
if (!same) process.exitCode = 1;
