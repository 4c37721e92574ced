// The browser demo in headless Chromium (Debian's /usr/bin/chromium through Playwright):
// the page served by scripts/serve-demo.mjs trains a CNN on the digits in a Web Worker,
// the main thread keeps animating, the chart fills, the worker's predictions match the
// main thread bit for bit, and a drawn digit gets class probabilities. Also checks, in the
// page, that the Tensor transfer handler detaches the buffer it sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright';

const root = new URL('../..', import.meta.url).pathname;
const SCREENSHOT = '/tmp/ferrograd-demo.png';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const EPOCHS = 8;

let server: ChildProcess;
let base = '';
let browser: Browser;
let page: Page;

interface DemoState {
  phase: string;
  batches: { loss: number }[];
  epochs: { trainAccuracy: number; testAccuracy: number }[];
  frames: number;
  framesWhileTraining: number;
  parity: { identical: boolean; n: number } | null;
  prediction: { digit: number; probabilities: number[] } | null;
  error: string | null;
  lag: { maxTimerLagMs: number; p99TimerLagMs: number; worstTimerAtMs: number; maxFrameGapMs: number; worstFrameAtMs: number; timers: number; longTasks: { atMs: number; ms: number }[] } | null;
}

declare global {
  interface Window {
    demo: DemoState;
  }
}

beforeAll(async () => {
  server = spawn('node', ['scripts/serve-demo.mjs'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise<string>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(String(chunk));
      if (m) resolve(m[0]);
    });
    server.on('exit', (code) => reject(new Error(`serve-demo exited with ${code}`)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.kill();
});

describe('browser demo (examples/browser)', () => {
  it('is served on loopback only, cross-origin isolated, and refuses paths outside the demo', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect((await fetch(`${base}/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/examples/browser/../../package.json`)).status).toBe(404);
    const r = await fetch(`${base}/dist/worker.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('trains in a worker to ≥ 90 % on held-out digits with the main thread free, then predicts a drawn digit', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/examples/browser/`);
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);

    // Start training as a user would: set the epochs, press Train.
    await page.locator('#epochs').fill(String(EPOCHS));
    await page.locator('#start').click();
    await page.waitForFunction(() => window.demo.phase === 'training', null, { timeout: 30_000 });
    // Wait until held-out accuracy reaches 90 % (or training ends without it).
    await page.waitForFunction(() => window.demo.epochs.some((e) => e.testAccuracy >= 0.9) || window.demo.phase !== 'training', null, { timeout: 120_000, polling: 250 });
    await page.waitForFunction(() => window.demo.phase !== 'training', null, { timeout: 120_000, polling: 250 });
    const state = await page.evaluate(() => window.demo);
    expect(state.error).toBeNull();
    expect(state.phase).toBe('trained');
    expect(state.epochs.length).toBe(EPOCHS);
    expect(state.batches.length).toBe(EPOCHS * Math.ceil(1500 / 32));
    const best = Math.max(...state.epochs.map((e) => e.testAccuracy));
    const final = state.epochs[EPOCHS - 1].testAccuracy;
    console.log(`browser demo: test accuracy by epoch ${state.epochs.map((e) => (100 * e.testAccuracy).toFixed(1)).join(' ')} %`);
    expect(best).toBeGreaterThanOrEqual(0.9);
    expect(final).toBeGreaterThanOrEqual(0.9);
    expect(state.batches[state.batches.length - 1].loss).toBeLessThan(state.batches[0].loss);

    // The main thread stayed responsive the whole time the worker trained (start-up included).
    const lag = state.lag;
    if (lag === null) throw new Error('the page recorded no lag figures');
    console.log(
      `browser main thread while the worker trained: timer lag max ${lag.maxTimerLagMs.toFixed(1)} ms (${lag.worstTimerAtMs.toFixed(0)} ms after Train), ` +
        `p99 ${lag.p99TimerLagMs.toFixed(1)} ms over ${lag.timers} timers; long tasks ${JSON.stringify(lag.longTasks)}; ` +
        `worst frame gap ${lag.maxFrameGapMs.toFixed(1)} ms; ${state.framesWhileTraining} frames`,
    );
    expect(lag.timers).toBeGreaterThan(50);
    // Chromium's own measure of a blocked event loop. Training on the main thread would show
    // up as tasks of seconds (a whole epoch) or hundreds of milliseconds (a batch at a time);
    // on a loaded 2-core machine an ordinary chart update can stretch past Chromium's 50 ms
    // mark while the thread waits for a core, so a few short ones are tolerated.
    const longest = Math.max(0, ...lag.longTasks.map((t) => t.ms));
    expect(longest, 'longest main-thread task').toBeLessThan(150);
    expect(lag.longTasks.length, 'main-thread tasks of 50 ms or more').toBeLessThanOrEqual(3);
    // Timer lateness also counts time the thread waited for a core: on this 2-core machine
    // other processes (load ≈ 4) and the worker's own wasm compilation compete with it, and
    // the single worst timer was measured at 28-100 ms with no long task at all. The 99th
    // percentile is what the page's own work decides.
    expect(lag.p99TimerLagMs).toBeLessThan(50);
    expect(state.framesWhileTraining).toBeGreaterThan(30);
    // offload(): the worker's predictions equal the main thread's, bit for bit.
    expect(state.parity).toEqual({ n: 64, identical: true, mismatches: 0 });

    // Draw a "1": a vertical stroke, then read the prediction the page shows.
    const pad = await page.locator('#pad').boundingBox();
    if (pad === null) throw new Error('no drawing pad');
    await page.mouse.move(pad.x + 128, pad.y + 30);
    await page.mouse.down();
    for (let y = 30; y <= 226; y += 14) await page.mouse.move(pad.x + 128 + (y - 30) / 40, pad.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => window.demo.prediction !== null, null, { timeout: 10_000 });
    const prediction = await page.evaluate(() => window.demo.prediction);
    const shown = await page.locator('#prediction').innerText();
    console.log(`browser demo: drew a 1, the page shows "${shown}"`);
    expect(shown).toMatch(/^prediction: 1 \(\d+\.\d%\)$/);
    expect(prediction?.probabilities.length).toBe(10);
    expect(prediction?.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(prediction?.digit).toBe(1);
    expect(await page.locator('#probs .bar').count()).toBe(10);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  }, 250_000);

  it('training in a Web Worker with seed s gives bit-identical weights to training on the page\'s main thread with seed s', async () => {
    // A string, so that vitest does not rewrite the page's dynamic imports.
    const result: unknown = await page.evaluate(`(async () => {
      const w = await import('/dist/worker.js');
      const script = await import('/examples/browser/train-digits.js');
      const bits = (t) => Array.from(new Uint32Array(Float32Array.from(t.data()).buffer));
      const out = [];
      for (const seed of [5, 6]) {
        const args = { epochs: 1, seed };
        const inWorker = await w.trainInWorker({ module: '/examples/browser/train-digits.js', export: 'train', args });
        const ctx = { args, aborted: false, throwIfAborted() {}, report() {}, async checkpoint() {} };
        const here = (await script.train(ctx)).stateDict();
        const keys = Object.keys(here);
        const differing = keys.filter((k) => JSON.stringify(bits(here[k])) !== JSON.stringify(bits(inWorker[k])));
        out.push({ seed, keys: keys.length, sameKeys: JSON.stringify(Object.keys(inWorker).sort()) === JSON.stringify([...keys].sort()), differing, firstWeight: bits(here['0.weight']).slice(0, 4) });
      }
      return out;
    })()`);
    const runs = result as { seed: number; keys: number; sameKeys: boolean; differing: string[]; firstWeight: number[] }[];
    expect(runs.map((r) => ({ seed: r.seed, keys: r.keys, sameKeys: r.sameKeys, differing: r.differing }))).toEqual([
      { seed: 5, keys: 6, sameKeys: true, differing: [] },
      { seed: 6, keys: 6, sameKeys: true, differing: [] },
    ]);
    // Different seeds train to different weights: the comparison is not vacuous.
    expect(runs[0].firstWeight).not.toEqual(runs[1].firstWeight);
  }, 120_000);

  it('DataParallel in the browser: shared memory on a cross-origin isolated page, batches and a DataLoader, the same weights as transferred arrays', async () => {
    // A string, so that vitest does not rewrite the page's dynamic imports.
    const result: unknown = await page.evaluate(`(async () => {
      const w = await import('/dist/worker.js');
      const f = await import('/dist/index.js');
      f.manualSeed(3);
      const x = f.randn([12, 8]);
      const y = f.randint(0, 3, [12]);
      const train = async (sharedMemory) => {
        f.manualSeed(4);
        const model = new f.nn.Sequential(new f.nn.Linear(8, 4), new f.nn.Tanh(), new f.nn.Linear(4, 3));
        const dp = await w.DataParallel.create(model, { workers: 2, seed: 1, sharedMemory, loss: 'CrossEntropyLoss', optimizer: { name: 'SGD', options: { lr: 0.5, momentum: 0.9 } } });
        try {
          // Then an epoch of a DataLoader: with shared memory the workers keep its TensorDataset.
          const loader = new f.data.DataLoader(new f.data.TensorDataset(x, y), { batchSize: 5 });
          const losses = [await dp.step(x, y), ...(await dp.fit([[x, y], [x, y], [x, y]])), ...(await dp.fit(loader))];
          const sd = await dp.stateDict();
          return { shared: dp.sharedMemory, losses, weights: Object.values(sd).flatMap((t) => Array.from(t.data())) };
        } finally {
          await dp.terminate();
        }
      };
      const a = await train(undefined);
      const b = await train(false);
      return { sharedA: a.shared, sharedB: b.shared, lossesA: a.losses, lossesB: b.losses, maxDiff: Math.max(...a.weights.map((v, i) => Math.abs(v - b.weights[i]))), n: a.weights.length };
    })()`);
    const r = result as { sharedA: boolean; sharedB: boolean; lossesA: number[]; lossesB: number[]; maxDiff: number; n: number };
    expect([r.sharedA, r.sharedB]).toEqual([true, false]);
    expect(r.n).toBe(8 * 4 + 4 + 4 * 3 + 3);
    expect(r.maxDiff).toBeLessThan(1e-6);
    expect(r.lossesA).toHaveLength(7);
    r.lossesA.forEach((l, i) => expect(l).toBeCloseTo(r.lossesB[i], 6));
    // Four steps on one batch: the loss falls, so the steps really trained.
    expect(r.lossesA[3]).toBeLessThan(r.lossesA[0]);
  }, 120_000);

  it('moves tensors to a Web Worker without copying: the sent buffer is detached', async () => {
    // A string, so that vitest does not rewrite the page's dynamic imports.
    const result: unknown = await page.evaluate(`(async () => {
      const w = await import('/dist/worker.js');
      const f = await import('/dist/index.js');
      const [wire, list] = w.tensorTransferHandler.serialize(f.tensor([1, 2, 3, 4], { dtype: 'float32' }));
      const before = wire.data.byteLength;
      const { port1, port2 } = new MessageChannel();
      const received = new Promise((resolve) => (port2.onmessage = (e) => resolve(Array.from(e.data.data))));
      port1.postMessage(wire, list);
      return { before, after: wire.data.buffer.byteLength, received: await received };
    })()`);
    expect(result).toEqual({ before: 16, after: 0, received: [1, 2, 3, 4] });
  });
});
