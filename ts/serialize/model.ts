// Whole models as bytes: the architecture as JSON in the safetensors header metadata,
// the weights (parameters and buffers) as the tensors. This is what lets a model cross
// threads (a worker rebuilds it from the bytes) and what a file on disk holds; PyTorch
// reads the same file as a plain state dict.

import { FerrogradError } from '../errors.js';
import { Module } from '../nn/module.js';
import { tidy } from '../scope.js';
import { save, load, loadMetadata } from '../io/safetensors.js';
import { ConfigReader, isJsonObject, type Json } from './json.js';
import { codecNamed, codecOf, registeredNames } from './registry.js';
import './builtins.js';

/** The metadata key holding the architecture JSON. */
export const ARCHITECTURE_KEY = 'ferrograd.architecture';
const FORMAT_VERSION = '1';

/**
 * Where a user-defined Module subclass comes from, so that another thread (or a later
 * process) can import it: the module file's URL or path, the export name and the
 * constructor arguments (JSON). The file must be importable where the model is loaded:
 * in a worker that means built JavaScript (`.js`/`.mjs`), not TypeScript.
 *
 * @example
 * ```ts
 * const source = { module: new URL('./tiny-model.js', import.meta.url).href, export: 'TinyModel', args: [100, 10] };
 * const bytes = saveModel(new TinyModel(100, 10), { source });
 * ```
 */
export interface ModuleSource {
  /** URL (`file://`, `https://`, or relative to the page) or absolute path of the module file. */
  module: string;
  /** The export that holds the class; default `'default'`. */
  export?: string;
  /** Constructor arguments, JSON only; default none. */
  args?: Json[];
}

/** A built-in layer or container: its registered name and constructor arguments. */
export interface LayerNode {
  type: string;
  config: Json;
  training: boolean;
  /** Containers only: children with their names, in order. */
  children?: [string, ArchitectureNode][];
}
/** A user-defined module: rebuilt by importing its source and calling the constructor. */
export interface SourceNode {
  type: '@source';
  module: string;
  export: string;
  args: Json[];
  training: boolean;
}
/** One node of a model's architecture JSON. */
export type ArchitectureNode = LayerNode | SourceNode;

const sources = new WeakMap<Module, ModuleSource>();

/**
 * Records where a user-defined module's class comes from, so that `saveModel` can
 * store it, also when it sits inside a Sequential. Returns the module.
 *
 * @example
 * ```ts
 * const model = withSource(new TinyModel(), { module: import.meta.url, export: 'TinyModel' });
 * offload(model); // the worker imports TinyModel from this file
 * ```
 */
export function withSource<M extends Module>(module: M, source: ModuleSource): M {
  sources.set(module, source);
  return module;
}

/** Options of `saveModel`. */
export interface SaveModelOptions {
  /** Where the root module's class comes from, when it is a user-defined subclass. */
  source?: ModuleSource;
  /** Extra string metadata stored beside the architecture. */
  metadata?: Record<string, string>;
}

/**
 * The architecture of `model` as JSON: every built-in layer with its constructor
 * arguments, containers with their children, user-defined modules by source.
 *
 * @example
 * ```ts
 * describeModel(new nn.Sequential(new nn.Linear(4, 2), new nn.ReLU()));
 * // { type: 'Sequential', config: { named: false }, training: true, children: [['0', { type: 'Linear', ... }], ...] }
 * ```
 */
export function describeModel(model: Module, source?: ModuleSource): ArchitectureNode {
  return describe(model, '', source);
}

function describe(m: Module, path: string, rootSource?: ModuleSource): ArchitectureNode {
  const source = (path === '' ? rootSource : undefined) ?? sources.get(m);
  if (source !== undefined) {
    // Absolute now: the loading thread (a worker) would resolve a relative path against its own script.
    return { type: '@source', module: importable(source.module), export: source.export ?? 'default', args: source.args ?? [], training: m.training };
  }
  const codec = codecOf(m);
  if (codec === undefined) {
    const where = path === '' ? 'the model' : `module "${path}"`;
    throw new FerrogradError(
      'usage',
      `saveModel: ${where} is a ${m.constructor.name}, which is not a built-in layer; ` +
        `pass { source: { module: <URL of the file exporting it>, export: '${m.constructor.name}', args: [...] } } ` +
        `(or wrap it with withSource()), or registerModule() it. Built-in: ${registeredNames().join(', ')}`,
    );
  }
  const node: LayerNode = { type: codec.name, config: codec.config(m), training: m.training };
  if (codec.container) node.children = [...m.namedChildren()].map(([k, c]) => [k, describe(c, path ? `${path}.${k}` : k)]);
  return node;
}

/**
 * Serializes a model, architecture and weights, to safetensors bytes. The weights are
 * the state dict under PyTorch's key names (PyTorch's `safetensors.torch.load_file`
 * reads them); the architecture is JSON in the header metadata. `loadModel` rebuilds it.
 *
 * @example
 * ```ts
 * const bytes = saveModel(new nn.Sequential(new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, 10)));
 * const copy = loadModel(bytes); // same layers, same weights
 * ```
 */
export function saveModel(model: Module, options: SaveModelOptions = {}): Uint8Array<ArrayBuffer> {
  if (!(model instanceof Module)) throw new FerrogradError('value', 'saveModel: expected an nn.Module');
  const architecture = describeModel(model, options.source);
  const metadata = { ...options.metadata, format: 'pt', 'ferrograd.format': FORMAT_VERSION, [ARCHITECTURE_KEY]: JSON.stringify(architecture) };
  // stateDict() makes new handles; the scope frees them once the bytes are written.
  return tidy(() => save(model.stateDict(), metadata));
}

/** A module class that `loadModel` may construct for a `@source` node. */
export type ModuleClass = new (...args: never[]) => Module;

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /**
   * Classes for user-defined modules, by export name (or by `"<module>#<export>"`),
   * for when they are already imported: then no dynamic import is needed.
   */
  classes?: Record<string, ModuleClass>;
}

/**
 * The architecture stored in `bytes` by `saveModel`, checked, without building it.
 *
 * @example
 * ```ts
 * readArchitecture(bytes).type; // 'Sequential'
 * ```
 */
export function readArchitecture(bytes: Uint8Array | ArrayBuffer): ArchitectureNode {
  const meta = loadMetadata(bytes);
  const text = meta[ARCHITECTURE_KEY];
  if (text === undefined) {
    throw new FerrogradError('value', `loadModel: the file has no "${ARCHITECTURE_KEY}" metadata; it is a plain state dict: build the model and call model.loadStateDict(load(bytes))`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FerrogradError('value', `loadModel: the architecture metadata is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return checkNode(parsed, 'the model');
}

function checkNode(v: unknown, where: string): ArchitectureNode {
  const bad = (what: string): never => {
    throw new FerrogradError('value', `loadModel: ${where} in the architecture ${what}`);
  };
  if (!isJsonObject(v)) return bad('is not an object');
  const { type, training } = v;
  if (typeof type !== 'string') return bad('has no "type" string');
  if (typeof training !== 'boolean') return bad('has no "training" boolean');
  if (type === '@source') {
    const { module, export: name, args } = v;
    if (typeof module !== 'string' || typeof name !== 'string' || !Array.isArray(args)) return bad('is a @source node without module, export and args');
    return { type, module, export: name, args, training };
  }
  const node: LayerNode = { type, config: v.config ?? null, training };
  if (v.children !== undefined) {
    const kids = v.children;
    if (!Array.isArray(kids)) return bad('has "children" that is not an array');
    node.children = kids.map((kid, i): [string, ArchitectureNode] => {
      if (!Array.isArray(kid) || kid.length !== 2 || typeof kid[0] !== 'string') return bad(`has a malformed child #${i}`);
      return [kid[0], checkNode(kid[1], `module "${where === 'the model' ? kid[0] : `${where}.${kid[0]}`}"`)];
    });
  }
  return node;
}

const sourceKey = (n: SourceNode): string => `${n.module}#${n.export}`;
const isSource = (n: ArchitectureNode): n is SourceNode => n.type === '@source' && 'module' in n;

function build(node: ArchitectureNode, classes: (n: SourceNode) => ModuleClass): Module {
  if (isSource(node)) {
    const made: unknown = Reflect.construct(classes(node), node.args);
    if (!(made instanceof Module)) {
      throw new FerrogradError('value', `loadModel: ${node.export} from ${node.module} did not construct an nn.Module (is it built on the same ferrograd?)`);
    }
    return made.train(node.training);
  }
  const codec = codecNamed(node.type);
  if (codec === undefined) {
    throw new FerrogradError('value', `loadModel: unknown layer type "${node.type}"; registerModule() it before loading (known: ${registeredNames().join(', ')})`);
  }
  const children = (node.children ?? []).map(([k, c]): [string, Module] => [k, build(c, classes)]);
  const m = codec.create(new ConfigReader(node.type, node.config), children);
  m.training = node.training;
  return m;
}

function finish(bytes: Uint8Array | ArrayBuffer, arch: ArchitectureNode, classes: (n: SourceNode) => ModuleClass): Module {
  const model = build(arch, classes);
  // The loaded tensors are only copied into the parameters: the scope frees them.
  tidy(() => {
    model.loadStateDict(load(bytes));
  });
  return model;
}

/**
 * Rebuilds a model saved by `saveModel`: its layers, weights, buffers and train/eval
 * mode. User-defined modules need their class: pass it in `classes`, or use
 * `loadModelAsync`, which imports it from the stored source.
 *
 * @example
 * ```ts
 * const model = loadModel(bytes);
 * const withCustom = loadModel(bytes, { classes: { TinyModel } });
 * ```
 */
export function loadModel(bytes: Uint8Array | ArrayBuffer, options: LoadModelOptions = {}): Module {
  const arch = readArchitecture(bytes);
  const given = options.classes ?? {};
  return finish(bytes, arch, (n) => {
    const cls = given[sourceKey(n)] ?? given[n.export];
    if (cls === undefined) {
      throw new FerrogradError(
        'usage',
        `loadModel: the model uses ${n.export} from ${n.module}; pass it as loadModel(bytes, { classes: { ${n.export} } }) or use await loadModelAsync(bytes) to import it`,
      );
    }
    return cls;
  });
}

function isModuleClass(v: unknown): v is ModuleClass {
  return typeof v === 'function' && v.prototype instanceof Module;
}

/** A path or URL as something `import()` accepts everywhere: absolute paths become file:// URLs. */
function importable(spec: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(spec) && !/^[a-zA-Z]:[\\/]/.test(spec)) return spec;
  if (spec.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(spec)) return `file://${spec.startsWith('/') ? '' : '/'}${spec.replace(/\\/g, '/')}`;
  // Relative specs resolve against the page (browsers) or the working directory (Node).
  const loc: unknown = Reflect.get(globalThis, 'location');
  const href: unknown = typeof loc === 'object' && loc !== null ? Reflect.get(loc, 'href') : undefined;
  const proc: unknown = Reflect.get(globalThis, 'process');
  const cwd: unknown = typeof proc === 'object' && proc !== null ? Reflect.get(proc, 'cwd') : undefined;
  const base = typeof href === 'string' ? href : `file://${typeof cwd === 'function' ? String(Reflect.apply(cwd, proc, [])) : ''}/`;
  return new URL(spec, base).href;
}

/**
 * `loadModel` that also imports user-defined module classes from the sources stored in
 * the file (each distinct file once). This is what a worker uses.
 *
 * @example
 * ```ts
 * const model = await loadModelAsync(bytes); // imports TinyModel from its stored URL
 * ```
 */
export async function loadModelAsync(bytes: Uint8Array | ArrayBuffer, options: LoadModelOptions = {}): Promise<Module> {
  const arch = readArchitecture(bytes);
  const needed = new Map<string, SourceNode>();
  const visit = (n: ArchitectureNode): void => {
    if (isSource(n)) needed.set(sourceKey(n), n);
    else for (const [, c] of n.children ?? []) visit(c);
  };
  visit(arch);
  const given = options.classes ?? {};
  const resolved = new Map<string, ModuleClass>();
  for (const [key, n] of needed) {
    const known = given[key] ?? given[n.export];
    if (known !== undefined) {
      resolved.set(key, known);
      continue;
    }
    let mod: unknown;
    try {
      mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ importable(n.module));
    } catch (e) {
      throw new FerrogradError('value', `loadModel: cannot import ${n.module} for ${n.export}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const cls: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, n.export) : undefined;
    if (!isModuleClass(cls)) {
      throw new FerrogradError(
        'value',
        `loadModel: ${n.module} has no export "${n.export}" that is an nn.Module class ` +
          '(if it is, the file imports a different copy of ferrograd than the loader)',
      );
    }
    resolved.set(key, cls);
  }
  return finish(bytes, arch, (n) => {
    const cls = resolved.get(sourceKey(n));
    if (cls === undefined) throw new FerrogradError('usage', `loadModel: ${n.export} was not resolved`);
    return cls;
  });
}
