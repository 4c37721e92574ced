// Fashion-MNIST from Debian's dataset-fashion-mnist package (installed by .ci/run).
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { tidy } from '../../ts/index.js';
import * as datasets from '../../ts/datasets/index.js';

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

describe('FashionMNIST download', () => {
  it('fetches missing files from a mirror into root, then reads them locally', async () => {
    const { createServer } = await import('node:http');
    const { readFile, mkdtemp, readdir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const served: string[] = [];
    // A stand-in mirror on loopback serving the same files the real one does.
    const server = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      served.push(name);
      readFile(`${root}/${name}`).then(
        (bytes) => res.end(bytes),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const dir = await mkdtemp(`${tmpdir()}/fmnist-`);
      const test = await datasets.FashionMNIST.load({ root: dir, train: false, download: true, mirrors: [`http://127.0.0.1:${port}/`] });
      expect(test.length).toBe(10_000);
      expect(served.sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
      expect((await readdir(dir)).sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
      test.dispose();
      // Second load: from disk, the mirror is not asked again.
      const again = await datasets.FashionMNIST.load({ root: dir, train: false, download: true, mirrors: [`http://127.0.0.1:${port}/`] });
      expect(served.length).toBe(2);
      again.dispose();
      await expect(
        datasets.FashionMNIST.load({ root: `${dir}/empty`, train: true, download: true, mirrors: [`http://127.0.0.1:${port}/missing/`] }),
      ).rejects.toThrow(/could not download train-images-idx3-ubyte\.gz from http:\/\/127\.0\.0\.1/);
    } finally {
      server.close();
    }
  });
});
