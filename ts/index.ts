// ferrograd: neural networks in JavaScript and TypeScript on a SIMD Rust core. Data sets
// are in ferrograd/datasets (ts/datasets/), workers in ferrograd/worker (ts/worker/).

export { Tensor, where, type DType, type NestedArray, type BackwardOptions, type VarOptions } from './tensor.js';
export {
  tensor, fromArray, fromRows, weightedSum, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye,
  manualSeed, rand, randn, randint, randperm, cat, stack, type TensorOptions, type TensorDataOptions,
} from './creation.js';
export { noGrad, enableGrad, setGradEnabled, isGradEnabled } from './autograd.js';
export { tidy, keep } from './scope.js';
export { memory, releasePooledMemory, type MemoryInfo } from './memory.js';
export { FerrogradError } from './errors.js';
export * as nn from './nn/index.js';
export * as F from './functional.js';
export * as optim from './optim/index.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export * as models from './models/index.js';
export { save, load, loadMetadata } from './io/safetensors.js';
export { saveFile, loadFile } from './io/file.js';
export * as data from './data/index.js';
export {
  saveModel, loadModel, loadModelAsync, describeModel, readArchitecture, withSource, registerModule, ConfigReader,
  type ModuleSource, type SaveModelOptions, type LoadModelOptions, type ModuleClass, type ModuleCodec,
  type ArchitectureNode, type LayerNode, type SourceNode, type Json,
} from './serialize/index.js';
