// The nn namespace.

export { Module, type LoadStateDictOptions, type IncompatibleKeys } from './module.js';
export { Parameter } from './parameter.js';
export { Linear, Identity, Flatten, type LinearOptions } from './linear.js';
export { Sequential, ModuleList, ModuleDict } from './container.js';
export {
  BinaryStep, Sigmoid, Tanh, ArcTan, ReLU, LeakyReLU, PReLU, ELU, Softplus, GELU, Softmax, LogSoftmax,
  type PReLUOptions, type SoftplusOptions,
} from './activation.js';
export { Dropout, Dropout2d } from './dropout.js';
export { MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, HingeLoss, PerceptronLoss, CrossEntropyLoss, NLLLoss, KLDivLoss } from './loss.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export {
  RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, RNNBase, RNNCellBase, padSequence, rnnLayer,
  type RNNOptions, type RNNBaseOptions, type RNNForwardOptions, type RNNCellOptions, type PadSequenceOptions,
} from './rnn.js';
export { Embedding, type EmbeddingModuleOptions } from './embedding.js';
export * as init from './init.js';
export * as utils from './utils.js';
