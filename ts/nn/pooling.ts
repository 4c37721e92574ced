// Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d over NCHW inputs.

import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import * as F from '../functional.js';
import type { IntOrPair, AdaptiveSize, MaxPool2dOptions, AvgPool2dOptions } from '../functional-conv.js';

const show = (v: IntOrPair): string => (typeof v === 'number' ? String(v) : `(${v.join(', ')})`);
const pyBool = (b: boolean): string => (b ? 'True' : 'False');

/**
 * The second argument as PyTorch's positional `stride` (`new nn.MaxPool2d(2, 2)`, as in the
 * lecture) or as an options object.
 */
function isSize(v: unknown): v is IntOrPair {
  return typeof v === 'number' || Array.isArray(v);
}
function options<T extends object>(strideOrOptions: IntOrPair | T | undefined): T | { stride?: IntOrPair } {
  if (strideOrOptions === undefined) return {};
  if (isSize(strideOrOptions)) return { stride: strideOrOptions };
  return strideOrOptions;
}

/**
 * Max over kernelSize windows; stride defaults to the kernel size.
 *
 * @example
 * ```ts
 * const pool = new nn.MaxPool2d(2, 2);          // PyTorch's positional stride
 * const pool2 = new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true });
 * ```
 */
export class MaxPool2d extends Module {
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly dilation: IntOrPair;
  readonly ceilMode: boolean;
  constructor(
    readonly kernelSize: IntOrPair,
    strideOrOptions?: IntOrPair | MaxPool2dOptions,
  ) {
    super();
    const o: MaxPool2dOptions = options(strideOrOptions);
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.ceilMode = o.ceilMode ?? false;
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }
  override extraRepr(): string {
    return `kernel_size=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}, dilation=${show(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** Mean over kernelSize windows; stride defaults to the kernel size. @example `new nn.AvgPool2d(2)` */
export class AvgPool2d extends Module {
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  constructor(
    readonly kernelSize: IntOrPair,
    strideOrOptions?: IntOrPair | AvgPool2dOptions,
  ) {
    super();
    const o: AvgPool2dOptions = options(strideOrOptions);
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }
  override extraRepr(): string {
    return `kernel_size=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}`;
  }
}

/** Average pooling to a fixed output size. @example `new nn.AdaptiveAvgPool2d([1, 1])` */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === 'number' ? o : `(${o.map((v) => (v === null ? 'None' : String(v))).join(', ')})`}`;
  }
}
