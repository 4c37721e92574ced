// The IDX file format of MNIST-style data sets: a big-endian header (two zero bytes,
// a type code, the number of dims, each dim as u32) followed by the values.

import { FerrogradError } from '../index.js';
import { gunzip } from '../gunzip.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** Parses an IDX file of unsigned bytes (type 0x08), the type MNIST uses. */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FerrogradError('value', `${name}: not an IDX file (bad magic number); is it still gzipped or truncated?`);
  }
  if (bytes[2] !== 0x08) throw new FerrogradError('value', `${name}: IDX type 0x${bytes[2].toString(16)} is not supported (only unsigned bytes, 0x08)`);
  const ndim = bytes[3];
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) throw new FerrogradError('value', `${name}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerLength + n) {
    throw new FerrogradError('value', `${name}: expected ${n} values for shape [${shape.join(', ')}] but the file holds ${bytes.length - headerLength}`);
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/** Gunzips when the bytes start with the gzip magic number, else returns them. */
export async function maybeGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  return gunzip(bytes, 'a gzipped IDX file');
}
