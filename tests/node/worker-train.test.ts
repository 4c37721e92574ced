// trainInWorker in Node worker threads: progress through a Comlink proxy, a responsive
// main thread, the trained state dict back, and cancellation with an AbortSignal, also
// of a script stuck in a synchronous loop.
import { describe, expect, it } from 'vitest';
import { nn, datasets, noGrad } from '../../dist/index.js';
import { trainInWorker, type TrainProgress } from '../../dist/worker.js';

const script = new URL('../worker/fixtures/train-script.mjs', import.meta.url);

describe('trainInWorker', () => {
  it('trains in a worker, reports progress, keeps the main thread free, returns the state dict', async () => {
    const events: TrainProgress[] = [];
    // A timer on the main thread: with training elsewhere, it keeps firing on time.
    let ticks = 0;
    let worstGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const t0 = performance.now();
    const sd = await trainInWorker({ module: script, export: 'train', args: { epochs: 3, seed: 1 } }, { onProgress: (p) => events.push(p) });
    const elapsed = performance.now() - t0;
    clearInterval(timer);

    const batches = events.filter((e) => !Number.isNaN(e.loss));
    expect(batches.length).toBe(3 * Math.ceil(1797 / 64));
    expect(batches[0]).toMatchObject({ epoch: 0, batch: 0, examples: 64 });
    expect(batches[batches.length - 1].examplesSeen).toBe(3 * 1797);
    expect(batches.every((e) => e.examplesPerSecond > 0 && e.elapsedMs >= 0)).toBe(true);
    const accuracies = events.filter((e) => e.metrics?.accuracy !== undefined).map((e) => e.metrics?.accuracy ?? 0);
    expect(accuracies.length).toBe(3);
    // The main thread ran its timer throughout (≈ every 5 ms; generous bound for CI noise).
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
    expect(worstGap).toBeLessThan(250);

    // The state dict rebuilds the trained model here, and it has learned the digits.
    expect(Object.keys(sd).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
    const model = new nn.Sequential(new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, 10));
    model.loadStateDict(sd);
    const digits = new datasets.Digits();
    const acc = noGrad(() => model.forward(digits.data.div(16)).argmax(1).eq(digits.targets).float().mean().item());
    expect(acc).toBeGreaterThan(0.9);
    expect(acc).toBeCloseTo(accuracies[2], 5);
  });

  it('is deterministic: the same seed gives bit-identical weights in two workers', async () => {
    const a = await trainInWorker({ module: script, export: 'train', args: { epochs: 1, seed: 9 } });
    const b = await trainInWorker({ module: script, export: 'train', args: { epochs: 1, seed: 9 } });
    for (const k of Object.keys(a)) expect(Array.from(b[k].data())).toEqual(Array.from(a[k].data()));
  });

  it('an AbortSignal cancels a script stuck in a synchronous loop (shared-memory flag)', async () => {
    const controller = new AbortController();
    let reports = 0;
    const run = trainInWorker(
      { module: script, export: 'endless' },
      {
        signal: controller.signal,
        onProgress: () => {
          if (++reports === 3) controller.abort();
        },
      },
    );
    const t0 = performance.now();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(reports).toBeGreaterThanOrEqual(3);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('aborting terminates a script that never looks at the signal, after the grace period', async () => {
    const controller = new AbortController();
    const run = trainInWorker({ module: script, export: 'stubborn' }, { signal: controller.signal, graceMs: 100 });
    setTimeout(() => controller.abort(new Error('user pressed stop')), 200);
    await expect(run).rejects.toThrow('user pressed stop');
  });

  it('rejects at once for a signal that is already aborted, and reports script errors', async () => {
    await expect(trainInWorker({ module: script, export: 'train' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(trainInWorker({ module: script, export: 'nope' })).rejects.toThrow(/no function export "nope"/);
  });
});
