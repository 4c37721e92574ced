// Memory over time: a long training loop stays flat, and tensors dropped outside any
// scope are reclaimed by the garbage collector (vitest runs Node with --expose-gc).
import { describe, expect, it } from 'vitest';
import { randn, tidy, keep, noGrad, memory, zeros, manualSeed } from '../../ts/index.js';

declare const gc: (() => void) | undefined;

/** Collects garbage until `done()` holds (finalizers run on later event-loop turns), for up to 10 s. */
async function collectGarbage(done: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let i = 0; i < 10 || (!done() && Date.now() < deadline); i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('memory', () => {
  it('keeps bytes flat over 3 000 training steps with one tidy per step', () => {
    manualSeed(1);
    const x = randn([64, 32]);
    const trueW = randn([32, 1]);
    const y = x.matmul(trueW);
    const w = zeros([32, 1], { requiresGrad: true });
    const samples: number[] = [];
    const wasmSamples: number[] = [];
    let firstLoss = 0;
    let lastLoss = 0;
    for (let step = 0; step < 3000; step++) {
      const loss = tidy(() => {
        const l = x.matmul(w).sub(y).pow(2).mean();
        l.backward();
        noGrad(() => {
          const g = w.grad;
          if (g) w.sub_(g.mul(0.05));
        });
        w.grad = null;
        return l.item();
      });
      if (step === 0) firstLoss = loss;
      lastLoss = loss;
      if (step === 100 || step === 2999) {
        samples.push(memory().bytes);
        wasmSamples.push(memory().wasmBytes);
      }
    }
    expect(lastLoss).toBeLessThan(firstLoss * 1e-3);
    expect(samples[1]).toBeLessThanOrEqual(samples[0] * 1.1);
    expect(samples[1]).toBeGreaterThanOrEqual(samples[0] * 0.9);
    // The wasm memory never shrinks, so any leak would show as growth here.
    expect(wasmSamples[1]).toBe(wasmSamples[0]);
  });

  it('reclaims 200 dropped 400 KB tensors after garbage collection', { timeout: 60_000 }, async () => {
    expect(typeof gc).toBe('function');
    await collectGarbage();
    const base = memory();
    (() => {
      for (let i = 0; i < 200; i++) randn([100_000]);
    })();
    expect(memory().tensors).toBe(base.tensors + 200);
    expect(memory().bytes - base.bytes).toBe(200 * 400_000);
    await collectGarbage(() => memory().tensors === base.tensors);
    expect(memory().tensors).toBe(base.tensors);
    expect(memory().bytes).toBe(base.bytes);
  });

  it('reclaims dropped tensors that left the scopes: returned from the outermost tidy, or kept', { timeout: 60_000 }, async () => {
    // Tensors made inside a scope are handed to the garbage collector's backstop only when
    // they leave the scopes; one returned through a nested scope is still scope-owned.
    await collectGarbage(() => true);
    const base = memory();
    (() => {
      for (let i = 0; i < 50; i++) tidy(() => tidy(() => randn([100_000]).add(1)));
      for (let i = 0; i < 50; i++) tidy(() => void keep(randn([100_000]).mul(2)));
    })();
    expect(memory().tensors).toBe(base.tensors + 100);
    await collectGarbage(() => memory().tensors === base.tensors);
    expect(memory().tensors).toBe(base.tensors);
    expect(memory().bytes).toBe(base.bytes);
  });
});
