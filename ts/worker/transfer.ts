// Comlink transfer handlers for tensors. A Tensor is a handle into one wasm instance's
// memory, so it cannot be structured-cloned: it crosses as shape + dtype + a typed
// array whose buffer is *transferred* (moved, not copied) and lands in the other
// thread's wasm memory. The typed array is the one copy out of wasm that reading a
// tensor costs anyway; no further copy is made on the way.
//
// Importing this module registers the handlers on the Comlink it was bundled with;
// both sides of every ferrograd worker import it, so both sides speak the format.

import { transferHandlers, type TransferHandler } from 'comlink';
import { Tensor, tensor, FerrogradError, type DType } from '../index.js';

/**
 * A tensor on the wire: what `postMessage` actually carries. Its data is over an
 * ArrayBuffer of its own (transferred) or, for DataParallel's shards, a view of shared memory.
 */
export interface TensorWire<B extends ArrayBufferLike = ArrayBuffer> {
  shape: number[];
  dtype: DType;
  data: Float32Array<B> | Int32Array<B>;
}

/** Several tensors on the wire: an array of them, or a record such as a state dict. */
export interface TensorsWire {
  keys: string[] | null;
  items: TensorWire[];
}

const freeAfterSend = new WeakSet<Tensor>();

/**
 * Marks a tensor to be freed as soon as it has been serialized for another thread,
 * for results computed only to be sent. Returns the tensor.
 *
 * @example
 * ```ts
 * expose({ double: (x: Tensor) => sendAndFree(x.mul(2)) });
 * ```
 */
export function sendAndFree<T extends Tensor>(t: T): T {
  freeAfterSend.add(t);
  return t;
}

function ownBuffer(data: Float32Array | Int32Array): Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> {
  // `data()` always returns a fresh array over its own ArrayBuffer; the check keeps
  // us from ever transferring (and so detaching) a buffer somebody else still uses.
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
    return data instanceof Float32Array ? new Float32Array(data.buffer) : new Int32Array(data.buffer);
  }
  return data instanceof Float32Array ? Float32Array.from(data) : Int32Array.from(data);
}

/**
 * Serializes one tensor to its wire form (copying it out of wasm memory once).
 *
 * @example
 * ```ts
 * const wire = toWire(x); // { shape, dtype, data }
 * port.postMessage(wire, [wire.data.buffer]);
 * ```
 */
export function toWire(t: Tensor): TensorWire {
  const wire: TensorWire = { shape: t.shape, dtype: t.dtype, data: ownBuffer(t.data()) };
  if (freeAfterSend.has(t)) t.dispose();
  return wire;
}

function isDType(v: unknown): v is DType {
  return v === 'float32' || v === 'int32';
}

/**
 * A tensor from its wire form, in this thread's wasm memory. Checks the wire first.
 *
 * @example
 * ```ts
 * port.onmessage = (e) => { const x = fromWire(e.data); };
 * ```
 */
export function fromWire(w: unknown): Tensor {
  if (typeof w !== 'object' || w === null) throw new FerrogradError('value', 'ferrograd/worker: a tensor message is not an object');
  const shape: unknown = Reflect.get(w, 'shape');
  const dtype: unknown = Reflect.get(w, 'dtype');
  const data: unknown = Reflect.get(w, 'data');
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isInteger(d) && d >= 0) || !isDType(dtype)) {
    throw new FerrogradError('value', `ferrograd/worker: a tensor message has shape ${JSON.stringify(shape)} and dtype ${String(dtype)}`);
  }
  const ok = dtype === 'float32' ? data instanceof Float32Array : data instanceof Int32Array;
  if (!ok || !(data instanceof Float32Array || data instanceof Int32Array)) {
    throw new FerrogradError('value', `ferrograd/worker: a ${dtype} tensor message carries ${Object.prototype.toString.call(data)}`);
  }
  const numel = shape.reduce((a: number, b: number) => a * b, 1);
  if (data.length !== numel) {
    throw new FerrogradError('value', `ferrograd/worker: a tensor message of shape [${shape.join(', ')}] carries ${data.length} values`);
  }
  return tensor(data, { shape, dtype });
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `Tensor` ↔ `TensorWire`, transferring the data buffer. Registered with Comlink when
 * ferrograd/worker is imported; exported for inspection and custom channels.
 *
 * @example
 * ```ts
 * const [wire, transfer] = tensorTransferHandler.serialize(x);
 * port.postMessage(wire, transfer); // wire.data.buffer is now detached
 * ```
 */
export const tensorTransferHandler: TransferHandler<Tensor, TensorWire> = {
  canHandle: (v: unknown): v is Tensor => v instanceof Tensor,
  serialize(t: Tensor): [TensorWire, Transferable[]] {
    const wire = toWire(t);
    return [wire, [wire.data.buffer]];
  },
  deserialize: (w: TensorWire): Tensor => fromWire(w),
};

/**
 * Arrays of tensors (`[x, y]`) and records of tensors (state dicts) as one message:
 * Comlink applies handlers to top-level values only, and a Tensor inside a plain
 * object would otherwise be structured-cloned into a useless empty object.
 *
 * @example
 * ```ts
 * await remote.updateWeights(model.stateDict()); // one message, every buffer transferred
 * ```
 */
export const tensorsTransferHandler: TransferHandler<Tensor[] | Record<string, Tensor>, TensorsWire> = {
  canHandle(v: unknown): v is Tensor[] | Record<string, Tensor> {
    const values = Array.isArray(v) ? v : isPlainRecord(v) ? Object.values(v) : null;
    return values !== null && values.length > 0 && values.every((t) => t instanceof Tensor);
  },
  serialize(v: Tensor[] | Record<string, Tensor>): [TensorsWire, Transferable[]] {
    const keys = Array.isArray(v) ? null : Object.keys(v);
    const items = (Array.isArray(v) ? v : Object.values(v)).map(toWire);
    return [{ keys, items }, items.map((w) => w.data.buffer)];
  },
  deserialize(w: TensorsWire): Tensor[] | Record<string, Tensor> {
    if (typeof w !== 'object' || w === null || !Array.isArray(w.items) || (w.keys !== null && (!Array.isArray(w.keys) || w.keys.length !== w.items.length))) {
      throw new FerrogradError('value', 'ferrograd/worker: a tensors message needs items (and keys, one per item, or null)');
    }
    const tensors: Tensor[] = [];
    try {
      for (const item of w.items) tensors.push(fromWire(item));
    } catch (e) {
      // One bad item fails the message; the good ones read so far must not leak.
      for (const t of tensors) t.dispose();
      throw e;
    }
    if (w.keys === null) return tensors;
    const out: Record<string, Tensor> = {};
    // defineProperty, not assignment: a key such as "__proto__" must stay a key.
    w.keys.forEach((k, i) => Object.defineProperty(out, k, { value: tensors[i], enumerable: true, writable: true, configurable: true }));
    return out;
  },
};

/** A thrown value on the wire, as Comlink's own 'throw' handler writes it (plus `kind`). */
export interface ThrownWire {
  isError: boolean;
  value: unknown;
}

/** What a thread sends back for a call that threw: a FerrogradError keeps its `kind`. */
export function serializeThrown(value: unknown): ThrownWire {
  if (value instanceof FerrogradError) return { isError: true, value: { message: value.message, name: value.name, stack: value.stack, kind: value.kind } };
  if (value instanceof Error) return { isError: true, value: { message: value.message, name: value.name, stack: value.stack } };
  return { isError: false, value };
}

/** The thrown value back from its wire form: a FerrogradError stays one. */
export function rebuildThrown(w: ThrownWire): unknown {
  if (!w.isError || typeof w.value !== 'object' || w.value === null) return w.value;
  const message: unknown = Reflect.get(w.value, 'message');
  const name: unknown = Reflect.get(w.value, 'name');
  const kind: unknown = Reflect.get(w.value, 'kind');
  const stack: unknown = Reflect.get(w.value, 'stack');
  const text = typeof message === 'string' ? message : 'an error in the other thread';
  // A FerrogradError comes back as one, so `instanceof` and `kind` work across threads.
  const e = name === 'FerrogradError' && typeof kind === 'string' ? new FerrogradError(kind, text) : Object.assign(new Error(text), w.value);
  if (typeof stack === 'string') e.stack = stack;
  return e;
}

// Comlink's handler for thrown values recognizes them by a private symbol; we keep its
// test and replace the (de)serialization, which would turn a FerrogradError into an Error.
const comlinkThrow = transferHandlers.get('throw');
const throwHandler: TransferHandler<{ value: unknown }, ThrownWire> = {
  canHandle: (v: unknown): v is { value: unknown } => comlinkThrow?.canHandle(v) === true,
  serialize: (t: { value: unknown }): [ThrownWire, Transferable[]] => [serializeThrown(t.value), []],
  deserialize(w: ThrownWire): never {
    throw rebuildThrown(w);
  },
};

transferHandlers.set('throw', throwHandler);
transferHandlers.set('ferrograd.tensor', tensorTransferHandler);
transferHandlers.set('ferrograd.tensors', tensorsTransferHandler);
