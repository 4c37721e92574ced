import { describe, expect, it } from 'vitest';
import { data, nn, optim, tensor, randn, randint, randperm, arange, manualSeed, memory, keep, tidy, FerrogradError, type Tensor } from '../../ts/index.js';
import { scopeDepth } from '../../ts/scope.js';

/** Row i is x = [i, 10 i] (float32) and y = i (int32). */
const rows = (n: number): data.TensorDataset<[Tensor, Tensor]> =>
  new data.TensorDataset(arange(n).float().reshape([n, 1]).mul(tensor([[1, 10]], { dtype: 'float32' })), arange(n));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/** The labels of one epoch, read inside the loop (each batch is freed when the next starts). */
function epochLabels(loader: data.DataLoader): number[] {
  const out: number[] = [];
  for (const [, y] of loader) out.push(...y.data());
  return out;
}

describe('TensorDataset', () => {
  it('returns row i of every tensor', () => {
    const ds = rows(5);
    expect(ds.length).toBe(5);
    const [x, y] = ds.get(3);
    expect(x.shape).toEqual([2]);
    expect(x.toArray()).toEqual([3, 30]);
    expect(y.shape).toEqual([]);
    expect(y.dtype).toBe('int32');
    expect(y.item()).toBe(3);
  });

  it('refuses tensors whose first dims differ, naming the shapes', () => {
    expect(() => new data.TensorDataset(randn([3, 2]), randn([4]))).toThrow(FerrogradError);
    expect(() => new data.TensorDataset(randn([3, 2]), randn([4]))).toThrow(/\[3, 2\], \[4\]/);
    expect(() => new data.TensorDataset(randn([3]), tensor(1))).toThrow(/\[3\], \[\]/);
    expect(() => new data.TensorDataset()).toThrow(/at least one tensor/);
  });

  it('refuses out-of-range and fractional indices', () => {
    const ds = rows(5);
    expect(() => ds.get(5)).toThrow(/index 5 is out of range.*length 5/);
    expect(() => ds.get(-1)).toThrow(FerrogradError);
    expect(() => ds.get(1.5)).toThrow(FerrogradError);
  });
});

describe('Subset and ConcatDataset', () => {
  it('Subset maps its indices to the dataset, in their order', () => {
    const sub = new data.Subset(rows(10), [7, 2, 2]);
    expect(sub.length).toBe(3);
    expect([0, 1, 2].map((i) => sub.get(i)[1].item())).toEqual([7, 2, 2]);
    expect(() => sub.get(3)).toThrow(/out of range/);
    expect(() => new data.Subset(rows(3), [0, 3])).toThrow(/index 3 is out of range/);
  });

  it('Subset copies the index list', () => {
    const indices = [1, 2];
    const sub = new data.Subset(rows(5), indices);
    indices[0] = 4;
    expect(sub.get(0)[1].item()).toBe(1);
  });

  it('ConcatDataset chains datasets, empty ones included', () => {
    const cat = new data.ConcatDataset([rows(3), new data.Subset(rows(5), []), new data.Subset(rows(5), [4, 0]), rows(1)]);
    expect(cat.length).toBe(6);
    expect(cat.cumulativeSizes).toEqual([3, 3, 5, 6]);
    expect(range(6).map((i) => cat.get(i)[1].item())).toEqual([0, 1, 2, 4, 0, 0]);
    expect(() => cat.get(6)).toThrow(/out of range/);
    expect(() => new data.ConcatDataset([])).toThrow(/empty/);
  });
});

describe('randomSplit', () => {
  it('partitions the indices by lengths', () => {
    manualSeed(0);
    const parts = data.randomSplit(rows(10), [5, 3, 2]);
    expect(parts.map((p) => p.length)).toEqual([5, 3, 2]);
    expect(sorted(parts.flatMap((p) => [...p.indices]))).toEqual(range(10));
  });

  it('takes fractions, dealing the remainder from the first split on as PyTorch', () => {
    manualSeed(0);
    expect(data.randomSplit(rows(10), [0.7, 0.3]).map((p) => p.length)).toEqual([7, 3]);
    // floor(11 × [0.5, 0.3, 0.2]) = [5, 3, 2]; one left over goes to the first.
    expect(data.randomSplit(rows(11), [0.5, 0.3, 0.2]).map((p) => p.length)).toEqual([6, 3, 2]);
    // floor(5 / 3) = 1 each; two left over go to the first two.
    expect(data.randomSplit(rows(5), [1 / 3, 1 / 3, 1 / 3]).map((p) => p.length)).toEqual([2, 2, 1]);
  });

  it('draws from the seeded generator: same seed, same split', () => {
    manualSeed(7);
    const a = data.randomSplit(rows(20), [0.5, 0.5]);
    manualSeed(7);
    const b = data.randomSplit(rows(20), [0.5, 0.5]);
    expect(a[0].indices).toEqual(b[0].indices);
    manualSeed(7);
    expect([...a[0].indices, ...a[1].indices]).toEqual(Array.from(randperm(20).data()));
    const g = data.randomSplit(rows(20), [10, 10], { generator: new data.Generator(3) });
    expect([...g[0].indices, ...g[1].indices]).toEqual(new data.Generator(3).randperm(20));
  });

  it('refuses lengths that do not add up', () => {
    expect(() => data.randomSplit(rows(10), [3, 3])).toThrow(/does not equal the length of the input dataset \(10\)/);
    expect(() => data.randomSplit(rows(10), [0.5, 0.6])).toThrow(FerrogradError);
    expect(() => data.randomSplit(rows(10), [1.5, -0.5])).toThrow(/fraction at index 0/);
  });

  it('leaves no tensor behind', () => {
    const ds = rows(10);
    const before = memory().tensors;
    data.randomSplit(ds, [0.5, 0.5]);
    expect(memory().tensors).toBe(before);
  });
});

describe('Generator', () => {
  it('gives the permutation the core gives for the same seed', () => {
    for (const seed of [0, 1, 42, 123456789]) {
      manualSeed(seed);
      expect(new data.Generator(seed).randperm(100)).toEqual(Array.from(randperm(100).data()));
    }
  });

  it('is reproducible, and manualSeed restarts it', () => {
    const g = new data.Generator(9);
    const first = g.randperm(30);
    expect(g.randperm(30)).not.toEqual(first);
    expect(g.manualSeed(9).randperm(30)).toEqual(first);
  });
});

describe('DataLoader batches', () => {
  it('batches a TensorDataset in order with a partial last batch', () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const shapes: number[][][] = [];
    const labels: number[][] = [];
    for (const [x, y] of loader) {
      expect([x.dtype, y.dtype]).toEqual(['float32', 'int32']);
      shapes.push([x.shape, y.shape]);
      labels.push(Array.from(y.data()));
    }
    expect(shapes).toEqual([
      [[4, 2], [4]],
      [[4, 2], [4]],
      [[2, 2], [2]],
    ]);
    expect(labels).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('cuts a TensorDataset batch with one indexSelect per tensor, not row by row', () => {
    const loader = new data.DataLoader(rows(100), { batchSize: 50, shuffle: true });
    const before = memory().tensors;
    for (const [x, y] of loader) {
      // The index tensor and one tensor per column, whatever the batch size.
      expect(memory().tensors - before).toBe(3);
      expect(Array.from(x.data())).toEqual([...y.data()].flatMap((i) => [i, 10 * i]));
    }
  });

  it('drops the partial last batch with dropLast', () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epochLabels(loader)).toEqual(range(8));
    expect(new data.DataLoader(rows(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new data.DataLoader(rows(3), { batchSize: 4, dropLast: true }).length).toBe(0);
  });

  it('defaults to batches of one', () => {
    const loader = new data.DataLoader(rows(3));
    expect(loader.length).toBe(3);
    for (const [x, y] of loader) expect([x.shape, y.shape]).toEqual([[1, 2], [1]]);
  });

  it('cuts batches of Subsets of a TensorDataset too (randomSplit results)', () => {
    manualSeed(1);
    const [train] = data.randomSplit(rows(20), [15, 5]);
    const got: number[][] = [];
    for (const [x, y] of new data.DataLoader(train, { batchSize: 6 })) {
      expect(Array.from(x.data())).toEqual([...y.data()].flatMap((i) => [i, 10 * i]));
      got.push(...[...y.data()].map((i) => [i]));
    }
    expect(got.flat()).toEqual([...train.indices]);
  });

  it('goes through get() of a TensorDataset subclass that overrides it', () => {
    class Doubled extends data.TensorDataset<[Tensor, Tensor]> {
      override get(i: number): [Tensor, Tensor] {
        const [x, y] = super.get(i);
        return [x.mul(2), y];
      }
    }
    const base = rows(4);
    const ds = new Doubled(base.tensors[0], base.tensors[1]);
    const xs: number[] = [];
    for (const [x] of new data.DataLoader(ds, { batchSize: 4 })) xs.push(...x.data());
    expect(xs).toEqual([0, 0, 2, 20, 4, 40, 6, 60]);
  });

  it('collates tuples, objects and numbers like default_collate', () => {
    type Item = { x: Tensor; pair: [number, number]; label: number };
    const ds: data.Dataset<Item> = {
      length: 5,
      get: (i) => ({ x: tensor([i, i], { dtype: 'float32' }), pair: [i, i / 2], label: i }),
    };
    const seen: number[][] = [];
    for (const { x, pair, label } of new data.DataLoader<data.Collated<Item>>(ds, { batchSize: 2 })) {
      expect(x.shape).toEqual([label.shape[0], 2]);
      expect(label.dtype).toBe('int32');
      expect(pair[0].dtype).toBe('int32');
      // JavaScript has one number type, so the values decide: [0, 0.5] and [1, 1.5]
      // are float32, the last batch [2] is int32.
      expect(pair[1].dtype).toBe(label.shape[0] === 2 ? 'float32' : 'int32');
      seen.push(Array.from(label.data()));
    }
    expect(seen).toEqual([[0, 1], [2, 3], [4]]);
    expect(() => data.defaultCollate([tensor([1]), 2])).toThrow(/item 1 is not a Tensor/);
    expect(() => data.defaultCollate(['a', 'b'])).toThrow(/cannot batch items of type string/);
  });

  it('uses a custom collate function', () => {
    const loader = new data.DataLoader(rows(5), { batchSize: 2, collate: (items) => items.map(([, y]) => y.item()) });
    expect([...loader]).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('yields nothing for an empty dataset', () => {
    const loader = new data.DataLoader({ length: 0, get: (): number => 0 }, { batchSize: 3, shuffle: true });
    expect(loader.length).toBe(0);
    expect([...loader]).toEqual([]);
  });

  it('supports for await…of', async () => {
    const labels: number[] = [];
    for await (const [, y] of new data.DataLoader(rows(7), { batchSize: 3 })) {
      await Promise.resolve();
      labels.push(...y.data());
    }
    expect(labels).toEqual(range(7));
  });
});

describe('DataLoader shuffling', () => {
  it('covers every index exactly once per epoch, in a new order each epoch', () => {
    manualSeed(5);
    const loader = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true });
    const epochs = [epochLabels(loader), epochLabels(loader), epochLabels(loader)];
    for (const e of epochs) expect(sorted(e)).toEqual(range(50));
    expect(epochs[0]).not.toEqual(range(50));
    expect(epochs[1]).not.toEqual(epochs[0]);
    expect(epochs[2]).not.toEqual(epochs[1]);
  });

  it('gives the same order for the same seed (manualSeed)', () => {
    const loader = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true });
    manualSeed(11);
    const a = [epochLabels(loader), epochLabels(loader)];
    manualSeed(11);
    const b = [epochLabels(loader), epochLabels(loader)];
    expect(b).toEqual(a);
    manualSeed(11);
    expect(a[0]).toEqual(Array.from(randperm(50).data()));
  });

  it('shuffles with its own generator, unaffected by the global seed', () => {
    const loader = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true, generator: new data.Generator(3) });
    manualSeed(1);
    const e1 = epochLabels(loader);
    manualSeed(1);
    const e2 = epochLabels(loader);
    const g = new data.Generator(3);
    expect([e1, e2]).toEqual([g.randperm(50), g.randperm(50)]);
  });
});

describe('DataLoader batchSampler and tensorRows', () => {
  it('batchSampler gives each epoch the indices a loop over the loader batches', () => {
    const loader = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true, generator: new data.Generator(4) });
    const sampled = [...loader.batchSampler];
    const twin = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true, generator: new data.Generator(4) });
    const looped: number[][] = [];
    for (const [, y] of twin) looped.push(Array.from(y.data()));
    expect(sampled).toEqual(looped);
    expect(sampled.map((b) => b.length)).toEqual([8, 8, 8, 8, 8, 8, 2]);
    // Each loop draws the next order from the generator, as each epoch of the loader does.
    const g = new data.Generator(4);
    expect(sampled.flat()).toEqual(g.randperm(50));
    expect([...loader.batchSampler].flat()).toEqual(g.randperm(50));
  });

  it('tensorRows follows Subsets down to the TensorDataset, and is null when batches go through collate', () => {
    const ds = rows(10);
    const inner = new data.Subset(ds, [9, 8, 7, 6, 5]);
    const loader = new data.DataLoader(new data.Subset(inner, [4, 0, 2]), { batchSize: 2 });
    expect(loader.tensorRows([1, 2])).toEqual({ source: ds, rows: [9, 7] });
    expect(new data.DataLoader(ds, { collate: (items) => items }).tensorRows([0])).toBeNull();
    class Doubled extends data.TensorDataset<[Tensor, Tensor]> {
      override get(i: number): [Tensor, Tensor] {
        const [x, y] = super.get(i);
        return [x.mul(2), y];
      }
    }
    const [x, y] = ds.tensors;
    expect(new data.DataLoader(new Doubled(x, y)).tensorRows([0])).toBeNull();
    expect(new data.DataLoader({ length: 3, get: (i: number) => i }).tensorRows([0])).toBeNull();
  });
});

describe('DataLoader options', () => {
  const ds = rows(3);
  it('rejects bad options with PyTorch-style messages', () => {
    expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow('DataLoader: batchSize should be a positive integer value, but got batchSize=0');
    expect(() => new data.DataLoader(ds, { batchSize: -2 })).toThrow('but got batchSize=-2');
    expect(() => new data.DataLoader(ds, { batchSize: 1.5 })).toThrow('but got batchSize=1.5');
    expect(() => new data.DataLoader(ds, { batchSize: Number.NaN })).toThrow('but got batchSize=NaN');
    expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow(FerrogradError);
  });

  it('rejects wrongly typed and unknown options from untyped callers', () => {
    // JavaScript callers and JSON configs get no type checking.
    const untyped = (o: object): data.DataLoaderOptions => JSON.parse(JSON.stringify(o));
    expect(() => new data.DataLoader(ds, untyped({ batchSize: '4' }))).toThrow("but got batchSize='4'");
    expect(() => new data.DataLoader(ds, untyped({ shuffle: 'yes' }))).toThrow(/shuffle should be a boolean value/);
    expect(() => new data.DataLoader(ds, untyped({ dropLast: 1 }))).toThrow(/dropLast should be a boolean value, but got dropLast=1/);
    expect(() => new data.DataLoader(ds, untyped({ batch_size: 4 }))).toThrow(/unknown option 'batch_size'/);
    expect(() => new data.DataLoader(ds, untyped({ generator: 3 }))).toThrow(/generator should be a data.Generator/);
  });

  it('rejects something that is not a dataset', () => {
    const notADataset = JSON.parse('{"length": 3}');
    expect(() => new data.DataLoader(notADataset)).toThrow(/get\(i\)/);
  });
});

describe('DataLoader memory', () => {
  it('keeps memory flat over 15 epochs of training with no memory calls', () => {
    manualSeed(0);
    const X = keep(randn([1000, 20]));
    const y = keep(randint(0, 3, [1000]));
    const model = new nn.Linear(20, 3);
    const lossFn = new nn.CrossEntropyLoss();
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const loader = new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 64, shuffle: true });
    const depth = scopeDepth();
    const after: { tensors: number; bytes: number }[] = [];
    const peaks: number[] = [];
    let firstLoss = 0;
    let lastLoss = 0;
    for (let epoch = 0; epoch < 15; epoch++) {
      let peak = 0;
      let sum = 0;
      for (const [xb, yb] of loader) {
        const loss = lossFn.forward(model.forward(xb), yb);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        sum += loss.item();
        peak = Math.max(peak, memory().tensors);
      }
      if (epoch === 0) firstLoss = sum;
      lastLoss = sum;
      const m = memory();
      after.push({ tensors: m.tensors, bytes: m.bytes });
      peaks.push(peak);
    }
    for (const m of after.slice(1)) expect(m).toEqual(after[0]);
    for (const p of peaks.slice(1)) expect(p).toBe(peaks[0]);
    expect(scopeDepth()).toBe(depth);
    // The loop did train: the batches were real.
    expect(lastLoss).toBeLessThan(firstLoss);
  });

  it('frees the batch and the loop body’s tensors at the next iteration', () => {
    const loader = new data.DataLoader(rows(9), { batchSize: 3 });
    let prev: Tensor[] = [];
    for (const [x, y] of loader) {
      for (const t of prev) expect(t.isDisposed).toBe(true);
      prev = [x, y, x.sum()];
    }
    for (const t of prev) expect(t.isDisposed).toBe(true);
  });

  it('frees the last batch on break, and keep() saves a tensor', () => {
    const ds = rows(10);
    const loader = new data.DataLoader(ds, { batchSize: 3 });
    const before = memory().tensors;
    const depth = scopeDepth();
    let last: Tensor | undefined;
    let saved: Tensor | undefined;
    for (const [x] of loader) {
      last = x;
      saved = keep(x.sum()); // rows [0, 0], [1, 10], [2, 20]
      break;
    }
    expect(last?.isDisposed).toBe(true);
    expect(() => last?.toArray()).toThrow(/DataLoader iteration 0.*keep\(tensor\)/);
    expect(scopeDepth()).toBe(depth);
    expect(saved?.item()).toBe(33);
    saved?.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('frees the batch when the loop body throws or returns', () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 3, shuffle: true });
    const before = memory().tensors;
    let batch: Tensor | undefined;
    expect(() => {
      for (const [x] of loader) {
        batch = x.mul(2);
        throw new Error('boom');
      }
    }).toThrow('boom');
    expect(batch?.isDisposed).toBe(true);
    const firstRow = (): Tensor | undefined => {
      for (const [x] of loader) return x;
      return undefined;
    };
    expect(firstRow()?.isDisposed).toBe(true);
    expect(memory().tensors).toBe(before);
  });

  it('frees the batch when a for await loop breaks', async () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 3 });
    const before = memory().tensors;
    const depth = scopeDepth();
    let batch: Tensor | undefined;
    for await (const [x] of loader) {
      batch = x;
      break;
    }
    expect(batch?.isDisposed).toBe(true);
    expect(scopeDepth()).toBe(depth);
    expect(memory().tensors).toBe(before);
  });

  it('works inside tidy and nests with another loader', () => {
    const outer = new data.DataLoader(rows(4), { batchSize: 2 });
    const inner = new data.DataLoader(rows(3), { batchSize: 3 });
    const before = memory().tensors;
    const total = tidy(() => {
      let acc = 0;
      for (const [x] of outer) for (const [y] of inner) acc += x.sum().item() * y.sum().item();
      return acc;
    });
    // sum(x) over the outer batches: 11 and 55; sum of the inner batch: 3 + 30 = 33.
    expect(total).toBe((11 + 55) * 33);
    expect(memory().tensors).toBe(before);
  });

  it('lets two loaders advance in step (zip) without freeing each other’s batches', () => {
    const a = new data.DataLoader(rows(6), { batchSize: 2 });
    const b = new data.DataLoader(rows(6), { batchSize: 3 });
    const before = memory().tensors;
    const depth = scopeDepth();
    const ia = a[Symbol.iterator]();
    const ib = b[Symbol.iterator]();
    const [xa] = ia.next().value ?? [];
    const [xb] = ib.next().value ?? [];
    const [xa2] = ia.next().value ?? [];
    // Moving a on freed a's first batch only.
    expect([xa?.isDisposed, xb?.isDisposed, xa2?.isDisposed]).toEqual([true, false, false]);
    ia.return();
    expect(xb?.isDisposed).toBe(false);
    ib.return();
    expect(xb?.isDisposed).toBe(true);
    expect(scopeDepth()).toBe(depth);
    expect(memory().tensors).toBe(before);
  });
});
