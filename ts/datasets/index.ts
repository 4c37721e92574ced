/**
 * ferrograd/datasets: real data sets to learn on, as `torchvision.datasets` sits beside
 * `torch`. Digits, Iris and BreastCancer ship inside this entry (no files, no network);
 * MNIST and FashionMNIST read the standard IDX files from a folder or URL, and download
 * them on request. A separate entry so that the package's main file stays small; it
 * uses the main entry's tensors and wasm instance, not copies of them.
 *
 * @example
 * ```ts
 * import { data } from 'ferrograd';
 * import { Digits } from 'ferrograd/datasets';
 *
 * const train = new Digits({ train: true });
 * const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true });
 * ```
 *
 * @packageDocumentation
 */

// Imports from the core come only through ../index.js (see rollup.config.mjs).
export { Digits, Iris, BreastCancer, type BundledOptions } from './bundled.js';
export { MNIST, FashionMNIST, type MNISTOptions } from './mnist.js';
export { parseIdx } from './idx.js';
