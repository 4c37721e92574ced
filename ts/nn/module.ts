// Module: the base of every layer and model. Children and parameters are discovered
// from the instance's fields in definition order, so class fields and constructor
// assignments both register, as attribute assignment does in PyTorch.

import { FerrogradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { keep } from '../scope.js';
import { Parameter } from './parameter.js';

/** Options of `loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require exactly the module's keys (default true). */
  strict?: boolean;
}

/** What `loadStateDict` reports with `strict: false`. */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class for all neural network modules; subclasses implement `forward`.
 *
 * @example
 * ```ts
 * class TinyModel extends nn.Module {
 *   linear1 = new nn.Linear(100, 200);
 *   activation = new nn.ReLU();
 *   linear2 = new nn.Linear(200, 10);
 *   forward(x: Tensor) { return this.linear2.forward(this.activation.forward(this.linear1.forward(x))); }
 * }
 * ```
 */
export abstract class Module {
  /** True in training mode (the default), false after `eval()`. */
  training = true;
  readonly #buffers = new Map<string, Tensor | null>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Alias of `forward`, for code that reads like `model(x)`. */
  call(...inputs: Tensor[]): Tensor {
    return this.forward(...inputs);
  }

  /** Registers a non-learnable tensor saved in the state dict (e.g. running statistics). */
  registerBuffer(name: string, tensor: Tensor | null): void {
    if (tensor !== null) keep(tensor);
    this.#buffers.set(name, tensor);
  }

  /** Direct children, with their field names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  /** This module and all descendants, depth first, with dotted names ('' for this). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k);
  }
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }
  /** Own parameters (not children's), in field order. */
  *ownParameters(): Generator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) yield [k, v];
  }
  /** `[name, parameter]` pairs with PyTorch's dotted names, each parameter once. */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [name, m] of mods) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([name ? `${name}.${k}` : k, p]);
      }
    }
    return out;
  }
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }
  /** `[name, buffer]` pairs (running statistics and the like). */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [k, b] of m.#buffers) if (b !== null) out.push([name ? `${name}.${k}` : k, b]);
    }
    return out;
  }
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }
  /** Replaces a registered buffer's tensor (modules that update running statistics use it). */
  protected setBuffer(name: string, tensor: Tensor): void {
    const old = this.#buffers.get(name);
    this.#buffers.set(name, keep(tensor));
    if (old && old !== tensor) old.dispose();
  }
  protected getBuffer(name: string): Tensor | null {
    return this.#buffers.get(name) ?? null;
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Clears every parameter's gradient (PyTorch's default `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
  /** Calls `fn` on every module, children first, like PyTorch's `apply`. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Parameters and buffers by PyTorch's key names, as new handles on the same data. */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [k, p] of this.namedParameters()) sd[k] = p.detach();
    for (const [k, b] of this.namedBuffers()) sd[k] = b.detach();
    return sd;
  }

  /**
   * Copies values from `stateDict` into the parameters and buffers. Missing or
   * unexpected keys (with `strict`) and shape mismatches are reported together in one
   * error, and nothing is copied in that case.
   */
  loadStateDict(stateDict: Record<string, Tensor>, options: LoadStateDictOptions = {}): IncompatibleKeys {
    const strict = options.strict ?? true;
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const missingKeys = [...own.keys()].filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && unexpectedKeys.length) problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && missingKeys.length) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    for (const [k, t] of own) {
      const src = stateDict[k];
      if (src === undefined) continue;
      if (src.shape.join() !== t.shape.join()) {
        problems.push(
          `size mismatch for ${k}: copying a param with shape [${src.shape.join(', ')}] from checkpoint, the shape in current model is [${t.shape.join(', ')}].`,
        );
      }
    }
    if (problems.length) {
      throw new FerrogradError('value', `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = stateDict[k];
        if (src !== undefined) t.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Constructor arguments shown by `toString()`, as PyTorch's `extra_repr`. */
  extraRepr(): string {
    return '';
  }
  /** The module tree, formatted like PyTorch's repr. */
  toString(): string {
    const kids = [...this.namedChildren()];
    const name = this.constructor.name;
    if (kids.length === 0) return `${name}(${this.extraRepr()})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`);
    const extra = this.extraRepr();
    return `${name}(\n${extra ? `  ${extra}\n` : ''}${lines.join('\n')}\n)`;
  }
}
