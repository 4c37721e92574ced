// ferrograd/worker in Node worker threads, against the built package (dist/), since a
// Node worker runs built JavaScript: offload() gives bit-identical results, tensors move
// without copies, calls queue, a crash rejects every pending call and restart() recovers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { nn, randn, tensor, manualSeed, noGrad, withSource, FerrogradError, type Tensor } from '../../dist/index.js';
import { offload, wrap, tensorTransferHandler, WorkerCrashedError, type OffloadedModel } from '../../dist/worker.js';
import { TinyModel, CrashOn13, Slow } from '../worker/fixtures/custom-model.mjs';

const fixture = (name: string): URL => new URL(`../worker/fixtures/${name}`, import.meta.url);
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.data()).buffer));

const handles: OffloadedModel[] = [];
async function start(model: nn.Module, options?: Parameters<typeof offload>[1]): Promise<OffloadedModel> {
  const h = await offload(model, options);
  handles.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.terminate()));
});

describe('offload', () => {
  it('needs the built package', () => {
    expect(existsSync(new URL('../../dist/worker-host.js', import.meta.url)), 'run `npm run build` first').toBe(true);
  });

  it('forward(x) in a worker is bit-identical to model.forward(x) on the main thread (MLP)', async () => {
    manualSeed(7);
    const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10), new nn.LogSoftmax(1));
    const x = randn([32, 64]);
    const remote = await start(model);
    const y = await remote.forward(x);
    const ref = model.forward(x);
    expect(y.shape).toEqual([32, 10]);
    expect(bits(y)).toEqual(bits(ref));
  });

  it('forward(x) is bit-identical for a CNN with every conv-era layer', async () => {
    manualSeed(3);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(4, 8, 3, { padding: 'same' }),
      new nn.AvgPool2d(2, { stride: 1 }),
      new nn.AdaptiveAvgPool2d(2),
      new nn.Flatten(),
      new nn.Dropout(0.3),
      new nn.Linear(32, 10),
    ).eval();
    // Running statistics that are not the defaults, so that they must travel too.
    noGrad(() => {
      model.train();
      model.forward(randn([8, 1, 8, 8]));
      model.eval();
    });
    const x = randn([5, 1, 8, 8]);
    const remote = await start(model);
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));
    expect(bits(await remote.predict(x))).toEqual(bits(model.forward(x)));
  });

  it('predict() runs in eval mode; forward() keeps the mode the model was offloaded in', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(16, 16), new nn.Dropout(0.5));
    const x = randn([4, 16]);
    const remote = await start(model); // training mode: dropout active in forward()
    const evalRef = noGrad(() => model.eval().forward(x));
    model.train();
    expect(bits(await remote.predict(x))).toEqual(bits(evalRef));
    const dropped = await remote.forward(x);
    expect(Array.from(dropped.data()).filter((v) => v === 0).length).toBeGreaterThan(0);
  });

  it('ships user-defined modules by source and keeps their weights', async () => {
    manualSeed(5);
    const model = new TinyModel(100, 200, 10);
    const x = randn([3, 100]);
    const remote = await start(model, { source: { module: fixture('custom-model.mjs').href, export: 'TinyModel', args: [100, 200, 10] } });
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));

    // Nested inside a Sequential, marked with withSource().
    const seq = new nn.Sequential(withSource(new TinyModel(8, 4, 3), { module: fixture('custom-model.mjs').pathname, export: 'TinyModel', args: [8, 4, 3] }), new nn.Tanh());
    const x2 = randn([2, 8]);
    const remote2 = await start(seq);
    expect(bits(await remote2.forward(x2))).toEqual(bits(seq.forward(x2)));
  });

  it('refuses a user-defined module without a source, naming the fix', async () => {
    await expect(offload(new TinyModel(4, 4, 2))).rejects.toThrow(/TinyModel, which is not a built-in layer; pass \{ source:/);
  });

  it('updateWeights() changes the worker model; restart() keeps the update', async () => {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(6, 3));
    const remote = await start(model);
    const x = randn([2, 6]);
    noGrad(() => {
      for (const p of model.parameters()) p.mul_(-2);
    });
    await remote.updateWeights(model.stateDict());
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));
    await remote.restart();
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));
  });

  it('queues concurrent calls and answers each with its own result, in order', async () => {
    manualSeed(4);
    const model = new Slow(20);
    const remote = await start(model, { source: { module: fixture('custom-model.mjs').href, export: 'Slow', args: [20] } });
    const xs = Array.from({ length: 6 }, () => randn([2, 4]));
    const order: number[] = [];
    const calls = xs.map((x, i) => remote.forward(x).then((y) => (order.push(i), y)));
    expect(remote.pending).toBe(6);
    const ys = await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    ys.forEach((y, i) => expect(bits(y)).toEqual(bits(model.forward(xs[i]))));
    expect(remote.pending).toBe(0);
  });

  it('a crashed worker rejects every pending call with a clear error, and restart() recovers', async () => {
    manualSeed(6);
    const model = new CrashOn13();
    const remote = await start(model, { source: { module: fixture('custom-model.mjs').href, export: 'CrashOn13' } });
    const fine = remote.forward(randn([2, 4]));
    const fatal = remote.forward(randn([13, 4]));
    const queued = [remote.forward(randn([3, 4])), remote.predict(randn([1, 4]))];
    await expect(fine).resolves.toBeDefined();
    await expect(fatal).rejects.toThrow(WorkerCrashedError);
    await expect(fatal).rejects.toThrow(/crashed: the worker thread exited with code 70.*restart\(\)/);
    for (const q of queued) await expect(q).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(remote.forward(randn([2, 4]))).rejects.toThrow(/crashed/);

    await remote.restart();
    const x = randn([2, 4]);
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));
  });

  it('a tensor of the wrong shape gets a FerrogradError back, and the worker carries on without leaking', async () => {
    manualSeed(9);
    const model = new nn.Sequential(new nn.Linear(64, 16), new nn.ReLU(), new nn.Linear(16, 10));
    const remote = await start(model);
    const good = randn([3, 64]);
    (await remote.forward(good)).dispose();
    const before = await remote.memory();
    const wrong = remote.forward(randn([3, 5]));
    await expect(wrong).rejects.toBeInstanceOf(FerrogradError);
    await expect(wrong).rejects.toMatchObject({ kind: 'shape' });
    await expect(wrong).rejects.toThrow(/64|5/);
    await expect(remote.predict(randn([2, 3, 64, 1]))).rejects.toBeInstanceOf(FerrogradError);
    // Still alive, still exact, and the rejected inputs were freed in the worker.
    expect(bits(await remote.forward(good))).toEqual(bits(model.forward(good)));
    const after = await remote.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });

  it('terminate() during a call rejects the pending calls; offload() and restart() work afterwards', async () => {
    manualSeed(10);
    const model = new Slow(200);
    const source = { module: fixture('custom-model.mjs').href, export: 'Slow', args: [200] };
    const remote = await start(model, { source });
    const running = remote.forward(randn([2, 4]));
    const queued = remote.predict(randn([1, 4]));
    await new Promise((r) => setTimeout(r, 50)); // the first call is now busy in the worker
    await remote.terminate();
    await expect(running).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(running).rejects.toThrow(/terminated/);
    await expect(queued).rejects.toThrow(/terminated/);
    const fresh = await start(new Slow(1), { source: { ...source, args: [1] } });
    const x = randn([2, 4]);
    expect((await fresh.forward(x)).shape).toEqual([2, 2]);
    await remote.restart();
    expect(bits(await remote.forward(x))).toEqual(bits(model.forward(x)));
  });

  it('terminate() rejects calls made afterwards', async () => {
    const remote = await offload(new nn.Sequential(new nn.ReLU()));
    await remote.terminate();
    await expect(remote.forward(randn([1, 2]))).rejects.toThrow(/terminated/);
  });

  it('the caller may free its input right after calling: a queued call holds its own handle', async () => {
    manualSeed(8);
    const model = new Slow(30);
    const remote = await start(model, { source: { module: fixture('custom-model.mjs').href, export: 'Slow', args: [30] } });
    const busy = remote.forward(randn([1, 4]));
    const x = randn([2, 4]);
    const expected = bits(model.forward(x));
    const queued = remote.forward(x);
    x.dispose(); // as a DataLoader iteration or tidy() ending would
    await busy;
    expect(bits(await queued)).toEqual(expected);
  });

  it('leaves no tensors behind in the worker, call after call', async () => {
    const remote = await start(new nn.Sequential(new nn.Linear(16, 16), new nn.ReLU(), new nn.Linear(16, 4)));
    (await remote.forward(randn([8, 16]))).dispose();
    const before = await remote.memory();
    for (let i = 0; i < 50; i++) {
      (await remote.forward(randn([8, 16]))).dispose();
      (await remote.predict(randn([8, 16]))).dispose();
    }
    await remote.updateWeights(new nn.Sequential(new nn.Linear(16, 16), new nn.ReLU(), new nn.Linear(16, 4)).stateDict());
    (await remote.stateDict());
    const after = await remote.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });
});

describe('malformed messages to a worker', () => {
  /** The worker host, driven by raw postMessage; resolves replies by id. */
  async function rawHost(): Promise<{ worker: Worker; ask(message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<Record<string, unknown>> }> {
    const worker = new Worker(new URL('../../dist/worker-host.js', import.meta.url));
    const replies = new Map<unknown, (data: Record<string, unknown>) => void>();
    await new Promise<void>((resolve) => {
      worker.on('message', (data: Record<string, unknown>) => {
        if (data['ferrograd.worker.ready'] === true) resolve();
        replies.get(data.id)?.(data);
      });
    });
    let n = 0;
    return {
      worker,
      ask(message, transfer = []) {
        const id = `raw-${n++}`;
        return new Promise((resolve) => {
          replies.set(id, resolve);
          worker.postMessage({ ...message, id }, transfer);
        });
      },
    };
  }
  const thrown = (reply: Record<string, unknown>): { message?: string; name?: string; kind?: string } => {
    expect(reply).toMatchObject({ type: 'HANDLER', name: 'throw', value: { isError: true } });
    return (reply.value as { value: { message?: string; name?: string; kind?: string } }).value;
  };

  it('answers each with a clear FerrogradError instead of hanging or dying, and keeps serving', async () => {
    const { worker, ask } = await rawHost();
    try {
      // Garbage without an id: nobody waits for it, and the worker must survive it.
      worker.postMessage('garbage');
      worker.postMessage(null);
      worker.postMessage({ path: 'forward' });
      expect(thrown(await ask({ type: 'EXPLODE' }))).toMatchObject({ name: 'FerrogradError', kind: 'value', message: expect.stringMatching(/malformed message: unknown message type "EXPLODE"/) });
      expect(thrown(await ask({ type: 'APPLY', path: 'forward' })).message).toMatch(/path must be an array/);
      expect(thrown(await ask({ type: 'APPLY', path: ['forward'], argumentList: [{ type: 'HANDLER', name: 'no.such.handler', value: 1 }] })).message).toMatch(/argument 0 is not a Comlink wire value/);
      // A tensor whose data does not match its shape: Comlink would throw outside its try.
      const data = new Float32Array(5);
      const bad = await ask({ type: 'APPLY', path: ['forward'], argumentList: [{ type: 'HANDLER', name: 'ferrograd.tensor', value: { shape: [2, 3], dtype: 'float32', data } }] }, [data.buffer]);
      expect(thrown(bad)).toMatchObject({ name: 'FerrogradError', message: expect.stringMatching(/shape \[2, 3\] carries 5 values/) });
      const wrongType = await ask({ type: 'APPLY', path: ['forward'], argumentList: [{ type: 'HANDLER', name: 'ferrograd.tensor', value: { shape: [2], dtype: 'int32', data: new Float32Array(2) } }] });
      expect(thrown(wrongType).message).toMatch(/int32 tensor message carries \[object Float32Array\]/);
      // A plain object where a tensor belongs, and a method that does not exist.
      expect(thrown(await ask({ type: 'APPLY', path: ['forward'], argumentList: [{ type: 'RAW', value: { shape: [1] } }] })).message).toMatch(/take a Tensor, got \[object Object\]/);
      expect(thrown(await ask({ type: 'APPLY', path: ['noSuchMethod'], argumentList: [] })).name).toBe('TypeError');
      // Still alive and answering.
      expect(await ask({ type: 'APPLY', path: ['ping'], argumentList: [] })).toMatchObject({ type: 'RAW', value: 'pong' });
    } finally {
      await worker.terminate();
    }
  });
});

describe('expose / wrap with a Node worker_threads Worker', () => {
  interface EchoApi {
    double(x: Tensor): Tensor;
    sumAll(xs: Tensor[]): Tensor;
    scaleDict(sd: Record<string, Tensor>, k: number): Record<string, Tensor>;
    describe(x: Tensor): { shape: number[]; dtype: string; values: number[] };
    liveTensors(): number;
  }

  it('carries tensors, arrays of tensors and state dicts both ways', async () => {
    const worker = new Worker(fixture('echo-worker.mjs'));
    try {
      const remote = wrap<EchoApi>(worker);
      const x = tensor([[1, 2], [3, 4.5]]);
      const y = await remote.double(x);
      expect(y.toArray()).toEqual([[2, 4], [6, 9]]);
      expect((await remote.sumAll([x, x, x])).toArray()).toEqual([[3, 6], [9, 13.5]]);
      const sd = await remote.scaleDict({ w: tensor([1, 2, 3], { dtype: 'float32' }), i: tensor([4, 5]) }, 2);
      expect(Object.keys(sd)).toEqual(['w', 'i']);
      expect(sd.w.toArray()).toEqual([2, 4, 6]);
      expect(sd.i.dtype).toBe('int32');
      expect(await remote.describe(tensor([7, 8], { dtype: 'int32' }))).toEqual({ shape: [2], dtype: 'int32', values: [7, 8] });
    } finally {
      await worker.terminate();
    }
  });

  it('transfers the data buffer instead of copying it: the sent buffer is detached', async () => {
    const worker = new Worker(fixture('echo-worker.mjs'));
    const spy = vi.spyOn(tensorTransferHandler, 'serialize');
    try {
      const remote = wrap<EchoApi>(worker);
      const x = randn([256, 256]);
      const sent = x.data();
      expect(sent.byteLength).toBe(256 * 256 * 4);
      await remote.double(x);
      // The wire object the handler produced for x: its buffer was moved to the worker.
      const first = spy.mock.results[0];
      expect(first.type).toBe('return');
      const [wire, transferList] = first.value as ReturnType<typeof tensorTransferHandler.serialize>;
      expect(transferList).toEqual([wire.data.buffer]);
      expect(wire.data.buffer.byteLength).toBe(0);
      expect(wire.data.length).toBe(0);
      // x itself is untouched: its values live in wasm memory, not in that buffer.
      expect(Array.from(x.data())).toEqual(Array.from(sent));

      // The same with a plain MessageChannel: after postMessage the source buffer is detached.
      const [w2, list] = tensorTransferHandler.serialize(tensor([1, 2, 3], { dtype: 'float32' }));
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(w2, list);
      expect(w2.data.buffer.byteLength).toBe(0);
      port1.close();
      port2.close();
    } finally {
      spy.mockRestore();
      await worker.terminate();
    }
  });
});
