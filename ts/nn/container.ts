// Containers: Sequential, ModuleList, ModuleDict.

import { Tensor } from '../tensor.js';
import { FerrogradError } from '../errors.js';
import { Module } from './module.js';

function describe(m: Module, i: string): string {
  return `(${i}): ${m.toString().split('\n')[0]}`;
}

/**
 * Applies its modules in order. Children are named '0', '1', … as in PyTorch, or by
 * the keys of an object.
 *
 * @example
 * ```ts
 * const mlp = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * mlp.stateDict(); // keys '0.weight', '0.bias', '2.weight', '2.bias'
 * ```
 */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    const entries: [string, Module][] =
      modules.length === 1 && first !== undefined && !(first instanceof Module)
        ? Object.entries(first)
        : modules.filter((m): m is Module => m instanceof Module).map((m, i) => [String(i), m]);
    for (const [k, m] of entries) Object.defineProperty(this, k, { value: m, enumerable: true, writable: true });
  }
  get length(): number {
    return [...this.children()].length;
  }
  at(i: number): Module {
    const kids = [...this.children()];
    const m = kids[i < 0 ? i + kids.length : i];
    if (!m) throw new FerrogradError('value', `Sequential: index ${i} is out of range for ${kids.length} modules`);
    return m;
  }
  /** Runs the modules in order; a failing layer is named in the error with the input shape it got. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const [k, m] of this.namedChildren()) {
      try {
        h = m.forward(h);
      } catch (e) {
        if (e instanceof FerrogradError && !e.message.startsWith('Sequential')) {
          throw new FerrogradError(e.kind, `Sequential layer ${describe(m, k)} got input of shape [${h.shape.join(', ')}]: ${e.message}`);
        }
        throw e;
      }
    }
    return h;
  }
  *[Symbol.iterator](): Iterator<Module> {
    yield* this.children();
  }
}

/** A list of modules whose parameters register; it has no forward of its own. */
export class ModuleList extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }
  append(m: Module): this {
    Object.defineProperty(this, String(this.length), { value: m, enumerable: true, writable: true });
    return this;
  }
  get length(): number {
    return [...this.children()].length;
  }
  at(i: number): Module {
    const kids = [...this.children()];
    const m = kids[i < 0 ? i + kids.length : i];
    if (!m) throw new FerrogradError('value', `ModuleList: index ${i} is out of range for ${kids.length} modules`);
    return m;
  }
  forward(): Tensor {
    throw new FerrogradError('usage', 'ModuleList has no forward: iterate over it and call each module');
  }
  *[Symbol.iterator](): Iterator<Module> {
    yield* this.children();
  }
}

/** Modules by name; their parameters register under those names. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }
  set(key: string, m: Module): this {
    Object.defineProperty(this, key, { value: m, enumerable: true, writable: true, configurable: true });
    return this;
  }
  get(key: string): Module | undefined {
    for (const [k, m] of this.namedChildren()) if (k === key) return m;
    return undefined;
  }
  keys(): string[] {
    return [...this.namedChildren()].map(([k]) => k);
  }
  forward(): Tensor {
    throw new FerrogradError('usage', 'ModuleDict has no forward: look modules up by key and call them');
  }
}
