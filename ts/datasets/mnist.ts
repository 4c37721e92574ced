// MNIST and Fashion-MNIST from their standard IDX files (gzipped or not).

import { FerrogradError, keep, tensor, tidy, type Tensor } from '../index.js';
import { parseIdx, maybeGunzip } from './idx.js';
import { readBytes, writeBytes, joinPath } from './fetch-bytes.js';

/** Options of `MNIST.load` and `FashionMNIST.load`. */
export interface MNISTOptions {
  /** Folder (Node) or URL (browsers) holding the IDX files; also searched: `<root>/<Name>/raw`. */
  root?: string;
  /** The 60 000-image training split (default) or the 10 000-image test split. */
  train?: boolean;
  /** Fetch missing files from the data set's canonical mirror into `root`. */
  download?: boolean;
  /** Base URLs to download from, in order (default: the data set's canonical mirrors). */
  mirrors?: string[];
  /** Applied to each image by `get(i)` (and to whole batches by loaders that use `data`). */
  transform?: (image: Tensor) => Tensor;
}

interface Source {
  name: string;
  mirrors: string[];
  defaultRoot: string;
  classes: string[];
}

function files(train: boolean): [string, string] {
  const split = train ? 'train' : 't10k';
  return [`${split}-images-idx3-ubyte`, `${split}-labels-idx1-ubyte`];
}

async function find(src: Source, root: string, file: string, download: boolean, mirrors: string[]): Promise<Uint8Array> {
  const dirs = [root, joinPath(root, `${src.name}/raw`), joinPath(root, 'raw')];
  for (const dir of dirs) {
    for (const name of [`${file}.gz`, file]) {
      const bytes = await readBytes(joinPath(dir, name));
      if (bytes) return maybeGunzip(bytes);
    }
  }
  if (download) {
    for (const mirror of mirrors) {
      try {
        const bytes = await readBytes(`${mirror}${file}.gz`);
        if (bytes) {
          await writeBytes(joinPath(root, `${file}.gz`), bytes);
          return maybeGunzip(bytes);
        }
      } catch {
        // Try the next mirror; the error below says none worked.
      }
    }
    throw new FerrogradError('value', `${src.name}: could not download ${file}.gz from ${mirrors.join(' or ')}`);
  }
  throw new FerrogradError(
    'value',
    `${src.name}: ${file}(.gz) not found under ${root}; pass { download: true } or point root at the folder with the IDX files`,
  );
}

/**
 * An MNIST-style data set held in memory: `data` is float32 [N, 1, 28, 28] in [0, 1],
 * `targets` int32 [N]. Build one with the async `load`.
 *
 * @example
 * ```ts
 * import { data } from 'ferrograd';
 * import { FashionMNIST } from 'ferrograd/datasets';
 *
 * const train = await FashionMNIST.load({ root: '/usr/share/datasets/fashion-mnist', train: true });
 * const loader = new data.DataLoader(new data.TensorDataset(train.data, train.targets), { batchSize: 64, shuffle: true });
 * ```
 */
export class MNIST {
  static readonly source: Source = {
    name: 'MNIST',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    defaultRoot: 'data',
    classes: ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'],
  };

  readonly classes: string[];

  constructor(
    readonly data: Tensor,
    readonly targets: Tensor,
    readonly transform?: (image: Tensor) => Tensor,
  ) {
    this.classes = (this.constructor as typeof MNIST).source.classes;
  }

  /** Reads (and with `download`, fetches) one split. */
  static async load(options: MNISTOptions = {}): Promise<MNIST> {
    const [data, targets] = await readSplit(MNIST.source, options);
    return new MNIST(data, targets, options.transform);
  }

  get length(): number {
    return this.targets.shape[0];
  }

  /** `[image [1, 28, 28], label]`. */
  get(i: number): [Tensor, number] {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new FerrogradError('value', `${this.constructor.name}.get: index ${i} is out of range for ${this.length} images`);
    }
    const label = tidy(() => this.targets.select(0, i).item());
    const image = this.data.select(0, i);
    return [this.transform ? this.transform(image) : image, label];
  }

  /** Frees the data set's tensors. */
  dispose(): void {
    this.data.dispose();
    this.targets.dispose();
  }
}

/** Zalando's Fashion-MNIST: ten clothing classes in MNIST's format. */
export class FashionMNIST extends MNIST {
  static override readonly source: Source = {
    name: 'FashionMNIST',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    defaultRoot: '/usr/share/datasets/fashion-mnist',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  };

  static override async load(options: MNISTOptions = {}): Promise<FashionMNIST> {
    const [data, targets] = await readSplit(FashionMNIST.source, options);
    return new FashionMNIST(data, targets, options.transform);
  }
}

/** Images as float32 [N, 1, H, W] in [0, 1] and labels as int32 [N], both kept. */
async function readSplit(src: Source, options: MNISTOptions): Promise<[Tensor, Tensor]> {
  const root = options.root ?? src.defaultRoot;
  const [imgFile, lblFile] = files(options.train ?? true);
  const mirrors = options.mirrors ?? src.mirrors;
  const images = parseIdx(await find(src, root, imgFile, options.download ?? false, mirrors), imgFile);
  const labels = parseIdx(await find(src, root, lblFile, options.download ?? false, mirrors), lblFile);
  if (images.shape.length !== 3 || labels.shape.length !== 1 || images.shape[0] !== labels.shape[0]) {
    throw new FerrogradError('shape', `${src.name}: images [${images.shape.join(', ')}] and labels [${labels.shape.join(', ')}] do not match`);
  }
  const [n, h, w] = images.shape;
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return [keep(tensor(pixels, { shape: [n, 1, h, w] })), keep(tensor(Int32Array.from(labels.data), { shape: [n] }))];
}
