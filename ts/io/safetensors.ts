// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header padded with spaces to a
// multiple of 8, then the raw little-endian data of every tensor, back to back.
// `save` writes byte for byte what the Rust/Python implementation writes; `load`
// checks the whole file before it creates a single tensor.
//
// No Node imports here: this module runs in browsers too (see ./file.ts for paths).

import { FerrogradError } from '../errors.js';
import { Tensor, fromTyped, type DType } from '../tensor.js';

/** The header's reserved key for the string → string metadata map. */
const METADATA_KEY = '__metadata__';
/** The Rust implementation refuses larger headers; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

/** How ferrograd reads each safetensors dtype it accepts. */
interface DTypeSpec {
  /** Bytes per element. */
  size: number;
  /** The ferrograd dtype the values become. */
  as: DType;
}

// F32 and I32 are read as they are; the others are converted exactly (F16, BF16, F8,
// the small integers and BOOL), rounded to nearest (F64), or range-checked (I64, U32,
// U64): a value that does not fit makes `load` refuse the file.
const DTYPES: Readonly<Record<string, DTypeSpec>> = {
  F32: { size: 4, as: 'float32' },
  I32: { size: 4, as: 'int32' },
  F64: { size: 8, as: 'float32' },
  F16: { size: 2, as: 'float32' },
  BF16: { size: 2, as: 'float32' },
  F8_E4M3: { size: 1, as: 'float32' },
  F8_E5M2: { size: 1, as: 'float32' },
  I64: { size: 8, as: 'int32' },
  U64: { size: 8, as: 'int32' },
  U32: { size: 4, as: 'int32' },
  I16: { size: 2, as: 'int32' },
  U16: { size: 2, as: 'int32' },
  I8: { size: 1, as: 'int32' },
  U8: { size: 1, as: 'int32' },
  BOOL: { size: 1, as: 'int32' },
};

/** safetensors' dtype order (by alignment); `save` sorts by it, descending, then by name. */
const DTYPE_RANK: Readonly<Record<string, number>> = { I32: 9, F32: 11 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new FerrogradError('value', `load: ${message}`);
}

/** A key as the messages show it. */
const q = (key: string): string => JSON.stringify(key);

/** Orders strings by their UTF-8 bytes (= by code point), as Rust's `str::cmp`. */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Sets `obj[key]` as an own property even for keys like `__proto__`. */
function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- save

/**
 * Serializes tensors (and optional string metadata) to the safetensors format, byte
 * for byte as the Rust and Python implementations write it: tensors sorted by dtype
 * (float32 before int32) and then by name, the header padded to a multiple of 8.
 * float32 is written as `F32`, int32 as `I32`.
 *
 * @example
 * ```ts
 * const bytes = save({ weight: randn([3, 4]), bias: zeros([3]) }, { format: 'pt' });
 * const back = load(bytes); // { bias, weight }
 * ```
 */
export function save(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  if (!isRecord(tensors)) throw new FerrogradError('value', 'save: expected an object mapping names to tensors');
  const entries: { name: string; dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }[] = [];
  for (const name of Object.keys(tensors)) {
    const t: unknown = tensors[name];
    if (name === METADATA_KEY) {
      throw new FerrogradError('value', `save: ${q(name)} is reserved for the metadata; pass metadata as the second argument`);
    }
    if (!(t instanceof Tensor)) throw new FerrogradError('value', `save: the value of ${q(name)} is not a Tensor`);
    if (t.isDisposed) throw new FerrogradError('freed', `save: tensor ${q(name)} has been freed`);
    entries.push({ name, dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data: t.data() });
  }
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (!isRecord(metadata)) throw new FerrogradError('value', 'save: metadata must be an object mapping strings to strings');
    const meta: Record<string, string> = {};
    for (const key of Object.keys(metadata)) {
      const v: unknown = metadata[key];
      if (typeof v !== 'string') throw new FerrogradError('value', `save: metadata ${q(key)} must be a string, got ${typeof v}`);
      define(meta, key, v);
    }
    define(header, METADATA_KEY, meta);
  }
  entries.sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(a.name, b.name));
  let offset = 0;
  for (const e of entries) {
    define(header, e.name, { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] });
    offset += e.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const { data } of entries) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else if (data instanceof Float32Array) {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
    } else {
      for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i], true);
    }
    at += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------- header

interface Entry {
  name: string;
  dtype: string;
  spec: DTypeSpec;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

interface Header {
  entries: Entry[];
  metadata: Record<string, string>;
  /** Where the data section starts in `bytes`. */
  dataStart: number;
  bytes: Uint8Array;
}

function asBytes(bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  return fail(`expected the file's bytes as a Uint8Array or ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
}

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks the header and the layout of the data; reads no tensor data. */
function parseHeader(input: unknown): Header {
  const bytes = asBytes(input);
  if (bytes.length < 8) fail(`the buffer has ${bytes.length} bytes, fewer than the 8 of the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_BYTES) fail(`the header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (8 + n > bytes.length) fail(`the header length ${n} runs past the end of the ${bytes.length}-byte buffer`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('the header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isRecord(parsed)) fail('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (name === METADATA_KEY) {
      if (!isRecord(value)) fail(`${METADATA_KEY} must be an object mapping strings to strings`);
      for (const key of Object.keys(value)) {
        const v = value[key];
        if (typeof v !== 'string') fail(`${METADATA_KEY} ${q(key)} must be a string, got ${JSON.stringify(v)}`);
        define(metadata, key, v);
      }
      continue;
    }
    entries.push(parseEntry(name, value));
  }

  // The data must be covered exactly: sorted by offsets, each tensor starts where
  // the previous one ends, the first at 0 and the last at the end of the buffer.
  const dataLength = bytes.length - 8 - n;
  for (const e of entries) {
    if (e.end > dataLength) {
      fail(`tensor ${q(e.name)} has data_offsets [${e.begin}, ${e.end}] beyond the ${dataLength} bytes of data (the file may be truncated)`);
    }
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < at) {
      fail(`tensor ${q(e.name)} with data_offsets [${e.begin}, ${e.end}] overlaps tensor ${q(previous?.name ?? '')} ending at ${at}`);
    }
    if (e.begin > at) {
      fail(
        `tensor ${q(e.name)} starts at byte ${e.begin} but ` +
          (previous === null ? 'the first tensor must start at 0' : `tensor ${q(previous.name)} ends at ${at}`) +
          ' (the data must be contiguous)',
      );
    }
    at = e.end;
    previous = e;
  }
  if (at !== dataLength) fail(`the tensors cover ${at} bytes of data but the buffer holds ${dataLength} (trailing bytes)`);
  return { entries, metadata, dataStart: 8 + n, bytes };
}

function parseEntry(name: string, value: unknown): Entry {
  if (!isRecord(value)) fail(`the header entry of tensor ${q(name)} is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') fail(`tensor ${q(name)} has no dtype string`);
  const spec = Object.prototype.hasOwnProperty.call(DTYPES, dtype) ? DTYPES[dtype] : undefined;
  if (spec === undefined) {
    fail(`tensor ${q(name)} has dtype ${q(dtype)}, which ferrograd cannot load (it reads ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    fail(`tensor ${q(name)} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    fail(`tensor ${q(name)} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] as non-negative integers`);
  }
  const sizes: number[] = shape;
  const [begin, end]: number[] = offsets;
  if (end < begin) fail(`tensor ${q(name)} has data_offsets [${begin}, ${end}] that end before they begin`);
  const numel = sizes.reduce((a, b) => a * b, 1);
  const nbytes = numel * spec.size;
  if (!Number.isSafeInteger(nbytes)) fail(`tensor ${q(name)} has shape [${sizes.join(', ')}], too large to address`);
  if (nbytes !== end - begin) {
    fail(
      `tensor ${q(name)} of dtype ${dtype} and shape [${sizes.join(', ')}] needs ${nbytes} bytes ` +
        `but its data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, spec, shape: sizes, numel, begin, end };
}

// ---------------------------------------------------------------- decoding

/** float32 bits of an IEEE half (exact). */
function halfBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return sign | 0x7f800000 | (mant << 13);
  if (exp !== 0) return sign | ((exp + 112) << 23) | (mant << 13);
  if (mant === 0) return sign;
  let e = 113; // subnormal: shift the mantissa up to a leading 1
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return sign | (e << 23) | ((mant & 0x3ff) << 13);
}

/** Value of an FP8 E4M3 (the "fn" variant: no infinities, S.1111.111 is NaN). */
function e4m3(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const mant = b & 7;
  if (exp === 0xf && mant === 7) return NaN;
  return sign * (exp === 0 ? mant * 2 ** -9 : (1 + mant / 8) * 2 ** (exp - 7));
}

/** The values of one entry as a typed array of its ferrograd dtype; throws on a value that does not fit. */
function decode(e: Entry, bytes: Uint8Array, start: number): Float32Array | Int32Array {
  const { name, dtype, numel } = e;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, e.end - e.begin);
  if ((dtype === 'F32' || dtype === 'I32') && LITTLE_ENDIAN) {
    // A copy, aligned. Not `bytes.slice`: on a Node Buffer that is a view of the whole pool.
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(start, start + copy.length));
    return dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  }
  const tooBig = (i: number, v: string): never =>
    fail(`tensor ${q(name)} of dtype ${dtype} holds ${v} at flat index ${i}, outside the int32 range ferrograd loads it into`);
  if (e.spec.as === 'float32') {
    const out = new Float32Array(numel);
    switch (dtype) {
      case 'F32':
        for (let i = 0; i < numel; i++) out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F64':
        for (let i = 0; i < numel; i++) {
          const v = view.getFloat64(8 * i, true);
          out[i] = v;
          if (Number.isFinite(v) && !Number.isFinite(out[i])) {
            fail(`tensor ${q(name)} of dtype F64 holds ${v} at flat index ${i}, outside the float32 range ferrograd loads it into`);
          }
        }
        break;
      case 'F16':
      case 'BF16': {
        const bits = new Uint32Array(out.buffer);
        const bf = dtype === 'BF16';
        for (let i = 0; i < numel; i++) {
          const h = view.getUint16(2 * i, true);
          bits[i] = bf ? h << 16 : halfBits(h);
        }
        break;
      }
      case 'F8_E5M2': {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < numel; i++) bits[i] = halfBits(view.getUint8(i) << 8);
        break;
      }
      case 'F8_E4M3':
        for (let i = 0; i < numel; i++) out[i] = e4m3(view.getUint8(i));
        break;
    }
    return out;
  }
  const out = new Int32Array(numel);
  switch (dtype) {
    case 'I32':
      for (let i = 0; i < numel; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'I64':
    case 'U64':
      for (let i = 0; i < numel; i++) {
        const lo = view.getUint32(8 * i, true);
        const hi = view.getUint32(8 * i + 4, true);
        // In range when the high word is the sign extension of the low one.
        const ok = dtype === 'U64' ? hi === 0 && lo < 2 ** 31 : hi === (lo >= 2 ** 31 ? 0xffffffff : 0);
        if (!ok) {
          tooBig(i, String(dtype === 'U64' ? view.getBigUint64(8 * i, true) : view.getBigInt64(8 * i, true)));
        }
        out[i] = lo | 0;
      }
      break;
    case 'U32':
      for (let i = 0; i < numel; i++) {
        const v = view.getUint32(4 * i, true);
        if (v >= 2 ** 31) tooBig(i, String(v));
        out[i] = v;
      }
      break;
    case 'I16':
      for (let i = 0; i < numel; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < numel; i++) out[i] = view.getUint16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < numel; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < numel; i++) out[i] = view.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < numel; i++) {
        const v = view.getUint8(i);
        if (v > 1) fail(`tensor ${q(name)} of dtype BOOL holds byte ${v} at flat index ${i}; booleans must be 0 or 1`);
        out[i] = v;
      }
      break;
  }
  return out;
}

// ---------------------------------------------------------------- load

/**
 * Reads a safetensors file's bytes into a dict of tensors. The whole file is checked
 * first (header length, UTF-8 JSON, dtypes, shapes against offsets, offsets
 * contiguous and covering the data exactly, every value convertible), so a bad file
 * throws a `FerrogradError` of kind `'value'` naming the tensor and the problem, and
 * creates no tensor at all.
 *
 * F32 and I32 load as they are. F16, BF16, F8_E4M3, F8_E5M2, I16, U16, I8, U8 and BOOL
 * are converted exactly (to float32, or to int32 with booleans as 0/1); F64 is
 * rounded to float32 (refused if a value overflows); I64, U64 and U32 become int32
 * when every value fits, and are refused otherwise. The tensors belong to the scope
 * that is open, like any new tensor.
 *
 * @example
 * ```ts
 * const state = load(new Uint8Array(await (await fetch('model.safetensors')).arrayBuffer()));
 * state['0.weight'].shape; // [3, 4]
 * ```
 */
export function load(bytes: Uint8Array | ArrayBuffer): Record<string, Tensor> {
  const header = parseHeader(bytes);
  // Decode everything before creating anything: a value that does not fit throws here.
  const decoded = header.entries.map((e) => decode(e, header.bytes, header.dataStart + e.begin));
  const out: Record<string, Tensor> = {};
  const made: Tensor[] = [];
  try {
    header.entries.forEach((e, i) => {
      const t = fromTyped(decoded[i], e.shape);
      made.push(t);
      define(out, e.name, t);
    });
  } catch (err) {
    // Out of wasm memory, say: free what was made rather than return half a dict.
    for (const t of made) t.dispose();
    throw err;
  }
  return out;
}

/**
 * The `__metadata__` map of a safetensors file (empty when it has none). The header
 * and layout are checked as by `load`; no tensor is created.
 *
 * @example
 * ```ts
 * loadMetadata(save({ w: ones([2]) }, { format: 'pt' })); // { format: 'pt' }
 * ```
 */
export function loadMetadata(bytes: Uint8Array | ArrayBuffer): Record<string, string> {
  return parseHeader(bytes).metadata;
}
