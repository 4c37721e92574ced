// Codecs for every built-in layer of ts/nn. Adding a layer to nn means adding one
// registerModule call here: its constructor arguments out, and back in.

import * as nn from '../nn/index.js';
import type { Module } from '../nn/module.js';
import { registerModule } from './registry.js';
import type { ConfigReader, Json } from './json.js';

/** IntOrPair fields are readonly arrays or numbers; JSON wants plain mutable ones. */
const size = (v: number | readonly number[]): Json => (typeof v === 'number' ? v : [...v]);

// ---- containers: their children are nodes of their own in the architecture

registerModule('Sequential', nn.Sequential, {
  container: true,
  config: (m) => ({ named: [...m.namedChildren()].some(([k], i) => k !== String(i)) }),
  create: (c, children) =>
    c.bool('named') ? new nn.Sequential(Object.fromEntries(children)) : new nn.Sequential(...children.map(([, m]) => m)),
});
registerModule('ModuleList', nn.ModuleList, {
  container: true,
  config: () => ({}),
  create: (_c, children) => new nn.ModuleList(children.map(([, m]) => m)),
});
registerModule('ModuleDict', nn.ModuleDict, {
  container: true,
  config: () => ({}),
  create: (_c, children) => new nn.ModuleDict(Object.fromEntries(children)),
});

// ---- layers without constructor arguments

const plain: [string, new () => Module][] = [
  ['Identity', nn.Identity],
  ['BinaryStep', nn.BinaryStep],
  ['Sigmoid', nn.Sigmoid],
  ['Tanh', nn.Tanh],
  ['ArcTan', nn.ArcTan],
  ['ReLU', nn.ReLU],
  ['GELU', nn.GELU],
];
for (const [name, cls] of plain) registerModule(name, cls, { config: () => ({}), create: () => new cls() });

// ---- layers with arguments

registerModule('Linear', nn.Linear, {
  config: (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null }),
  create: (c) => new nn.Linear(c.num('inFeatures'), c.num('outFeatures'), { bias: c.bool('bias') }),
});
registerModule('Flatten', nn.Flatten, {
  config: (m) => ({ startDim: m.startDim, endDim: m.endDim }),
  create: (c) => new nn.Flatten(c.num('startDim'), c.num('endDim')),
});
registerModule('LeakyReLU', nn.LeakyReLU, {
  config: (m) => ({ negativeSlope: m.negativeSlope }),
  create: (c) => new nn.LeakyReLU(c.num('negativeSlope')),
});
registerModule('PReLU', nn.PReLU, {
  // The initial value is irrelevant: the learned weight comes from the state dict.
  config: (m) => ({ numParameters: m.weight.numel() }),
  create: (c) => new nn.PReLU({ numParameters: c.num('numParameters') }),
});
registerModule('ELU', nn.ELU, {
  config: (m) => ({ alpha: m.alpha }),
  create: (c) => new nn.ELU(c.num('alpha')),
});
registerModule('Softplus', nn.Softplus, {
  config: (m) => ({ beta: m.beta, threshold: m.threshold }),
  create: (c) => new nn.Softplus({ beta: c.num('beta'), threshold: c.num('threshold') }),
});
registerModule('Softmax', nn.Softmax, {
  config: (m) => ({ dim: m.dim }),
  create: (c) => new nn.Softmax(c.num('dim')),
});
registerModule('LogSoftmax', nn.LogSoftmax, {
  config: (m) => ({ dim: m.dim }),
  create: (c) => new nn.LogSoftmax(c.num('dim')),
});
registerModule('Dropout', nn.Dropout, {
  config: (m) => ({ p: m.p }),
  create: (c) => new nn.Dropout(c.num('p')),
});
registerModule('Dropout2d', nn.Dropout2d, {
  config: (m) => ({ p: m.p }),
  create: (c) => new nn.Dropout2d(c.num('p')),
});
registerModule('Conv2d', nn.Conv2d, {
  config: (m) => ({
    inChannels: m.inChannels,
    outChannels: m.outChannels,
    kernelSize: size(m.kernelSize),
    stride: size(m.stride),
    padding: typeof m.padding === 'string' ? m.padding : size(m.padding),
    dilation: size(m.dilation),
    groups: m.groups,
    bias: m.bias !== null,
  }),
  create: (c) =>
    new nn.Conv2d(c.num('inChannels'), c.num('outChannels'), c.size('kernelSize'), {
      stride: c.size('stride'),
      padding: c.sizeOr('padding', ['same', 'valid']),
      dilation: c.size('dilation'),
      groups: c.num('groups'),
      bias: c.bool('bias'),
    }),
});
registerModule('MaxPool2d', nn.MaxPool2d, {
  config: (m) => ({ kernelSize: size(m.kernelSize), stride: size(m.stride), padding: size(m.padding), dilation: size(m.dilation), ceilMode: m.ceilMode }),
  create: (c) =>
    new nn.MaxPool2d(c.size('kernelSize'), { stride: c.size('stride'), padding: c.size('padding'), dilation: c.size('dilation'), ceilMode: c.bool('ceilMode') }),
});
registerModule('AvgPool2d', nn.AvgPool2d, {
  config: (m) => ({
    kernelSize: size(m.kernelSize),
    stride: size(m.stride),
    padding: size(m.padding),
    ceilMode: m.ceilMode,
    countIncludePad: m.countIncludePad,
  }),
  create: (c) =>
    new nn.AvgPool2d(c.size('kernelSize'), {
      stride: c.size('stride'),
      padding: c.size('padding'),
      ceilMode: c.bool('ceilMode'),
      countIncludePad: c.bool('countIncludePad'),
    }),
});
registerModule('AdaptiveAvgPool2d', nn.AdaptiveAvgPool2d, {
  config: (m) => (typeof m.outputSize === 'number' ? { outputSize: m.outputSize } : { outputSize: [m.outputSize[0], m.outputSize[1]] }),
  create: (c) => new nn.AdaptiveAvgPool2d(c.adaptive('outputSize')),
});

/** What both BatchNorm classes store of their constructor arguments. */
interface BatchNormFields {
  numFeatures: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
}
const batchNormConfig = (m: BatchNormFields): Json => ({
  numFeatures: m.numFeatures, eps: m.eps, momentum: m.momentum, affine: m.affine, trackRunningStats: m.trackRunningStats,
});
const batchNormOptions = (c: ConfigReader): nn.BatchNormOptions => ({
  eps: c.num('eps'), momentum: c.numOrNull('momentum'), affine: c.bool('affine'), trackRunningStats: c.bool('trackRunningStats'),
});
registerModule<nn.BatchNorm1d>('BatchNorm1d', nn.BatchNorm1d, {
  config: batchNormConfig,
  create: (c) => new nn.BatchNorm1d(c.num('numFeatures'), batchNormOptions(c)),
});
registerModule<nn.BatchNorm2d>('BatchNorm2d', nn.BatchNorm2d, {
  config: batchNormConfig,
  create: (c) => new nn.BatchNorm2d(c.num('numFeatures'), batchNormOptions(c)),
});
