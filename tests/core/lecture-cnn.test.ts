// The lecture's convolution example and filter table, and the IDX reader's errors.
import { describe, expect, it } from 'vitest';
import { F, tensor, full, FerrogradError } from '../../ts/index.js';
import * as datasets from '../../ts/datasets/index.js';

describe("the lecture's convolution", () => {
  it('reproduces the 5×5 example: the convolved feature starts with 4', () => {
    const image = tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], { dtype: 'float32' });
    const filter = tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]], { dtype: 'float32' });
    const feature = F.conv2d(image.reshape([1, 1, 5, 5]), filter.reshape([1, 1, 3, 3])).reshape([3, 3]);
    // Weighted sums worked by hand, window by window.
    expect(feature.toArray()).toEqual([[4, 3, 4], [2, 4, 3], [2, 3, 4]]);
  });

  it('applies the filter table as expected on simple images', () => {
    const ramp = tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [3, 4, 5, 6, 7], [4, 5, 6, 7, 8]], { dtype: 'float32' }).reshape([1, 1, 5, 5]);
    const apply = (k: number[][], x = ramp): number[][] => F.conv2d(x, tensor([[k]], { dtype: 'float32' })).reshape([3, 3]).toArray() as number[][];
    expect(apply([[0, 0, 0], [0, 1, 0], [0, 0, 0]])).toEqual([[2, 3, 4], [3, 4, 5], [4, 5, 6]]);
    // The Laplacian-like edge detectors vanish on a linear ramp; sharpen keeps it.
    expect(apply([[0, 1, 0], [1, -4, 1], [0, 1, 0]])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(apply([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(apply([[1, 0, -1], [0, 0, 0], [-1, 0, 1]])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(apply([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])).toEqual([[2, 3, 4], [3, 4, 5], [4, 5, 6]]);
    const flat = full([1, 1, 5, 5], 9);
    const blur = apply([[1, 1, 1], [1, 1, 1], [1, 1, 1]].map((r) => r.map((v) => v / 9)), flat);
    for (const row of blur) for (const v of row) expect(v).toBeCloseTo(9, 5);
    const gauss = apply([[1, 2, 1], [2, 4, 2], [1, 2, 1]].map((r) => r.map((v) => v / 16)), ramp);
    gauss.flat().forEach((v, i) => expect(v).toBeCloseTo([2, 3, 4, 3, 4, 5, 4, 5, 6][i], 5));
  });
});

describe('IDX files', () => {
  const header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
  it('parses a well-formed file', () => {
    const idx = datasets.parseIdx(Uint8Array.from([...header, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(idx.shape).toEqual([2, 2, 2]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses truncated files and bad magic with the file name and the numbers', () => {
    expect(() => datasets.parseIdx(Uint8Array.from([...header, 1, 2, 3]), 'train-images-idx3-ubyte')).toThrow(
      'train-images-idx3-ubyte: expected 8 values for shape [2, 2, 2] but the file holds 3',
    );
    expect(() => datasets.parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), 'x')).toThrow(/truncated IDX header/);
    expect(() => datasets.parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x')).toThrow(FerrogradError);
  });
});
