// The demo page's main thread: starts training in a worker (trainInWorker), charts the
// progress it reports, keeps an animation running to show the thread is free, then
// ships the trained model to a worker (offload) and classifies what the user draws.
// Plain ESM against the built package; `npm run demo:browser` serves it.
import { noGrad, tensor, tidy } from '../../dist/index.js';
import * as datasets from '../../dist/datasets.js';
import { trainInWorker, offload, canShareMemory } from '../../dist/worker.js';
import { makeModel } from './train-digits.js';

const $ = (id) => document.getElementById(id);

/** What the page has done so far; read by the headless-browser check (tests/worker/browser-demo.mjs). */
const demo = {
  phase: 'idle',
  batches: [],
  epochs: [],
  frames: 0,
  framesWhileTraining: 0,
  parity: null,
  prediction: null,
  error: null,
  /** Main-thread responsiveness while the worker trained: see monitorLag(). */
  lag: null,
};
window.demo = demo;

$('env').textContent =
  `cross-origin isolated: ${window.crossOriginIsolated ? 'yes' : 'no'} · ` +
  `abort via ${canShareMemory() ? 'SharedArrayBuffer' : 'message'} · ${navigator.hardwareConcurrency} cores`;

// ---------------------------------------------------------------- liveness

let lastSecond = performance.now();
let framesThisSecond = 0;
function animate(now) {
  demo.frames++;
  if (demo.phase === 'training') demo.framesWhileTraining++;
  framesThisSecond++;
  if (now - lastSecond >= 1000) {
    $('fps').textContent = String(framesThisSecond);
    framesThisSecond = 0;
    lastSecond = now;
  }
  $('counter').textContent = String(demo.frames);
  $('spinner').style.transform = `rotate(${(now / 3) % 360}deg)`;
  requestAnimationFrame(animate);
}
requestAnimationFrame(animate);

/**
 * Measures how late the main thread runs things while `monitorLag()` is on: a chain of
 * 10 ms timers (event-loop lag: how late each fires) and the gaps between animation
 * frames. A long task on this thread (a big synchronous message, a slow chart redraw)
 * shows up in both. `stop()` returns the worst figures.
 */
function monitorLag() {
  const start = performance.now();
  let worstTimer = 0;
  let worstTimerAt = 0;
  const lags = [];
  let worstFrame = 0;
  let worstFrameAt = 0;
  let timers = 0;
  let due = performance.now() + 10;
  let running = true;
  const tick = () => {
    const now = performance.now();
    lags.push(Math.max(0, now - due));
    if (now - due > worstTimer) {
      worstTimer = now - due;
      worstTimerAt = due - start;
    }
    timers++;
    due = now + 10;
    if (running) setTimeout(tick, 10);
  };
  setTimeout(tick, 10);
  let lastFrame = null;
  const frame = (now) => {
    if (lastFrame !== null && now - lastFrame > worstFrame) {
      worstFrame = now - lastFrame;
      worstFrameAt = lastFrame - start;
    }
    lastFrame = now;
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // Long tasks (over 50 ms) that ran on this thread: if there are none, late timers mean
  // the thread was waiting for a core (other processes, wasm compilation), not busy.
  const longTasks = [];
  const observer = typeof PerformanceObserver === 'function' && PerformanceObserver.supportedEntryTypes?.includes('longtask')
    ? new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longTasks.push({ atMs: Math.round(e.startTime - start), ms: Math.round(e.duration), name: e.name });
      })
    : null;
  observer?.observe({ type: 'longtask' });
  return {
    stop() {
      running = false;
      observer?.disconnect();
      const sorted = lags.sort((a, b) => a - b);
      const p99TimerLagMs = sorted.length ? sorted[Math.floor(0.99 * (sorted.length - 1))] : 0;
      return { maxTimerLagMs: worstTimer, p99TimerLagMs, worstTimerAtMs: worstTimerAt, maxFrameGapMs: worstFrame, worstFrameAtMs: worstFrameAt, timers, longTasks };
    },
  };
}

// ---------------------------------------------------------------- chart

const chart = $('chart');
const ctx2d = chart.getContext('2d');
let totalBatches = 1;

function drawChart() {
  const { width: W, height: H } = chart;
  const pad = { l: 44, r: 44, t: 16, b: 28 };
  const w = W - pad.l - pad.r;
  const h = H - pad.t - pad.b;
  ctx2d.clearRect(0, 0, W, H);
  ctx2d.font = '11px system-ui';
  const maxLoss = Math.max(2.5, ...demo.batches.slice(0, 5).map((b) => b.loss));
  const x = (i) => pad.l + (w * i) / Math.max(1, totalBatches - 1);
  const yLoss = (v) => pad.t + h * (1 - Math.min(v, maxLoss) / maxLoss);
  const yAcc = (v) => pad.t + h * (1 - v);

  // Axes and grid.
  ctx2d.strokeStyle = '#e3e5ea';
  ctx2d.fillStyle = '#667';
  for (let k = 0; k <= 5; k++) {
    const yy = pad.t + (h * k) / 5;
    ctx2d.beginPath();
    ctx2d.moveTo(pad.l, yy);
    ctx2d.lineTo(pad.l + w, yy);
    ctx2d.stroke();
    ctx2d.textAlign = 'right';
    ctx2d.fillText((maxLoss * (1 - k / 5)).toFixed(1), pad.l - 6, yy + 4);
    ctx2d.textAlign = 'left';
    ctx2d.fillText(`${100 - k * 20}%`, pad.l + w + 6, yy + 4);
  }
  ctx2d.textAlign = 'center';
  ctx2d.fillText('batches →', pad.l + w / 2, H - 6);
  ctx2d.save();
  ctx2d.translate(12, pad.t + h / 2);
  ctx2d.rotate(-Math.PI / 2);
  ctx2d.fillText('loss', 0, 0);
  ctx2d.restore();

  // Loss per batch (light) and its moving average (dark).
  const line = (points, color, widthPx) => {
    ctx2d.strokeStyle = color;
    ctx2d.lineWidth = widthPx;
    ctx2d.beginPath();
    points.forEach(([px, py], i) => (i ? ctx2d.lineTo(px, py) : ctx2d.moveTo(px, py)));
    ctx2d.stroke();
    ctx2d.lineWidth = 1;
  };
  line(demo.batches.map((b, i) => [x(i), yLoss(b.loss)]), '#b9cdf0', 1);
  let ema = null;
  line(demo.batches.map((b, i) => [x(i), yLoss((ema = ema === null ? b.loss : 0.9 * ema + 0.1 * b.loss))]), '#3b7ddd', 2);

  // Accuracy per epoch, at the batch where the epoch ended.
  for (const [key, color] of [['trainAccuracy', '#2e9e5b'], ['testAccuracy', '#e0793a']]) {
    const pts = demo.epochs.map((e) => [x(e.atBatch - 1), yAcc(e[key])]);
    line(pts, color, 2);
    ctx2d.fillStyle = color;
    for (const [px, py] of pts) ctx2d.fillRect(px - 2.5, py - 2.5, 5, 5);
  }

  // Legend.
  const legend = [['loss (EMA)', '#3b7ddd'], ['train accuracy', '#2e9e5b'], ['test accuracy', '#e0793a']];
  ctx2d.textAlign = 'left';
  legend.forEach(([label, color], i) => {
    ctx2d.fillStyle = color;
    // Mid-height on the right: below the accuracy lines, above the late loss curve.
    ctx2d.fillRect(pad.l + w - 150, pad.t + h * 0.45 + i * 16, 12, 3);
    ctx2d.fillStyle = '#333';
    ctx2d.fillText(label, pad.l + w - 134, pad.t + h * 0.45 + i * 16 + 4);
  });
}
drawChart();

// ---------------------------------------------------------------- training

let model = null;
let remote = null;
let controller = null;
let pendingDraw = false;

function onProgress(p) {
  if (Number.isNaN(p.loss)) {
    demo.epochs.push({ epoch: p.epoch, atBatch: demo.batches.length, ...p.metrics });
    const m = p.metrics;
    $('status').textContent =
      `epoch ${p.epoch + 1}: train ${(100 * m.trainAccuracy).toFixed(1)}%, test ${(100 * m.testAccuracy).toFixed(1)}% · ` +
      `${Math.round(p.examplesPerSecond)} examples/s`;
  } else {
    demo.batches.push({ epoch: p.epoch, batch: p.batch, loss: p.loss });
  }
  // Progress can arrive faster than frames; draw once per frame.
  if (!pendingDraw) {
    pendingDraw = true;
    requestAnimationFrame(() => {
      pendingDraw = false;
      drawChart();
    });
  }
}

async function train() {
  const epochs = Number($('epochs').value) || 12;
  totalBatches = epochs * Math.ceil(1500 / 32);
  demo.batches = [];
  demo.epochs = [];
  demo.phase = 'training';
  demo.framesWhileTraining = 0;
  $('start').disabled = true;
  $('stop').disabled = false;
  $('status').textContent = 'training in a worker…';
  controller = new AbortController();
  const lag = monitorLag();
  try {
    let stateDict;
    try {
      stateDict = await trainInWorker(
        { module: new URL('./train-digits.js', import.meta.url), export: 'train', args: { epochs } },
        { onProgress, signal: controller.signal },
      );
    } finally {
      demo.lag = lag.stop();
    }
    $('status').textContent += ` · main thread: worst timer lag ${demo.lag.maxTimerLagMs.toFixed(0)} ms`;
    model = makeModel();
    model.loadStateDict(stateDict);
    model.eval();
    await remote?.terminate();
    remote = await offload(model, { name: 'digits-predictor' });
    demo.parity = await checkParity();
    $('parity').textContent = demo.parity.identical
      ? `worker vs main thread on ${demo.parity.n} digits: bit-identical ✓`
      : `worker vs main thread: ${demo.parity.mismatches} values differ ✗`;
    demo.phase = 'trained';
    $('prediction').textContent = 'Draw a digit in the black square.';
  } catch (e) {
    demo.phase = e?.name === 'AbortError' ? 'stopped' : 'error';
    demo.error = demo.phase === 'error' ? String(e?.stack ?? e) : null;
    $('status').textContent = demo.phase === 'stopped' ? 'stopped.' : `error: ${e?.message ?? e}`;
  } finally {
    $('start').disabled = false;
    $('stop').disabled = true;
    drawChart();
  }
}

/** The worker's predictions against the main thread's, bit for bit, on real digits. */
async function checkParity() {
  const digits = new datasets.Digits();
  const x = digits.images.narrow(0, 0, 64);
  const ref = noGrad(() => model.forward(x)).data();
  const got = (await remote.predict(x)).data();
  const a = new Uint32Array(ref.buffer);
  const b = new Uint32Array(got.buffer);
  let mismatches = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatches++;
  return { n: 64, identical: mismatches === 0 && a.length === b.length, mismatches };
}

$('start').addEventListener('click', () => void train());
$('stop').addEventListener('click', () => controller?.abort());

// ---------------------------------------------------------------- drawing

const padCanvas = $('pad');
const pen = padCanvas.getContext('2d', { willReadFrequently: true });
const thumb = $('thumb').getContext('2d');
let drawing = false;
let last = null;

function clearPad() {
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, padCanvas.width, padCanvas.height);
  thumb.clearRect(0, 0, 64, 64);
  $('probs').replaceChildren();
  demo.prediction = null;
  if (model) $('prediction').textContent = 'Draw a digit in the black square.';
}
clearPad();

function point(e) {
  const r = padCanvas.getBoundingClientRect();
  return [((e.clientX - r.left) * padCanvas.width) / r.width, ((e.clientY - r.top) * padCanvas.height) / r.height];
}
padCanvas.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = point(e);
  padCanvas.setPointerCapture(e.pointerId);
});
padCanvas.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = point(e);
  pen.strokeStyle = '#fff';
  pen.lineWidth = 20;
  pen.lineCap = 'round';
  pen.beginPath();
  pen.moveTo(...last);
  pen.lineTo(...p);
  pen.stroke();
  last = p;
});
const finish = () => {
  if (!drawing) return;
  drawing = false;
  void predict();
};
padCanvas.addEventListener('pointerup', finish);
padCanvas.addEventListener('pointercancel', finish);
$('clear').addEventListener('click', clearPad);

/**
 * The drawing as the UCI data were made: the ink's bounding box scaled into a 32×32
 * bitmap, then the number of set pixels in each 4×4 block (0..16), here ÷ 16.
 */
function toDigitPixels() {
  const { width: W, height: H } = padCanvas;
  const img = pen.getImageData(0, 0, W, H).data;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (img[4 * (y * W + x)] > 40) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 32 / Math.max(bw, bh);
  const small = new OffscreenCanvas(32, 32).getContext('2d', { willReadFrequently: true });
  small.fillStyle = '#000';
  small.fillRect(0, 0, 32, 32);
  small.drawImage(padCanvas, x0, y0, bw, bh, (32 - bw * scale) / 2, (32 - bh * scale) / 2, bw * scale, bh * scale);
  const bits = small.getImageData(0, 0, 32, 32).data;
  const pixels = new Float32Array(64);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (bits[4 * (y * 32 + x)] > 100) pixels[(y >> 2) * 8 + (x >> 2)] += 1 / 16;
  return pixels;
}

async function predict() {
  if (!remote) return;
  const pixels = toDigitPixels();
  if (!pixels) return;
  for (let i = 0; i < 64; i++) {
    const v = Math.round(255 * pixels[i]);
    thumb.fillStyle = `rgb(${v},${v},${v})`;
    thumb.fillRect((i % 8) * 8, Math.floor(i / 8) * 8, 8, 8);
  }
  const logits = await remote.predict(tensor(pixels, { shape: [1, 1, 8, 8] }));
  const probs = Array.from(tidy(() => logits.softmax(1)).data());
  logits.dispose();
  const best = probs.indexOf(Math.max(...probs));
  demo.prediction = { digit: best, probabilities: probs };
  $('prediction').innerHTML = `prediction: <b>${best}</b> (${(100 * probs[best]).toFixed(1)}%)`;
  $('probs').replaceChildren(
    ...probs.flatMap((p, d) => {
      const label = document.createElement('span');
      label.textContent = String(d);
      const bar = document.createElement('div');
      bar.className = d === best ? 'bar top' : 'bar';
      bar.style.width = `${Math.max(1, 100 * p)}%`;
      const pct = document.createElement('span');
      pct.textContent = `${(100 * p).toFixed(1)}%`;
      return [label, bar, pct];
    }),
  );
}

// Lets the headless check (and a curious user) start training from the URL: ?autostart=6
const auto = new URLSearchParams(location.search).get('autostart');
if (auto) {
  $('epochs').value = auto;
  void train();
}
