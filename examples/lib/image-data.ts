// Image data for the CNN examples: Fashion-MNIST when it is on disk, else the
// bundled UCI digits scaled up to 28×28 so that the same CNN applies.

import { data, fromArray } from 'ferrograd';
import * as datasets from 'ferrograd/datasets';

export interface ImageData {
  train: data.TensorDataset;
  test: data.TensorDataset;
  classes: string[];
  source: string;
}

/** Bilinear resize of [N, 1, h, w] pixels to [N, 1, size, size] (corners aligned). */
function resize(pixels: ArrayLike<number>, n: number, h: number, w: number, size: number): Float32Array {
  const out = new Float32Array(n * size * size);
  for (let k = 0; k < n; k++) {
    const at = (y: number, x: number): number => pixels[k * h * w + y * w + x];
    for (let i = 0; i < size; i++) {
      const fy = (i * (h - 1)) / (size - 1);
      const [y0, dy] = [Math.floor(fy), fy - Math.floor(fy)];
      const y1 = Math.min(y0 + 1, h - 1);
      for (let j = 0; j < size; j++) {
        const fx = (j * (w - 1)) / (size - 1);
        const [x0, dx] = [Math.floor(fx), fx - Math.floor(fx)];
        const x1 = Math.min(x0 + 1, w - 1);
        out[k * size * size + i * size + j] = (1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x1)) + dy * ((1 - dx) * at(y1, x0) + dx * at(y1, x1));
      }
    }
  }
  return out;
}

function digits28(train: boolean): data.TensorDataset {
  const d = new datasets.Digits({ train });
  const n = d.length;
  return new data.TensorDataset(fromArray(resize(d.images.data(), n, 8, 8, 28), [n, 1, 28, 28]), d.targets);
}

/** Fashion-MNIST from `root`, or (saying so in one sentence) the UCI digits at 28×28. */
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
  return { train: digits28(true), test: digits28(false), classes: new datasets.Digits().classes, source: 'UCI digits' };
}
