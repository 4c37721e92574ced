// The layer registry behind saveModel/loadModel: each serializable module class is
// registered under a stable name with a codec that turns an instance into JSON
// constructor arguments and back. Weights never go through the codec: they travel in
// the state dict, so a codec only has to describe what the constructor needs.

import { FerrogradError } from '../errors.js';
import { Module } from '../nn/module.js';
import { ConfigReader, type Json } from './json.js';

/**
 * How one module class is written to and rebuilt from a model's architecture JSON.
 *
 * @example
 * ```ts
 * registerModule('Scale', Scale, {
 *   config: (m) => ({ factor: m.factor }),
 *   create: (c) => new Scale(c.num('factor')),
 * });
 * ```
 */
export interface ModuleCodec<M extends Module> {
  /** The constructor arguments of `m` as JSON (not its weights). */
  config(m: M): Json;
  /**
   * A fresh module from the stored config. Containers also receive their children,
   * already rebuilt, with their names, in order.
   */
  create(config: ConfigReader, children: [string, Module][]): M;
  /** True for containers (Sequential, ModuleList, ModuleDict): children are stored as nodes of their own. */
  container?: boolean;
}

/** A registered codec with the instance type erased (checked at the boundary instead). */
export interface Registered {
  readonly name: string;
  readonly container: boolean;
  config(m: Module): Json;
  create(config: ConfigReader, children: [string, Module][]): Module;
}

const byName = new Map<string, Registered>();
// Keyed by the exact constructor: a user subclass of Linear with a different forward
// must not be saved as a plain Linear, so subclasses are never matched implicitly.
const byClass = new Map<abstract new (...args: never[]) => Module, Registered>();

/**
 * Makes a module class serializable by `saveModel` and rebuildable by `loadModel`,
 * under `name`. Every built-in layer is registered by ferrograd; register your own
 * layers in a module that both threads import (or cross threads with a source, see
 * `ModuleSource`). Registering a name twice replaces the earlier codec.
 *
 * @example
 * ```ts
 * class Scale extends nn.Module {
 *   constructor(readonly factor: number) { super(); }
 *   forward(x: Tensor) { return x.mul(this.factor); }
 * }
 * registerModule('Scale', Scale, { config: (m) => ({ factor: m.factor }), create: (c) => new Scale(c.num('factor')) });
 * ```
 */
export function registerModule<M extends Module>(name: string, cls: abstract new (...args: never[]) => M, codec: ModuleCodec<M>): void {
  if (name.startsWith('@')) throw new FerrogradError('value', `registerModule: names starting with '@' are reserved, got "${name}"`);
  const entry: Registered = {
    name,
    container: codec.container ?? false,
    config(m: Module): Json {
      if (!(m instanceof cls)) throw new FerrogradError('usage', `saveModel: codec "${name}" was given a ${m.constructor.name}`);
      return codec.config(m);
    },
    create: (config, children) => codec.create(config, children),
  };
  const old = byName.get(name);
  if (old !== undefined) for (const [c, r] of byClass) if (r === old) byClass.delete(c);
  byName.set(name, entry);
  byClass.set(cls, entry);
}

/** The codec registered for exactly this module's class, if any. */
export function codecOf(m: Module): Registered | undefined {
  for (const [cls, entry] of byClass) if (m.constructor === cls) return entry;
  return undefined;
}

export function codecNamed(name: string): Registered | undefined {
  return byName.get(name);
}

/** Names of every registered module, for error messages. */
export function registeredNames(): string[] {
  return [...byName.keys()];
}
