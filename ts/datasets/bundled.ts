// The small real data sets shipped inside the package (see NOTICE and data/*.rst):
// UCI handwritten digits, iris and breast cancer, each a TensorDataset of
// (features, label) with a fixed, seeded, stratified train/test split on request.

import { FerrogradError, data, keep, tensor, tidy, type Tensor } from '../index.js';
import * as embedded from './data.generated.js';

/**
 * Which rows of a bundled data set to use. Without `train`, all of them; with
 * `train: true` or `false`, one side of a split that holds out `testFraction` of
 * every class (rounded) for testing, chosen by a generator seeded with `seed`. The
 * split never touches the global seed, and the same options give the same rows in
 * every run and engine. Rows keep the data set's original order.
 */
export interface BundledOptions {
  /** `true`: the training rows, `false`: the test rows, omitted: all rows. */
  train?: boolean;
  /** Share of each class held out for testing, in (0, 1); default 0.2. */
  testFraction?: number;
  /** Seed of the split; default 0. */
  seed?: number;
}

/** The shape of an entry of data.generated.ts (see scripts/embed-data.mjs for the encodings). */
interface Packed {
  readonly n: number;
  readonly width: number;
  readonly classes: readonly string[];
  /** How `features` is written: one character per value, or comma-separated decimals. */
  readonly encoding: 'char-codes' | 'decimal';
  readonly features: string;
  /** One character per row. */
  readonly labels: string;
}

/** Small integers written one character each, as char code 48 + value. */
function charCodes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) - 48;
  return out;
}

function features(p: Packed): Float32Array {
  if (p.encoding === 'char-codes') return Float32Array.from(charCodes(p.features));
  // A Float32Array rounds each number to the nearest float32, as Math.fround does.
  return Float32Array.from(p.features.split(','), Number);
}

/** Rows of one side of the stratified split, ascending. */
function splitRows(name: string, labels: Uint8Array, classes: number, options: BundledOptions): number[] {
  const { train, testFraction = 0.2, seed = 0 } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new FerrogradError('value', `${name}: testFraction must be between 0 and 1 (exclusive), got ${testFraction}`);
  }
  if (!Number.isInteger(seed)) throw new FerrogradError('value', `${name}: seed must be an integer, got ${seed}`);
  const g = new data.Generator(seed);
  const isTest = new Uint8Array(labels.length);
  for (let c = 0; c < classes; c++) {
    const rows: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) rows.push(i);
    });
    const perm = g.randperm(rows.length);
    const k = Math.round(rows.length * testFraction);
    for (let j = 0; j < k; j++) isTest[rows[perm[j]]] = 1;
  }
  const rows: number[] = [];
  isTest.forEach((t, i) => {
    if ((t === 1) !== train) rows.push(i);
  });
  return rows;
}

interface Loaded {
  data: Tensor;
  targets: Tensor;
  rows: readonly number[];
  images?: Tensor;
}

// One set of kept tensors per data set and split, made on first use and shared by
// every instance; remade if a user disposed them.
const loaded = new Map<string, Loaded>();

function load(name: string, p: Packed, options: BundledOptions): Loaded {
  const { train } = options;
  if (train === undefined && (options.testFraction !== undefined || options.seed !== undefined)) {
    throw new FerrogradError('value', `${name}: testFraction and seed choose a train/test split; pass train: true or train: false with them`);
  }
  const key = train === undefined ? name : `${name}/${train}/${options.testFraction ?? 0.2}/${options.seed ?? 0}`;
  const hit = loaded.get(key);
  if (hit !== undefined && !hit.data.isDisposed && !hit.targets.isDisposed) return hit;

  const labels = charCodes(p.labels);
  const x = features(p);
  const rows = train === undefined ? Array.from(labels, (_, i) => i) : splitRows(name, labels, p.classes.length, options);
  const sub = new Float32Array(rows.length * p.width);
  rows.forEach((r, k) => sub.set(x.subarray(r * p.width, (r + 1) * p.width), k * p.width));
  const entry: Loaded = {
    // keep(): these outlive any scope (a DataLoader iteration or tidy) they are first made in.
    data: keep(tensor(sub, { shape: [rows.length, p.width] })),
    targets: keep(tensor(Int32Array.from(rows, (r) => labels[r]), { shape: [rows.length] })),
    rows: Object.freeze(rows),
  };
  loaded.set(key, entry);
  return entry;
}

/** What the three bundled data sets share. */
abstract class BundledDataset extends data.TensorDataset<[Tensor, Tensor]> {
  /** Class names; `targets` holds indices into this list. */
  abstract readonly classes: string[];
  /** Names of the columns of `data`. */
  abstract readonly featureNames: string[];
  /** Rows of the full data set that this split holds, ascending. */
  readonly rows: readonly number[];

  protected constructor(loadedData: Loaded) {
    super(loadedData.data, loadedData.targets);
    this.rows = loadedData.rows;
  }

  /** Features, float32 [N, features] (kept: not freed by scopes). */
  get data(): Tensor {
    return this.tensors[0];
  }

  /** Labels, int32 [N] (kept). */
  get targets(): Tensor {
    return this.tensors[1];
  }
}

const DIGIT_PIXELS = Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`);

/**
 * UCI optical recognition of handwritten digits (1 797 images of 8×8 pixels, ten
 * classes of about 180). `get(i)` gives `[data row [64], label]`. `data` is float32
 * [N, 64] with the raw pixel values 0..16 (as scikit-learn's load_digits); `images`
 * is [N, 1, 8, 8] divided by 16, so in [0, 1] like torchvision images, for
 * convolutional models. `targets` are int32 digits 0–9.
 *
 * @example
 * ```ts
 * import { data } from 'ferrograd';
 * import { Digits } from 'ferrograd/datasets';
 *
 * const train = new Digits({ train: true });  // 80 % of each digit
 * const test = new Digits({ train: false });  // the other 20 %
 * const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true });
 * const cnnData = new data.TensorDataset(train.images, train.targets);
 * ```
 */
export class Digits extends BundledDataset {
  readonly classes = [...embedded.digits.classes];
  /** `pixel_<row>_<col>`, as scikit-learn names them. */
  readonly featureNames = [...DIGIT_PIXELS];
  readonly #loaded: Loaded;

  constructor(options: BundledOptions = {}) {
    const entry = load('Digits', embedded.digits, options);
    super(entry);
    this.#loaded = entry;
  }

  /** The pixels as float32 [N, 1, 8, 8] in [0, 1] (`data / 16`), made on first use and kept. */
  get images(): Tensor {
    const entry = this.#loaded;
    if (entry.images === undefined || entry.images.isDisposed) {
      entry.images = keep(tidy(() => this.data.div(16).reshape([this.length, 1, 8, 8])));
    }
    return entry.images;
  }
}

/**
 * Fisher's iris: 150 flowers, 4 measurements in cm, 3 species of 50. `data` is
 * float32 [N, 4], `targets` int32 [N].
 *
 * @example
 * ```ts
 * const iris = new Iris();
 * const [x0, y0] = iris.get(0); // [5.1, 3.5, 1.4, 0.2], 0 (setosa)
 * ```
 */
export class Iris extends BundledDataset {
  readonly classes = [...embedded.iris.classes];
  readonly featureNames = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];

  constructor(options: BundledOptions = {}) {
    super(load('Iris', embedded.iris, options));
  }
}

const CELL = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension'];

/**
 * Breast Cancer Wisconsin (diagnostic): 569 tumours, 30 features of the cell nuclei
 * (mean, standard error and worst of ten measurements), labels 0 = malignant (212),
 * 1 = benign (357). The features span very different scales: standardise them.
 *
 * @example
 * ```ts
 * const train = new BreastCancer({ train: true });
 * const mean = train.data.mean(0), std = train.data.std(0);
 * ```
 */
export class BreastCancer extends BundledDataset {
  readonly classes = [...embedded.breastCancer.classes];
  readonly featureNames = [...CELL.map((c) => `mean ${c}`), ...CELL.map((c) => `${c} error`), ...CELL.map((c) => `worst ${c}`)];

  constructor(options: BundledOptions = {}) {
    super(load('BreastCancer', embedded.breastCancer, options));
  }
}
