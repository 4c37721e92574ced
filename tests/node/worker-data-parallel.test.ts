// DataParallel over Node worker threads: after N steps the weights equal single-process
// training on the full batches (within 1e-5), bit for bit the same whichever replica
// finishes first, with gradients through SharedArrayBuffer or transferred arrays.
import { afterEach, describe, expect, it } from 'vitest';
import { data, nn, optim, keep, manualSeed, tensor, type Tensor } from '../../dist/index.js';
import * as datasets from '../../dist/datasets.js';
import { DataParallel, shardSizes } from '../../dist/worker.js';

const made: DataParallel[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => d.terminate()));
});

function mlp(): nn.Module {
  manualSeed(11);
  return new nn.Sequential(new nn.Linear(64, 32), new nn.Tanh(), new nn.Linear(32, 10));
}

/** The first `steps` batches of the digits, 50 rows each (odd shards: 25 / 25, 17 / 17 / 16). */
function batches(steps: number, size = 50): [Tensor, Tensor][] {
  const d = new datasets.Digits();
  const x = d.data.div(16);
  return Array.from({ length: steps }, (_, i) => [x.narrow(0, i * size, size), d.targets.narrow(0, i * size, size)]);
}

const OPT = { name: 'SGD', options: { lr: 0.2, momentum: 0.9, weightDecay: 1e-4 } };

function singleProcess(steps: number): Record<string, Tensor> {
  const model = mlp();
  const opt = new optim.SGD(model.parameters(), OPT.options);
  const lossFn = new nn.CrossEntropyLoss();
  for (const [x, y] of batches(steps)) {
    const loss = lossFn.forward(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  return model.stateDict();
}

async function parallel(steps: number, workers: number, extra: Partial<Parameters<typeof DataParallel.create>[1]> = {}): Promise<Record<string, Tensor>> {
  const dp = await DataParallel.create(mlp(), { workers, loss: 'CrossEntropyLoss', optimizer: OPT, ...extra });
  made.push(dp);
  for (const [x, y] of batches(steps)) await dp.step(x, y);
  return dp.stateDict();
}

function maxDiff(a: Record<string, Tensor>, b: Record<string, Tensor>): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const k of Object.keys(a)) {
    const x = a[k].data();
    const y = b[k].data();
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

describe('DataParallel', () => {
  it('splits batches into contiguous shards that differ by at most one row', () => {
    expect(shardSizes(50, 2)).toEqual([25, 25]);
    expect(shardSizes(50, 3)).toEqual([17, 17, 16]);
    expect(shardSizes(2, 4)).toEqual([1, 1, 0, 0]);
  });

  it('2 workers give the weights of single-process full-batch training after N steps (within 1e-5)', async () => {
    const ref = singleProcess(8);
    const dp = await parallel(8, 2);
    const diff = maxDiff(ref, dp);
    expect(diff).toBeLessThan(1e-5);
    // And training did move the weights: the comparison is not trivially passing.
    expect(maxDiff(ref, mlp().stateDict())).toBeGreaterThan(1e-2);
  });

  it('gives the same result with transferred arrays instead of shared memory, and with 3 uneven shards', async () => {
    const ref = singleProcess(5);
    expect(maxDiff(ref, await parallel(5, 2, { sharedMemory: false }))).toBeLessThan(1e-5);
    expect(maxDiff(ref, await parallel(5, 3))).toBeLessThan(1e-5);
  });

  it('is bit-identical whichever worker finishes first', async () => {
    // Replica 0 late at every step, then replica 1 late at every step, then alternating.
    const slow0 = await parallel(4, 2, { replicaDelayMs: (rank) => (rank === 0 ? 40 : 0) });
    const slow1 = await parallel(4, 2, { replicaDelayMs: (rank) => (rank === 1 ? 40 : 0) });
    const mixed = await parallel(4, 2, { replicaDelayMs: (rank, step) => ((rank + step) % 2 === 0 ? 40 : 0), sharedMemory: false });
    expect(maxDiff(slow0, slow1)).toBe(0);
    expect(maxDiff(slow0, mixed)).toBe(0);
  });

  it('runs steps called without awaiting, and fit, to the same bits as steps awaited one by one', async () => {
    const awaited = await parallel(6, 2);
    const create = async (sharedMemory: boolean): Promise<DataParallel> => {
      const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, sharedMemory });
      made.push(dp);
      return dp;
    };
    for (const sharedMemory of [true, false]) {
      // All six posted at once: the shards are copied out at the call, the steps run in call order.
      const queued = await create(sharedMemory);
      const losses = await Promise.all(batches(6).map(([x, y]) => queued.step(x, y)));
      expect(maxDiff(awaited, await queued.stateDict())).toBe(0);

      const fitted = await create(sharedMemory);
      const seen: number[] = [];
      const fitLosses = await fitted.fit(batches(6), { onStep: (_, i) => seen.push(i) });
      expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
      expect(fitLosses).toEqual(losses);
      expect(maxDiff(awaited, await fitted.stateDict())).toBe(0);
    }
  });

  it('takes batches of changing sizes posted at once to the same bits as transferred arrays', async () => {
    // With shared memory the shards go through a ring of slots sized by the largest batch
    // so far: the 10-row batch sizes it, the 50-row one outgrows it while the first is in
    // flight, and the fifth finds its slot still taken and travels as a transferred array.
    const d = new datasets.Digits();
    const x = d.data.div(16);
    let at = 0;
    const sized = [10, 50, 30, 50, 7].map((n): [Tensor, Tensor] => {
      const b: [Tensor, Tensor] = [x.narrow(0, at, n), d.targets.narrow(0, at, n)];
      at += n;
      return b;
    });
    const run = async (sharedMemory: boolean): Promise<{ losses: number[]; weights: Record<string, Tensor> }> => {
      const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, sharedMemory });
      made.push(dp);
      const losses = await Promise.all(sized.map(([xb, yb]) => dp.step(xb, yb)));
      return { losses, weights: await dp.stateDict() };
    };
    const shared = await run(true);
    const moved = await run(false);
    expect(shared.losses).toEqual(moved.losses);
    expect(maxDiff(shared.weights, moved.weights)).toBe(0);
  });

  it('rejects a step on a freed tensor without posting it, and runs the next ones', async () => {
    for (const sharedMemory of [true, false]) {
      const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, sharedMemory });
      made.push(dp);
      const [[x, y], [x2, y2]] = batches(2);
      const freed = x.clone();
      freed.dispose();
      await expect(dp.step(freed, y)).rejects.toThrow(/freed by dispose\(\)/);
      // The replicas number steps without gaps: a step lost here would leave them waiting.
      expect(await dp.step(x, y)).toBeGreaterThan(0);
      expect(await dp.step(x2, y2)).toBeGreaterThan(0);
    }
  });

  it('fit takes a DataLoader, whose batches it may outlive', async () => {
    const [x, y] = batches(1, 300)[0];
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 });
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    expect(await dp.fit(loader)).toHaveLength(6);
    expect(maxDiff(await parallel(6, 2), await dp.stateDict())).toBe(0);
  });

  it('fit over a shuffled DataLoader of a Subset keeps the data in the workers, with the bits of fit over its batches', async () => {
    const d = new datasets.Digits();
    const ds = new data.TensorDataset(d.data.div(16), d.targets);
    const loader = (): data.DataLoader => new data.DataLoader(new data.Subset(ds, Array.from({ length: 300 }, (_, i) => 2 * i)), { batchSize: 48, shuffle: true, generator: new data.Generator(5) });
    const create = async (): Promise<DataParallel> => {
      const dp = await DataParallel.create(mlp(), { workers: 3, loss: 'CrossEntropyLoss', optimizer: OPT });
      made.push(dp);
      return dp;
    };
    // Two epochs of 7 batches (the last of 12 rows), shards of 16 / 16 / 16 and 4 / 4 / 4.
    const kept = await create();
    const epochs = loader();
    const viaLoader = [await kept.fit(epochs), await kept.fit(epochs)];
    const fed = await create();
    const copies = loader();
    const viaBatches: number[][] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const batchList: Tensor[][] = [];
      for (const [x, y] of copies) batchList.push([x.clone(), y.clone()].map((t) => keep(t)));
      viaBatches.push(await fed.fit(batchList));
    }
    expect(viaLoader.map((l) => l.length)).toEqual([7, 7]);
    expect(viaLoader).toEqual(viaBatches);
    expect(maxDiff(await kept.stateDict(), await fed.stateDict())).toBe(0);
  });

  it('fit over a DataLoader reads its TensorDataset once: in-place changes need a new TensorDataset', async () => {
    const [x, y] = batches(1, 200)[0];
    const xs = x.clone();
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    const ref = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(ref);
    const ds = new data.TensorDataset(xs, y);
    await dp.fit(new data.DataLoader(ds, { batchSize: 50 }));
    await ref.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }));
    xs.mul_(0);
    // The replicas still hold the rows as they were: the same bits as training on the originals.
    await dp.fit(new data.DataLoader(ds, { batchSize: 50 }));
    await ref.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }));
    expect(maxDiff(await dp.stateDict(), await ref.stateDict())).toBe(0);
    // A new TensorDataset over the zeroed rows is copied again, and trains differently.
    await dp.fit(new data.DataLoader(new data.TensorDataset(xs, y), { batchSize: 50 }));
    await ref.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }));
    expect(maxDiff(await dp.stateDict(), await ref.stateDict())).toBeGreaterThan(1e-3);
  });

  it('fit over a DataLoader is bit-identical whichever worker finishes first', async () => {
    const [x, y] = batches(1, 200)[0];
    const run = async (delay: (rank: number, step: number) => number): Promise<Record<string, Tensor>> => {
      const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, replicaDelayMs: delay });
      made.push(dp);
      await dp.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }));
      return dp.stateDict();
    };
    const slow0 = await run((rank) => (rank === 0 ? 30 : 0));
    const slow1 = await run((rank) => (rank === 1 ? 30 : 0));
    expect(maxDiff(slow0, slow1)).toBe(0);
    expect(maxDiff(slow0, await parallel(4, 2))).toBe(0);
  });

  it('fit over a DataLoader stops at an abort after the steps permitted, and training goes on after it', async () => {
    const [x, y] = batches(1, 600)[0];
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 });
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    const controller = new AbortController();
    const run = dp.fit(loader, { signal: controller.signal, onStep: (_, i) => (i === 1 ? controller.abort(new Error('enough')) : undefined) });
    // Nothing else may be posted while it runs.
    await expect(dp.step(x.narrow(0, 0, 50), y.narrow(0, 0, 50))).rejects.toThrow(/fit is running over a DataLoader; await it first/);
    await expect(dp.fit(loader)).rejects.toThrow(/fit is running/);
    await expect(run).rejects.toThrow('enough');
    // Two steps reported and eight more permitted when the abort came: ten applied, as `parallel(10, 2)`.
    expect(maxDiff(await parallel(10, 2), await dp.stateDict())).toBe(0);
    // The step numbers go on from there: two more steps, then a whole epoch.
    const [[x10, y10], [x11, y11]] = batches(12).slice(10);
    await dp.step(x10, y10);
    await dp.step(x11, y11);
    expect(await dp.fit(loader)).toHaveLength(12);
    const ref = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(ref);
    await ref.fit(batches(12));
    await ref.fit(batches(12));
    expect(maxDiff(await ref.stateDict(), await dp.stateDict())).toBe(0);
  });

  it('fit over a DataLoader rejects with the cause of a failing step, and a terminated worker rejects it', async () => {
    const [x, y] = batches(1, 250)[0];
    const labels = tensor(Array.from(y.data(), (v, i) => (i === 120 ? 99 : v)), { dtype: 'int32' });
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    await expect(dp.fit(new data.DataLoader(new data.TensorDataset(x, labels), { batchSize: 50 }))).rejects.toThrow(/target 99 is out of bounds/);
    await expect(dp.step(x, y)).rejects.toThrow(/an earlier step failed/);

    const slow = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, replicaDelayMs: (rank) => (rank === 1 ? 5000 : 0) });
    const inFlight = slow.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }));
    const rejected = expect(inFlight).rejects.toThrow(/was terminated/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await slow.terminate();
    await rejected;
    // Terminated with no step in flight: fit says so instead of waiting for the dead workers.
    const idle = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    await idle.terminate();
    await expect(idle.fit(new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 50 }))).rejects.toThrow(/was terminated/);
  });

  it('fit stops at an aborted signal after the steps queued', async () => {
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    const controller = new AbortController();
    const run = dp.fit(batches(12), { signal: controller.signal, onStep: (_, i) => (i === 1 ? controller.abort(new Error('enough')) : undefined) });
    await expect(run).rejects.toThrow('enough');
    // Two steps reported, eight more were queued when the abort came: ten applied, as `parallel(10, 2)`.
    expect(maxDiff(await parallel(10, 2), await dp.stateDict())).toBe(0);

    // An abort once every batch is posted still rejects, after the steps queued.
    const late = new AbortController();
    const drained = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(drained);
    const all = drained.fit(batches(4), { signal: late.signal, onStep: (_, i) => (i === 0 ? late.abort(new Error('stop')) : undefined) });
    await expect(all).rejects.toThrow('stop');
    expect(maxDiff(await parallel(4, 2), await drained.stateDict())).toBe(0);
  });

  it('a failing step rejects, with the steps queued behind it, and later steps refuse clearly', async () => {
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    const [[x, y], [x2, y2]] = batches(2);
    // A label out of range in the second shard only: one replica fails, the other waits at the barrier.
    const labels = tensor(Array.from(y.data(), (v, i) => (i === 40 ? 99 : v)), { dtype: 'int32' });
    const failing = dp.step(x, labels);
    const queued = dp.step(x2, y2);
    await expect(failing).rejects.toThrow(/target 99 is out of bounds/);
    await expect(queued).rejects.toThrow(/another replica failed/);
    await expect(dp.step(x2, y2)).rejects.toThrow(/an earlier step failed/);
  });

  it('a step posted before a failing one still resolves with its loss, whichever replicas fail', async () => {
    for (const badRows of [[40], [3, 40]]) {
      // Replica 1 arrives late at step 0, so that step 1 is posted before step 0 is applied:
      // step 0 is then reported by a replica at step 1, which fails in one shard or in both.
      const model = mlp();
      const dp = await DataParallel.create(model, { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, replicaDelayMs: (rank, step) => (rank === 1 && step === 0 ? 200 : 0) });
      made.push(dp);
      const [[x, y], [x2, y2]] = batches(2);
      const expected = new nn.CrossEntropyLoss().forward(model.forward(x), y).item();
      const labels = tensor(Array.from(y2.data(), (v, i) => (badRows.includes(i) ? 99 : v)), { dtype: 'int32' });
      const first = dp.step(x, y);
      const failing = dp.step(x2, labels);
      expect(await first).toBeCloseTo(expected, 5);
      await expect(failing).rejects.toThrow(/target 99 is out of bounds/);
    }
  });

  it('fit rejects with the cause of a failing step', async () => {
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    const data = batches(5);
    const [x, y] = data[1];
    // Steps 2 and 3 are queued behind the failing one and fail as follow-ons.
    data[1] = [x, tensor(Array.from(y.data(), (v, i) => (i === 3 ? -1 : v)), { dtype: 'int32' })];
    await expect(dp.fit(data)).rejects.toThrow(/target -1 is out of bounds/);
    await expect(dp.step(x, y)).rejects.toThrow(/an earlier step failed/);
  });

  it('a step in flight rejects clearly when the workers are terminated', async () => {
    const dp = await DataParallel.create(mlp(), { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT, replicaDelayMs: (rank) => (rank === 1 ? 5000 : 0) });
    const [[x, y]] = batches(1);
    const inFlight = dp.step(x, y);
    await dp.terminate();
    await expect(inFlight).rejects.toThrow(/was terminated/);
    await expect(dp.step(x, y)).rejects.toThrow(/was terminated/);
  });

  it('reports the full batch loss and keeps every replica identical', async () => {
    const model = mlp();
    const dp = await DataParallel.create(model, { workers: 2, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    expect(dp.workers).toBe(2);
    expect(dp.sharedMemory).toBe(true);
    const [[x, y]] = batches(1);
    const expected = new nn.CrossEntropyLoss().forward(model.forward(x), y).item();
    expect(await dp.step(x, y)).toBeCloseTo(expected, 5);
  });

  it('refuses bad options with clear errors', async () => {
    await expect(DataParallel.create(mlp(), { workers: 9, loss: 'CrossEntropyLoss', optimizer: OPT })).rejects.toThrow(/workers must be an integer in 1..8/);
    await expect(DataParallel.create(mlp(), { workers: 1, loss: 'NoSuchLoss', optimizer: OPT })).rejects.toThrow(/unknown loss "NoSuchLoss"/);
    const dp = await DataParallel.create(mlp(), { workers: 1, loss: 'CrossEntropyLoss', optimizer: OPT });
    made.push(dp);
    await expect(dp.step(tensor([[1, 2]]), tensor([1, 2]))).rejects.toThrow(/same batch size/);
  });
});
