// Standalone check of the browser demo: serves it, opens it in headless Chromium,
// presses Train, draws a "1", prints the page's state (with the main thread's lag
// figures) and saves a screenshot.
//   node tests/worker/browser-demo.mjs [epochs] [screenshot path]
import { spawn } from 'node:child_process';
import { chromium } from 'playwright';

const root = new URL('../..', import.meta.url).pathname;
const epochs = Number(process.argv[2] ?? 8);
const shot = process.argv[3] ?? '/tmp/ferrograd-demo.png';
const server = spawn('node', ['scripts/serve-demo.mjs'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve) => server.stdout.on('data', (c) => { const m = /http:\/\/127\.0\.0\.1:\d+/.exec(String(c)); if (m) resolve(m[0]); }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.on('console', (m) => console.log('[page]', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('[pageerror]', e));
  await page.goto(`${base}/examples/browser/`);
  await page.locator('#epochs').fill(String(epochs));
  await page.locator('#start').click();
  const t0 = Date.now();
  while (true) {
    const s = await page.evaluate(() => ({ phase: demo.phase, batches: demo.batches.length, epochs: demo.epochs.length, frames: demo.frames, error: demo.error }));
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s`, JSON.stringify(s));
    if (s.phase !== 'training' && s.phase !== 'idle') break;
    if (Date.now() - t0 > 180_000) break;
    await page.waitForTimeout(2000);
  }
  const pad = await page.locator('#pad').boundingBox();
  await page.mouse.move(pad.x + 128, pad.y + 30);
  await page.mouse.down();
  for (let y = 30; y <= 226; y += 14) await page.mouse.move(pad.x + 128 + (y - 30) / 40, pad.y + y);
  await page.mouse.up();
  await page.waitForTimeout(500);
  console.log(JSON.stringify(await page.evaluate(() => ({ parity: demo.parity, prediction: demo.prediction, framesWhileTraining: demo.framesWhileTraining, lag: demo.lag, lastEpoch: demo.epochs.at(-1) }))));
  await page.screenshot({ path: shot, fullPage: true });
  console.log('screenshot:', shot);
} finally {
  await browser.close();
  server.kill();
}
