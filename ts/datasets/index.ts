// The datasets namespace.

export { Digits, Iris, BreastCancer, type BundledOptions } from './bundled.js';
export { MNIST, FashionMNIST, type MNISTOptions } from './mnist.js';
export { parseIdx } from './idx.js';
