// safetensors save/load: the bytes follow the format (checked by an independent
// parser here), files written on the PyTorch side load to the same values and give the
// same forward pass, and every malformed file throws without creating a tensor.
// Runs in Node and in Chromium: the binary fixtures come as base64 inside the JSON.
import { describe, expect, it } from 'vitest';
import { FerrogradError, fromArray, memory, tidy, type Tensor } from '../../ts/index.js';
import { load, loadMetadata, save } from '../../ts/io/safetensors.js';
import { loadFile, saveFile } from '../../ts/io/file.js';
import sequential from '../fixtures/sequential.json' with { type: 'json' };
import dtypes from '../fixtures/dtypes.json' with { type: 'json' };

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();

/** The format, parsed here without the library: length prefix, JSON, data. */
function parse(bytes: Uint8Array): { n: number; text: string; header: Record<string, unknown>; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const header: unknown = JSON.parse(text);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('header is not an object');
  return { n, text, header: { ...header }, data: bytes.subarray(8 + n) };
}

/** Builds a file by hand: `header` as given (object or raw text), padded, then `data`. */
function build(header: object | string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  const json = utf8.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const n = pad ? json.length + ((8 - (json.length % 8)) % 8) : json.length;
  const out = new Uint8Array(8 + n + data.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

const le = (values: number[], kind: 'f32' | 'i32' | 'f64' | 'u16' | 'u8' | 'i64' | 'u32'): Uint8Array => {
  const size = { f32: 4, i32: 4, f64: 8, u16: 2, u8: 1, i64: 8, u32: 4 }[kind];
  const v = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((x, i) => {
    if (kind === 'f32') v.setFloat32(4 * i, x, true);
    else if (kind === 'i32') v.setInt32(4 * i, x, true);
    else if (kind === 'u32') v.setUint32(4 * i, x, true);
    else if (kind === 'f64') v.setFloat64(8 * i, x, true);
    else if (kind === 'u16') v.setUint16(2 * i, x, true);
    else if (kind === 'i64') v.setBigInt64(8 * i, BigInt(x), true);
    else v.setUint8(i, x);
  });
  return new Uint8Array(v.buffer);
};

/** Loads and returns [dtype, shape, values] of one tensor, freeing it. */
function one(bytes: Uint8Array, key = 'x'): [string, number[], number[]] {
  const t = load(bytes)[key];
  const r: [string, number[], number[]] = [t.dtype, t.shape, Array.from(t.data())];
  t.dispose();
  return r;
}

/** Expects `load(bytes)` to throw a 'value' FerrogradError matching `patterns`, creating no tensor. */
function expectRefused(bytes: unknown, ...patterns: (string | RegExp)[]): void {
  const before = memory().tensors;
  let error: unknown;
  try {
    // Reflect.apply: some cases pass what the types forbid, to test the runtime checks.
    Reflect.apply(load, undefined, [bytes]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FerrogradError);
  if (!(error instanceof FerrogradError)) return;
  expect(error.kind).toBe('value');
  expect(error.message).toMatch(/^load: /);
  for (const p of patterns) expect(error.message).toMatch(p);
  expect(memory().tensors).toBe(before);
}

const dispose = (d: Record<string, Tensor>): void => Object.values(d).forEach((t) => t.dispose());

describe('safetensors save', () => {
  it('round-trips shapes, dtypes and bit-exact values', () => {
    const before = memory().tensors;
    const special = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 1 / 3]);
    const tensors: Record<string, Tensor> = {
      'layer.weight': fromArray(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 10), [3, 4]),
      special: fromArray(special, [2, 2, 2]),
      ints: fromArray(new Int32Array([-2147483648, -1, 0, 2147483647]), [4]),
      scalar: fromArray(new Float32Array([2.5]), []),
      empty: fromArray(new Int32Array(0), [0, 3]),
      'ключ 🔑': fromArray(new Float32Array([1, 2]), [2]),
    };
    Object.defineProperty(tensors, '__proto__', { value: fromArray(new Float32Array([7]), [1]), enumerable: true });
    const back = load(save(tensors));
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors)) {
      const u = back[k];
      expect(u.shape, k).toEqual(t.shape);
      expect(u.dtype, k).toBe(t.dtype);
      // Compare the bits, so that -0 and NaN count.
      const bits = (x: Tensor): number[] => Array.from(new Uint32Array(x.data().buffer));
      expect(bits(u), k).toEqual(bits(t));
    }
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    dispose(back);
    dispose(tensors);
    expect(memory().tensors).toBe(before);
  });

  it('writes the layout the format specifies', () => {
    const a = fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = fromArray(new Int32Array([1, 2, 3]), [3]);
    const c = fromArray(new Float32Array([9]), []);
    const bytes = save({ zeta: c, b, a }, { format: 'pt', note: 'x"y' });
    const { n, text, header, data } = parse(bytes);
    expect(n % 8).toBe(0);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    // Compact JSON, metadata first, then float32 before int32, each sorted by name.
    expect(Object.keys(header)).toEqual(['__metadata__', 'a', 'zeta', 'b']);
    expect(header.__metadata__).toEqual({ format: 'pt', note: 'x"y' });
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","note":"x\\"y"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' +
        '"zeta":{"dtype":"F32","shape":[],"data_offsets":[24,28]},"b":{"dtype":"I32","shape":[3],"data_offsets":[28,40]}}',
    );
    let at = 0;
    for (const key of ['a', 'zeta', 'b']) {
      const entry = header[key];
      if (typeof entry !== 'object' || entry === null || !('data_offsets' in entry)) throw new Error(`no entry ${key}`);
      const [begin, end] = entry.data_offsets as [number, number];
      expect(begin).toBe(at);
      at = end;
    }
    expect(at).toBe(data.length);
    expect(Array.from(new Float32Array(data.slice(0, 24).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(new Float32Array(data.slice(24, 28).buffer))).toEqual([9]);
    expect(Array.from(new Int32Array(data.slice(28, 40).buffer))).toEqual([1, 2, 3]);
    expect(loadMetadata(bytes)).toEqual({ format: 'pt', note: 'x"y' });
    [a, b, c].forEach((t) => t.dispose());
  });

  it('matches the bytes of the reference implementation', () => {
    // The serialization tests of the Rust crate: one F32 [1, 2, 3], and empty files.
    const t = fromArray(new Float32Array([0, 1, 2, 3, 4, 5]), [1, 2, 3]);
    const head = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(Array.from(save({ 'attn.0': t }))).toEqual(Array.from(build(head, le([0, 1, 2, 3, 4, 5], 'f32'))));
    expect(Array.from(save({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(save({}, { framework: 'pt' }))).toEqual(Array.from(build('{"__metadata__":{"framework":"pt"}}')));
    expect(save({}, { framework: 'pt' }).length).toBe(48);
    t.dispose();
    // And the file written on the PyTorch side, re-saved, is the same bytes.
    const original = fromBase64(sequential.safetensors_base64);
    const state = load(original);
    expect(Array.from(save(state, loadMetadata(original)))).toEqual(Array.from(original));
    dispose(state);
  });

  it('refuses what it cannot write', () => {
    const t = fromArray(new Float32Array([1]), [1]);
    const refuse = (f: () => unknown, kind: string, msg: RegExp): void => {
      const before = memory().tensors;
      expect(f).toThrow(FerrogradError);
      expect(f).toThrow(msg);
      try {
        f();
      } catch (e) {
        expect(e instanceof FerrogradError && e.kind).toBe(kind);
      }
      expect(memory().tensors).toBe(before);
    };
    refuse(() => save({ __metadata__: t }), 'value', /save: "__metadata__" is reserved/);
    refuse(() => Reflect.apply(save, undefined, [{ w: [1, 2] }]), 'value', /save: the value of "w" is not a Tensor/);
    refuse(() => Reflect.apply(save, undefined, [{ w: t }, { n: 1 }]), 'value', /save: metadata "n" must be a string/);
    const gone = fromArray(new Float32Array([1]), [1]);
    gone.dispose();
    refuse(() => save({ w: t, gone }), 'freed', /save: tensor "gone" has been freed/);
    t.dispose();
  });
});

describe('safetensors load', () => {
  it('loads the PyTorch state dict and reproduces its forward pass', () => {
    const before = memory().tensors;
    const bytes = fromBase64(sequential.safetensors_base64);
    expect(loadMetadata(bytes)).toEqual(sequential.metadata);
    const state = load(bytes);
    expect(Object.keys(state).sort()).toEqual(Object.keys(sequential.state_dict).sort());
    for (const [k, want] of Object.entries(sequential.state_dict)) {
      expect(state[k].dtype).toBe('float32');
      expect(state[k].shape, k).toEqual(want.shape);
      expect(Array.from(state[k].data()), k).toEqual(want.values);
    }
    const out = tidy(() => {
      const x = fromArray(sequential.input.values, sequential.input.shape);
      return x
        .matmul(state['0.weight'].t())
        .add(state['0.bias'])
        .relu()
        .matmul(state['2.weight'].t())
        .add(state['2.bias']);
    });
    expect(out.shape).toEqual(sequential.output.shape);
    const got = Array.from(out.data());
    sequential.output.values.forEach((v, i) => expect(Math.abs(got[i] - v), `output[${i}]`).toBeLessThan(1e-5));
    out.dispose();
    dispose(state);
    expect(memory().tensors).toBe(before);
  });

  it('converts the dtypes PyTorch wrote', () => {
    const state = load(fromBase64(dtypes.safetensors_base64));
    expect(Object.keys(state).sort()).toEqual(Object.keys(dtypes.expected).sort());
    for (const [k, want] of Object.entries(dtypes.expected)) {
      expect(state[k].dtype, k).toBe(want.as);
      expect(state[k].shape, k).toEqual(want.shape);
      expect(Array.from(state[k].data()), k).toEqual(want.values);
    }
    // float64 1/3 rounds to the nearest float32.
    expect(state.float64.data()[0]).toBe(Math.fround(1 / 3));
    dispose(state);
  });

  it('converts the other dtypes exactly and refuses values that do not fit', () => {
    const file = (dtype: string, shape: number[], data: Uint8Array): Uint8Array =>
      build({ x: { dtype, shape, data_offsets: [0, data.length] } }, data);
    // F16: infinities, NaN, the largest subnormal; BF16: top halves of float32.
    expect(one(file('F16', [4], le([0x7c00, 0xfc00, 0x7e00, 0x03ff], 'u16')))).toEqual(['float32', [4], [Infinity, -Infinity, NaN, 1023 * 2 ** -24]]);
    expect(one(file('BF16', [2], le([0x3f80, 0xc049], 'u16')))).toEqual(['float32', [2], [1, -3.140625]]);
    expect(one(file('F8_E4M3', [5], le([0x38, 0x7e, 0xff, 0x01, 0xb8], 'u8')))).toEqual(['float32', [5], [1, 448, NaN, 2 ** -9, -1]]);
    expect(one(file('F8_E5M2', [3], le([0x3c, 0x7c, 0x01], 'u8')))).toEqual(['float32', [3], [1, Infinity, 2 ** -16]]);
    expect(one(file('U16', [2], le([0, 65535], 'u16')))).toEqual(['int32', [2], [0, 65535]]);
    expect(one(file('U32', [2], le([0, 2 ** 31 - 1], 'u32')))).toEqual(['int32', [2], [0, 2 ** 31 - 1]]);
    expect(one(file('U64', [2], le([0, 2 ** 31 - 1], 'i64')))).toEqual(['int32', [2], [0, 2 ** 31 - 1]]);
    expect(one(file('F64', [2], le([Infinity, -1e-300], 'f64')))).toEqual(['float32', [2], [Infinity, -0]]);

    expectRefused(file('I64', [2], le([1, 2 ** 31], 'i64')), /"x"/, /I64/, /2147483648/, /int32 range/);
    expectRefused(file('I64', [1], le([-(2 ** 31) - 1], 'i64')), /-2147483649/);
    expectRefused(file('U64', [1], le([-1], 'i64')), /18446744073709551615/);
    expectRefused(file('U32', [1], le([2 ** 31], 'u32')), /"x"/, /U32/);
    expectRefused(file('F64', [2], le([0, 1e300], 'f64')), /"x"/, /F64/, /float32 range/, /flat index 1/);
    expectRefused(file('BOOL', [2], le([1, 2], 'u8')), /"x"/, /BOOL/, /0 or 1/);
    // A good tensor and then one that does not fit: nothing is created.
    const data = new Uint8Array([...le([1], 'f32'), ...le([2 ** 40], 'i64')]);
    expectRefused(
      build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'I64', shape: [1], data_offsets: [4, 12] } }, data),
      /"b"/,
    );
  });

  it('accepts an ArrayBuffer, an unaligned view, unsorted keys and the result of tidy', () => {
    const bytes = fromBase64(sequential.safetensors_base64);
    const shifted = new Uint8Array(bytes.length + 8).fill(0xee);
    shifted.set(bytes, 3);
    const a = one(shifted.subarray(3, 3 + bytes.length), '0.weight');
    const copy = bytes.slice();
    const b = one(new Uint8Array(copy.buffer), '0.weight');
    expect(a).toEqual(b);
    expect(a[2]).toEqual(sequential.state_dict['0.weight'].values);
    // Offsets in any key order (older writers), tensors of zero size anywhere.
    const data = new Uint8Array([...le([5, 6], 'i32'), ...le([1.5], 'f32')]);
    const f = build({
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      z: { dtype: 'F32', shape: [2, 0], data_offsets: [8, 8] },
      a: { dtype: 'I32', shape: [2], data_offsets: [0, 8] },
    }, data);
    const state = tidy(() => load(f));
    expect(state.a.isDisposed).toBe(false);
    expect(Array.from(state.a.data())).toEqual([5, 6]);
    expect(Array.from(state.b.data())).toEqual([1.5]);
    expect(state.z.shape).toEqual([2, 0]);
    expect(loadMetadata(f)).toEqual({});
    dispose(state);
  });

  it('refuses truncated files at every point', () => {
    const bytes = fromBase64(sequential.safetensors_base64);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    for (const cut of [0, 1, 7, 8, 9, 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 12, bytes.length - 4, bytes.length - 1]) {
      expectRefused(bytes.subarray(0, cut));
    }
    expectRefused(bytes.subarray(0, 5), /fewer than the 8/);
    expectRefused(bytes.subarray(0, 20), /header length \d+ runs past the end/);
    expectRefused(bytes.subarray(0, bytes.length - 1), /"2.weight"/, /\[68, 92\]/, /truncated/);
    const lengthOnly = new Uint8Array(8);
    expectRefused(lengthOnly, /not valid JSON/);
  });

  it('refuses header lengths beyond the buffer or the limit', () => {
    const bytes = fromBase64(sequential.safetensors_base64);
    const set = (n: bigint): Uint8Array => {
      const b = bytes.slice();
      new DataView(b.buffer).setBigUint64(0, n, true);
      return b;
    };
    expectRefused(set(BigInt(bytes.length)), /runs past the end/);
    expectRefused(set(BigInt(bytes.length - 7)), /runs past the end/);
    expectRefused(set(2n ** 40n), /exceeds the limit/);
    expectRefused(set(2n ** 64n - 1n), /exceeds the limit/);
    expectRefused(set(BigInt(bytes.length - 8)), /not valid (UTF-8|JSON)/); // the header eats the data
  });

  it('refuses headers that are not a JSON object of valid entries', () => {
    const x = (entry: object): Uint8Array => build({ x: entry }, new Uint8Array(8));
    expectRefused(build('{"x": {"dtype": "F32", '), /not valid JSON/);
    expectRefused(build('[1, 2]'), /not a JSON object/);
    expectRefused(build('null'), /not a JSON object/);
    const badUtf8 = build('{"x":1}');
    badUtf8[10] = 0xff;
    expectRefused(badUtf8, /not valid UTF-8/);
    expectRefused(build('\ufeff{}'), /not valid JSON/);
    expectRefused(build({ __metadata__: { a: 1 } }), /__metadata__ "a" must be a string/);
    expectRefused(build({ __metadata__: ['a'] }), /__metadata__ must be an object/);
    expectRefused(build({ x: 5 }), /entry of tensor "x" is not an object/);
    expectRefused(x({ dtype: 'C64', shape: [1], data_offsets: [0, 8] }), /"x"/, /dtype "C64"/, /cannot load/);
    expectRefused(x({ dtype: 'F4', shape: [16], data_offsets: [0, 8] }), /dtype "F4"/);
    expectRefused(x({ dtype: 'toString', shape: [2], data_offsets: [0, 8] }), /dtype "toString"/);
    expectRefused(x({ shape: [2], data_offsets: [0, 8] }), /"x" has no dtype/);
    expectRefused(x({ dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] }), /"x" has shape \[2,-1\]/);
    expectRefused(x({ dtype: 'F32', shape: [1.5], data_offsets: [0, 8] }), /"x" has shape/);
    expectRefused(x({ dtype: 'F32', shape: '2', data_offsets: [0, 8] }), /"x" has shape/);
    expectRefused(x({ dtype: 'F32', shape: [2], data_offsets: [0] }), /"x" has data_offsets \[0\]/);
    expectRefused(x({ dtype: 'F32', shape: [2], data_offsets: [0, 8, 9] }), /"x" has data_offsets/);
    expectRefused(x({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), /end before they begin/);
    expectRefused(x({ dtype: 'F32', shape: [2], data_offsets: [0, 2 ** 60] }), /"x" has data_offsets/);
  });

  it('refuses offsets out of range, gaps, overlaps, size mismatches and trailing bytes', () => {
    const data = new Uint8Array(16);
    const f = (a: [number, number], b: [number, number], shapeB = [2]): Uint8Array =>
      build({ a: { dtype: 'F32', shape: [2], data_offsets: a }, b: { dtype: 'F32', shape: shapeB, data_offsets: b } }, data);
    expect(one(f([0, 8], [8, 16]), 'b')[1]).toEqual([2]); // the valid one
    expectRefused(f([0, 8], [16, 24]), /"b"/, /\[16, 24\] beyond the 16 bytes/);
    expectRefused(f([0, 8], [2 ** 40, 2 ** 40 + 8]), /"b"/, /beyond/);
    expectRefused(f([8, 16], [0, 8], [3]), /"b" of dtype F32 and shape \[3\] needs 12 bytes but its data_offsets \[0, 8\] span 8/);
    expectRefused(f([0, 8], [8, 16], [2, 2]), /"b"/, /needs 16 bytes/);
    expectRefused(f([0, 8], [4, 12]), /"b"/, /overlaps tensor "a"/);
    expectRefused(f([0, 8], [0, 8]), /overlaps/);
    expectRefused(f([4, 12], [12, 20]), /beyond/);
    expectRefused(build({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /"a" starts at byte 4 but the first tensor must start at 0/);
    expectRefused(
      build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
      /"b" starts at byte 8 but tensor "a" ends at 4/,
    );
    expectRefused(f([0, 8], [8, 16]).slice(0, -8), /beyond/);
    const trailing = new Uint8Array([...f([0, 8], [8, 16]), 1, 2, 3, 4]);
    expectRefused(trailing, /cover 16 bytes of data but the buffer holds 20/);
    expectRefused(build({}, new Uint8Array(4)), /trailing/);
  });

  it('refuses input that is not bytes', () => {
    expectRefused('abc', /expected the file's bytes/);
    expectRefused(null, /got null/);
  });
});

describe('safetensors file helpers', () => {
  it('load in every environment and say clearly when there is no file system', async () => {
    const isNode = typeof globalThis.process?.versions?.node === 'string' && typeof window === 'undefined';
    const path = '/nonexistent-ferrograd-dir/x.safetensors';
    if (isNode) {
      await expect(loadFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    } else {
      await expect(loadFile(path)).rejects.toThrow(FerrogradError);
      await expect(loadFile(path)).rejects.toThrow(/loadFile: needs a file system \(node:fs\/promises\)/);
      await expect(saveFile(path, {})).rejects.toThrow(/saveFile: needs a file system/);
    }
  });
});
