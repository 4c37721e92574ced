// Image data for the CNN examples: Fashion-MNIST when it is on disk, else the
// bundled UCI digits scaled up to 28×28 so that the same CNN applies.

import { data, datasets, fromArray, type Tensor } from 'ferrograd';

export interface ImageData {
  train: data.TensorDataset;
  test: data.TensorDataset;
  classes: string[];
  source: string;
}

/** Bilinear resize of [N, 1, h, w] pixels to [N, 1, size, size] (align-corners style). */
function resize(pixels: Float32Array, n: number, h: number, w: number, size: number): Float32Array {
  const out = new Float32Array(n * size * size);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < size; i++) {
      const fy = (i * (h - 1)) / (size - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, h - 1);
      const dy = fy - y0;
      for (let j = 0; j < size; j++) {
        const fx = (j * (w - 1)) / (size - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, w - 1);
        const dx = fx - x0;
        const at = (y: number, x: number): number => pixels[k * h * w + y * w + x];
        out[k * size * size + i * size + j] =
          (1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x1)) + dy * ((1 - dx) * at(y1, x0) + dx * at(y1, x1));
      }
    }
  }
  return out;
}

export async function loadImageData(root: string): Promise<ImageData> {
  try {
    const train = await datasets.FashionMNIST.load({ root, train: true });
    const test = await datasets.FashionMNIST.load({ root, train: false });
    return {
      train: new data.TensorDataset(train.data, train.targets),
      test: new data.TensorDataset(test.data, test.targets),
      classes: train.classes,
      source: 'Fashion-MNIST',
    };
  } catch {
    console.log(`Fashion-MNIST was not found at ${root} and could not be installed, so this trains on the bundled UCI digits (8×8, scaled to 28×28) instead.`);
  }
  const digits = new datasets.Digits();
  const [n] = digits.targets.shape;
  const big = fromArray(resize(Float32Array.from(digits.images.data()), n, 8, 8, 28), [n, 1, 28, 28]);
  const all = new data.TensorDataset(big, digits.targets);
  const [train, test] = data.randomSplit(all, [0.8, 0.2]);
  const toTensors = (s: data.Dataset<[Tensor, Tensor]>): data.TensorDataset => {
    const idx = Array.from({ length: s.length }, (_, i) => i);
    const rows = idx.map((i) => s.get(i));
    return new data.TensorDataset(stackRows(rows.map((r) => r[0])), stackRows(rows.map((r) => r[1])));
  };
  return { train: toTensors(train), test: toTensors(test), classes: digits.classes, source: 'UCI digits' };
}

import { stack } from 'ferrograd';
const stackRows = (ts: Tensor[]): Tensor => stack(ts);
