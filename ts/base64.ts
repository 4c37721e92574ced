// Base64 to bytes, with the atob that Node ≥ 16, browsers and workers all have: the
// gzipped wasm binary is embedded this way.

export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
