// Fashion-MNIST from Debian's dataset-fashion-mnist package (installed by .ci/run).
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { datasets, tidy } from '../../ts/index.js';

const root = '/usr/share/datasets/fashion-mnist';

describe('FashionMNIST', () => {
  it('has 60 000 / 10 000 items, label 9 first, pixels in [0, 1]', async () => {
    expect(existsSync(`${root}/train-images-idx3-ubyte.gz`), `install dataset-fashion-mnist (${root})`).toBe(true);
    const train = await datasets.FashionMNIST.load({ root, train: true });
    const test = await datasets.FashionMNIST.load({ root, train: false });
    expect(train.length).toBe(60_000);
    expect(test.length).toBe(10_000);
    const [image, label] = train.get(0);
    expect(image.shape).toEqual([1, 28, 28]);
    expect(label).toBe(9);
    expect(train.classes[label]).toBe('Ankle boot');
    tidy(() => {
      expect(train.data.min().item()).toBe(0);
      expect(train.data.max().item()).toBe(1);
      expect(train.targets.eq(9).sum().item()).toBe(6000);
    });
    train.dispose();
    test.dispose();
  });

  it('says which file is missing and how to get it', async () => {
    await expect(datasets.FashionMNIST.load({ root: '/nonexistent' })).rejects.toThrow(
      /FashionMNIST: train-images-idx3-ubyte\(\.gz\) not found under \/nonexistent; pass \{ download: true \}/,
    );
  });
});
