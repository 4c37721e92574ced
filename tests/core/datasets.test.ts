import { describe, expect, it } from 'vitest';
import { data, memory, tidy, FerrogradError, type Tensor } from '../../ts/index.js';
import * as datasets from '../../ts/datasets/index.js';

/** How many of each class 0..k-1 `targets` holds. */
const counts = (targets: Tensor, k: number): number[] => {
  const out = new Array<number>(k).fill(0);
  for (const c of targets.data()) out[c] += 1;
  return out;
};

const row = (t: Tensor, i: number): number[] => tidy(() => Array.from(t.select(0, i).data()));

describe('Digits', () => {
  const d = new datasets.Digits();

  it('holds 1 797 images of 8×8 in 10 classes of about 180', () => {
    expect(d.length).toBe(1797);
    expect([d.data.shape, d.data.dtype]).toEqual([[1797, 64], 'float32']);
    expect([d.targets.shape, d.targets.dtype]).toEqual([[1797], 'int32']);
    expect([d.images.shape, d.images.dtype]).toEqual([[1797, 1, 8, 8], 'float32']);
    expect(d.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(d.featureNames[9]).toBe('pixel_1_1');
    const c = counts(d.targets, 10);
    expect(c).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it('has the CSV values: raw 0..16 in data, ÷16 in images', () => {
    // digits.csv.gz, first line: 0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,… label 0
    expect(row(d.data, 0).slice(0, 16)).toEqual([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]);
    // second line: 0,0,0,12,13,5,0,0,… label 1
    expect(row(d.data, 1).slice(0, 8)).toEqual([0, 0, 0, 12, 13, 5, 0, 0]);
    expect(row(d.targets, 0)).toEqual([0]);
    expect(row(d.targets, 1)).toEqual([1]);
    expect(tidy(() => Array.from(d.images.select(0, 0).select(1, 0).select(0, 0).data()))).toEqual([0, 0, 5, 13, 9, 1, 0, 0].map((v) => v / 16));
    expect(tidy(() => [d.data.max().item(), d.data.min().item(), d.images.max().item()])).toEqual([16, 0, 1]);
  });

  it('get(i) gives [pixels [64], label]', () => {
    const [x, y] = d.get(1);
    expect([x.shape, y.shape, y.item()]).toEqual([[64], [], 1]);
  });
});

describe('Iris', () => {
  const d = new datasets.Iris();

  it('holds 150 flowers, 50 per species, with the CSV values', () => {
    expect(d.length).toBe(150);
    expect(d.data.shape).toEqual([150, 4]);
    expect(d.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(d.featureNames).toEqual(['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)']);
    expect(counts(d.targets, 3)).toEqual([50, 50, 50]);
    // iris.csv rows 1, 2 and the last: 5.1,3.5,1.4,0.2,0 / 4.9,3.0,1.4,0.2,0 / 5.9,3.0,5.1,1.8,2
    expect(row(d.data, 0)).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(row(d.data, 1)).toEqual([4.9, 3.0, 1.4, 0.2].map(Math.fround));
    expect(row(d.data, 149)).toEqual([5.9, 3.0, 5.1, 1.8].map(Math.fround));
    expect(row(d.targets, 149)).toEqual([2]);
  });
});

describe('BreastCancer', () => {
  const d = new datasets.BreastCancer();

  it('holds 569 tumours × 30 features, 212 malignant and 357 benign, with the CSV values', () => {
    expect(d.length).toBe(569);
    expect(d.data.shape).toEqual([569, 30]);
    expect(d.classes).toEqual(['malignant', 'benign']);
    expect(d.featureNames.length).toBe(30);
    expect([d.featureNames[0], d.featureNames[10], d.featureNames[20]]).toEqual(['mean radius', 'radius error', 'worst radius']);
    expect(counts(d.targets, 2)).toEqual([212, 357]);
    // breast_cancer.csv, first row: 17.99,10.38,122.8,1001,0.1184,…,0.1189,0
    const first = row(d.data, 0);
    expect(first.slice(0, 5)).toEqual([17.99, 10.38, 122.8, 1001, 0.1184].map(Math.fround));
    expect(first[29]).toBe(Math.fround(0.1189));
    // second row: 20.57,17.77,132.9,1326,…
    expect(row(d.data, 1).slice(0, 4)).toEqual([20.57, 17.77, 132.9, 1326].map(Math.fround));
    expect(row(d.targets, 0)).toEqual([0]);
  });
});

describe('train/test splits', () => {
  it('hold out testFraction of every class, disjoint and covering', () => {
    const train = new datasets.Iris({ train: true });
    const test = new datasets.Iris({ train: false });
    expect([train.length, test.length]).toEqual([120, 30]);
    expect(counts(test.targets, 3)).toEqual([10, 10, 10]);
    expect([...train.rows, ...test.rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    // Rows keep the original order, and are the full data set's rows.
    const all = new datasets.Iris();
    expect(row(test.data, 0)).toEqual(row(all.data, test.rows[0]));
    expect(test.rows).toEqual([...test.rows].sort((a, b) => a - b));
  });

  it('split digits and breast cancer by class too', () => {
    const bc = new datasets.BreastCancer({ train: false });
    expect(counts(bc.targets, 2)).toEqual([42, 71]);
    expect(new datasets.BreastCancer({ train: true }).length).toBe(569 - 113);
    const digitsTest = new datasets.Digits({ train: false, testFraction: 0.5 });
    expect(counts(digitsTest.targets, 10)).toEqual([89, 91, 89, 92, 91, 91, 91, 90, 87, 90]);
    expect(digitsTest.images.shape).toEqual([digitsTest.length, 1, 8, 8]);
  });

  it('are fixed by the seed, not by manualSeed', () => {
    const a = new datasets.Digits({ train: false, seed: 1 });
    const b = new datasets.Digits({ train: false, seed: 1 });
    const c = new datasets.Digits({ train: false, seed: 2 });
    expect(b.rows).toEqual(a.rows);
    expect(c.rows).not.toEqual(a.rows);
  });

  it('refuse bad options', () => {
    expect(() => new datasets.Iris({ train: true, testFraction: 1 })).toThrow(/testFraction must be between 0 and 1/);
    expect(() => new datasets.Iris({ train: true, seed: 0.5 })).toThrow(FerrogradError);
    expect(() => new datasets.Iris({ seed: 3 })).toThrow(/pass train: true or train: false/);
  });
});

describe('bundled tensors', () => {
  it('are made once, kept, and shared by instances', () => {
    const before = memory().tensors;
    const a = tidy(() => new datasets.Iris());
    const b = new datasets.Iris();
    expect(memory().tensors).toBe(before);
    expect(a.data.isDisposed).toBe(false);
    expect(b.data).toBe(a.data);
  });

  it('are remade if someone disposed them', () => {
    const a = new datasets.BreastCancer({ train: true, seed: 5 });
    a.data.dispose();
    const b = new datasets.BreastCancer({ train: true, seed: 5 });
    expect(b.data.isDisposed).toBe(false);
    expect(b.data.shape).toEqual([456, 30]);
  });

  it('feed a DataLoader (fast path) with correct rows', () => {
    const test = new datasets.Iris({ train: false });
    const loader = new data.DataLoader(test, { batchSize: 8 });
    const labels: number[] = [];
    for (const [x, y] of loader) {
      expect(x.shape[1]).toBe(4);
      labels.push(...y.data());
    }
    expect(labels).toEqual(Array.from(test.targets.data()));
  });
});
