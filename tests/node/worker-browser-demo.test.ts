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

  it('trains in a worker with the main thread free, charts it, predicts drawn digits', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/examples/browser/?autostart=8`);
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);

    await page.waitForFunction(() => (window as unknown as { demo: DemoState }).demo.phase !== 'training' && (window as unknown as { demo: DemoState }).demo.phase !== 'idle', null, { timeout: 120_000 });
    const state = await page.evaluate(() => (window as unknown as { demo: DemoState }).demo);
    expect(state.error).toBeNull();
    expect(state.phase).toBe('trained');
    expect(state.epochs.length).toBe(8);
    expect(state.batches.length).toBe(8 * Math.ceil(1500 / 32));
    // Learned: loss fell and held-out accuracy is high.
    expect(state.batches[state.batches.length - 1].loss).toBeLessThan(state.batches[0].loss);
    expect(state.epochs[7].testAccuracy).toBeGreaterThan(0.85);
    // The main thread kept painting frames while the worker trained.
    expect(state.framesWhileTraining).toBeGreaterThan(30);
    // offload(): the worker's predictions equal the main thread's, bit for bit.
    expect(state.parity).toEqual({ n: 64, identical: true, mismatches: 0 });

    // Draw a "1": a vertical stroke, then read the prediction and its probabilities.
    const pad = await page.locator('#pad').boundingBox();
    if (pad === null) throw new Error('no drawing pad');
    await page.mouse.move(pad.x + 128, pad.y + 30);
    await page.mouse.down();
    for (let y = 30; y <= 226; y += 14) await page.mouse.move(pad.x + 128 + (y - 30) / 40, pad.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => (window as unknown as { demo: DemoState }).demo.prediction !== null, null, { timeout: 10_000 });
    const prediction = await page.evaluate(() => (window as unknown as { demo: DemoState }).demo.prediction);
    expect(prediction?.probabilities.length).toBe(10);
    expect(prediction?.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(prediction?.digit).toBe(1);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  }, 150_000);

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
