// The small real data sets shipped inside the package (see NOTICE): UCI handwritten
// digits, iris and breast cancer. Each is a TensorDataset of (features, label).

import { Tensor, fromTyped } from '../tensor.js';
import { keep } from '../scope.js';
import { TensorDataset } from '../data/dataset.js';
import * as embedded from './data.generated.js';

interface Packed {
  n: number;
  width: number;
  features: string;
  labels: string;
}

function bytes(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function unpack(p: Packed, u8Features: boolean): [Tensor, Tensor] {
  const raw = bytes(p.features);
  const features = u8Features ? Float32Array.from(raw) : new Float32Array(raw.buffer);
  return [keep(fromTyped(features, [p.n, p.width])), keep(fromTyped(Int32Array.from(bytes(p.labels)), [p.n]))];
}

/**
 * UCI optical recognition of handwritten digits: 1 797 images of 8×8 pixels with
 * values 0..16. `data` is float32 [1797, 64] with those raw values, `images` the same
 * pixels as [1797, 1, 8, 8] scaled to [0, 1] (÷16), `targets` int32 digits 0–9.
 *
 * @example
 * ```ts
 * const digits = new datasets.Digits();
 * const [x0, y0] = digits.get(0); // [64], 0-d int32
 * ```
 */
export class Digits extends TensorDataset {
  readonly classes = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  readonly images: Tensor;
  constructor() {
    const [x, y] = unpack(embedded.digits, true);
    super(x, y);
    this.images = keep(x.div(16).reshape([x.shape[0], 1, 8, 8]));
  }
  get data(): Tensor {
    return this.tensors[0];
  }
  get targets(): Tensor {
    return this.tensors[1];
  }
}

/** Fisher's iris: 150 flowers, 4 measurements in cm, 3 species (50 each). */
export class Iris extends TensorDataset {
  readonly classes = ['setosa', 'versicolor', 'virginica'];
  readonly featureNames = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
  constructor() {
    super(...unpack(embedded.iris, false));
  }
  get data(): Tensor {
    return this.tensors[0];
  }
  get targets(): Tensor {
    return this.tensors[1];
  }
}

const CELL = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension'];

/**
 * Breast Cancer Wisconsin (diagnostic): 569 tumours, 30 features, labels
 * 0 = malignant (212), 1 = benign (357).
 */
export class BreastCancer extends TensorDataset {
  readonly classes = ['malignant', 'benign'];
  readonly featureNames = [...CELL.map((c) => `mean ${c}`), ...CELL.map((c) => `${c} error`), ...CELL.map((c) => `worst ${c}`)];
  constructor() {
    super(...unpack(embedded.breastCancer, false));
  }
  get data(): Tensor {
    return this.tensors[0];
  }
  get targets(): Tensor {
    return this.tensors[1];
  }
}
