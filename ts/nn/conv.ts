// Conv2d: a learnable 2-D convolution with PyTorch's weight layout and initialisation.

import { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { FerrogradError } from '../errors.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as init from './init.js';
import * as F from '../functional.js';
import { pair, type IntOrPair } from '../size-args.js';

/** Options of `Conv2d`. */
export interface Conv2dOptions {
  stride?: IntOrPair;
  /** Zero padding on each side, `'valid'` or `'same'` (stride 1 only). */
  padding?: IntOrPair | 'valid' | 'same';
  dilation?: IntOrPair;
  groups?: number;
  bias?: boolean;
}

const tuple = (p: readonly number[]): string => `(${p.join(', ')})`;

/**
 * 2-D convolution over [N, inChannels, H, W] inputs with a weight of shape
 * [outChannels, inChannels/groups, kH, kW], initialised as PyTorch does: kaiming-uniform
 * (a = √5) for the weight, U(±1/√fan_in) for the bias.
 *
 * @example
 * ```ts
 * const conv1 = new nn.Conv2d(1, 10, 5);       // the lecture's CNN
 * conv1.forward(randn([64, 1, 28, 28])).shape; // [64, 10, 24, 24]
 * ```
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntOrPair,
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize);
    this.stride = pair('Conv2d', 'stride', options.stride ?? 1);
    this.dilation = pair('Conv2d', 'dilation', options.dilation ?? 1);
    const padding = options.padding ?? 0;
    this.padding = typeof padding === 'string' ? padding : pair('Conv2d', 'padding', padding);
    this.groups = options.groups ?? 1;
    const bad = (what: string, v: number, min: number): boolean => !Number.isInteger(v) || v < min;
    for (const [name, v, min] of [
      ['inChannels', inChannels, 0], ['outChannels', outChannels, 0], ['groups', this.groups, 1],
      ['kernelSize', this.kernelSize[0], 1], ['kernelSize', this.kernelSize[1], 1],
      ['stride', this.stride[0], 1], ['stride', this.stride[1], 1],
      ['dilation', this.dilation[0], 1], ['dilation', this.dilation[1], 1],
    ] as const) {
      if (bad(name, v, min)) throw new FerrogradError('value', `Conv2d: ${name} must be an integer ≥ ${min}, got ${v}`);
    }
    if (inChannels % this.groups !== 0) throw new FerrogradError('value', `Conv2d: inChannels ${inChannels} must be divisible by groups ${this.groups}`);
    if (outChannels % this.groups !== 0) throw new FerrogradError('value', `Conv2d: outChannels ${outChannels} must be divisible by groups ${this.groups}`);
    if (this.padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new FerrogradError('value', `Conv2d: padding='same' is not supported for strided convolutions (stride ${tuple(this.stride)})`);
    }
    this.weight = new Parameter(zeros([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = options.bias === false ? null : new Parameter(zeros([outChannels]));
    this.resetParameters();
  }

  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding[0] !== 0 || this.padding[1] !== 0) s += `, padding=${tuple(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${tuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
