// JSON values and a small checked reader for the constructor arguments stored in a
// model's architecture: a file from elsewhere must fail with a message naming the
// layer and the field, never build a half-valid module.

import { FerrogradError } from '../errors.js';

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isJsonObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads typed fields out of one layer's stored config; every miss names the layer.
 * `registerModule` codecs receive one in `create`.
 *
 * @example
 * ```ts
 * create: (c) => new nn.Linear(c.num('inFeatures'), c.num('outFeatures'), { bias: c.bool('bias') })
 * ```
 */
export class ConfigReader {
  constructor(
    readonly layer: string,
    readonly config: Json,
  ) {}

  #fail(key: string, expected: string, got: Json | undefined): never {
    throw new FerrogradError('value', `loadModel: ${this.layer} config field "${key}" must be ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  }
  #get(key: string): Json | undefined {
    return isJsonObject(this.config) && Object.prototype.hasOwnProperty.call(this.config, key) ? this.config[key] : undefined;
  }
  num(key: string): number {
    const v = this.#get(key);
    return typeof v === 'number' ? v : this.#fail(key, 'a number', v);
  }
  bool(key: string): boolean {
    const v = this.#get(key);
    return typeof v === 'boolean' ? v : this.#fail(key, 'a boolean', v);
  }
  numOrNull(key: string): number | null {
    const v = this.#get(key);
    return v === null || typeof v === 'number' ? v : this.#fail(key, 'a number or null', v);
  }
  /** A number or an array of numbers (kernel sizes, strides, paddings). */
  size(key: string): number | number[] {
    const v = this.#get(key);
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.every((x): x is number => typeof x === 'number')) return v;
    return this.#fail(key, 'a number or an array of numbers', v);
  }
  /** A size, or one of the given strings (Conv2d's 'same' / 'valid' padding). */
  sizeOr<const S extends string>(key: string, words: readonly S[]): number | number[] | S {
    const v = this.#get(key);
    const word = words.find((w) => w === v);
    return word ?? this.size(key);
  }
  /** AdaptiveAvgPool2d's output size: a number or [h | null, w | null]. */
  adaptive(key: string): number | [number | null, number | null] {
    const v = this.#get(key);
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.length === 2) {
      const [h, w] = v;
      if ((h === null || typeof h === 'number') && (w === null || typeof w === 'number')) return [h, w];
    }
    return this.#fail(key, 'a number or [h, w] with numbers or nulls', v);
  }
}
