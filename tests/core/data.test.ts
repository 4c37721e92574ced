import { describe, expect, it } from 'vitest';
import { data, datasets, tensor, randn, arange, manualSeed, memory, keep, FerrogradError, type Tensor } from '../../ts/index.js';

const rows = (n: number): data.TensorDataset => new data.TensorDataset(arange(n).float().reshape([n, 1]).mul(tensor([[1, 10]], { dtype: 'float32' })), arange(n));

describe('datasets', () => {
  it('TensorDataset, Subset and ConcatDataset index rows', () => {
    const ds = rows(5);
    expect(ds.length).toBe(5);
    const [x, y] = ds.get(3);
    expect(x.toArray()).toEqual([3, 30]);
    expect(y.item()).toBe(3);
    const sub = new data.Subset(ds, [4, 0]);
    expect(sub.get(0)[1].item()).toBe(4);
    const cat = new data.ConcatDataset([ds, sub]);
    expect(cat.length).toBe(7);
    expect(cat.get(6)[1].item()).toBe(0);
    expect(() => ds.get(5)).toThrow(/out of range/);
    expect(() => new data.TensorDataset(randn([3, 2]), randn([4]))).toThrow(/size mismatch.*\[3, 2\], \[4\]/);
  });

  it('randomSplit partitions the indices, by lengths or fractions', () => {
    manualSeed(0);
    const [a, b] = data.randomSplit(rows(10), [0.7, 0.3]);
    expect([a.length, b.length]).toEqual([7, 3]);
    expect([...a.indices, ...b.indices].sort((p, q) => p - q)).toEqual([...Array(10).keys()]);
    expect(() => data.randomSplit(rows(10), [3, 3])).toThrow(FerrogradError);
  });
});

describe('DataLoader', () => {
  it('batches in order with a partial last batch, or drops it', () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const seen: number[][] = [];
    for (const [x, y] of loader) {
      expect(x.shape).toEqual([y.shape[0], 2]);
      expect(y.dtype).toBe('int32');
      seen.push(Array.from(y.data()));
    }
    expect(seen).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropped = new data.DataLoader(rows(10), { batchSize: 4, dropLast: true });
    expect([...dropped].length).toBe(2);
  });

  it('shuffles every index once per epoch, differently each epoch, reproducibly', () => {
    // Each batch is freed when the next one starts, so read it inside the loop.
    const epoch = (loader: data.DataLoader): number[] => {
      const out: number[] = [];
      for (const [, y] of loader) out.push(...y.data());
      return out;
    };
    manualSeed(5);
    const loader = new data.DataLoader(rows(50), { batchSize: 8, shuffle: true });
    const e1 = epoch(loader);
    const e2 = epoch(loader);
    expect([...e1].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
    expect(e1).not.toEqual(e2);
    manualSeed(5);
    expect(epoch(loader)).toEqual(e1);
    const g = new data.Generator(3);
    const withGen = epoch(new data.DataLoader(rows(50), { batchSize: 8, shuffle: true, generator: g }));
    expect(withGen).toEqual(new data.Generator(3).randperm(50));
  });

  it('collates items of a general dataset, and supports for await', async () => {
    const ds: data.Dataset<{ x: Tensor; label: number }> = { length: 5, get: (i) => ({ x: tensor([i, i], { dtype: 'float32' }), label: i }) };
    const batches: number[][] = [];
    for await (const b of new data.DataLoader(ds, { batchSize: 2 })) {
      const { x, label } = b as unknown as { x: Tensor; label: Tensor };
      expect(x.shape[1]).toBe(2);
      batches.push(Array.from(label.data()));
    }
    expect(batches).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('rejects bad options like PyTorch', () => {
    expect(() => new data.DataLoader(rows(3), { batchSize: 0 })).toThrow('DataLoader: batchSize should be a positive integer value, but got batchSize=0');
    expect(() => new data.DataLoader(rows(3), { batchSize: 1.5 })).toThrow(FerrogradError);
  });

  it('keeps memory flat over 15 epochs with no memory calls', () => {
    const X = keep(randn([1000, 16]));
    const y = keep(randn([1000, 1]));
    const w = keep(randn([16, 1]));
    const loader = new data.DataLoader(new data.TensorDataset(X, y), { batchSize: 64, shuffle: true });
    const after: { tensors: number; bytes: number }[] = [];
    for (let epoch = 0; epoch < 15; epoch++) {
      for (const [xb, yb] of loader) xb.matmul(w).sub(yb).pow(2).mean().item();
      const m = memory();
      after.push({ tensors: m.tensors, bytes: m.bytes });
    }
    for (const m of after.slice(1)) expect(m).toEqual(after[0]);
    for (const t of [X, y, w]) t.dispose();
  });

  it('frees the last batch when the loop breaks, and keep() saves a tensor', () => {
    const loader = new data.DataLoader(rows(10), { batchSize: 3 });
    const before = memory().tensors;
    let last: Tensor | undefined;
    let saved: Tensor | undefined;
    for (const [x] of loader) {
      last = x;
      saved = keep(x.sum());
      break;
    }
    expect(last?.isDisposed).toBe(true);
    expect(() => last?.toArray()).toThrow(/DataLoader iteration 0.*keep\(tensor\)/);
    // rows [0, 0], [1, 10], [2, 20]
    expect(saved?.item()).toBe(33);
    saved?.dispose();
    expect(memory().tensors).toBe(before);
  });
});

describe('bundled data sets', () => {
  it('digits: 1 797 images of 8×8, 10 classes, values from the CSV', () => {
    const d = new datasets.Digits();
    expect(d.data.shape).toEqual([1797, 64]);
    expect(d.images.shape).toEqual([1797, 1, 8, 8]);
    expect(Array.from(d.data.select(0, 0).data().slice(0, 8))).toEqual([0, 0, 5, 13, 9, 1, 0, 0]);
    expect(d.targets.select(0, 1).item()).toBe(1);
    const counts = Array.from({ length: 10 }, (_, c) => d.targets.eq(c).sum().item());
    expect(counts.reduce((a, b) => a + b)).toBe(1797);
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(174);
    expect(d.images.max().item()).toBe(1);
  });

  it('iris: 150 flowers, 50 per species', () => {
    const d = new datasets.Iris();
    expect(d.data.shape).toEqual([150, 4]);
    expect(Array.from(d.data.select(0, 0).data())).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect([0, 1, 2].map((c) => d.targets.eq(c).sum().item())).toEqual([50, 50, 50]);
  });

  it('breast cancer: 569 tumours, 212 malignant and 357 benign', () => {
    const d = new datasets.BreastCancer();
    expect(d.data.shape).toEqual([569, 30]);
    expect(d.data.select(0, 0).select(0, 0).item()).toBeCloseTo(17.99, 5);
    expect([0, 1].map((c) => d.targets.eq(c).sum().item())).toEqual([212, 357]);
    expect(d.featureNames[20]).toBe('worst radius');
  });
});
