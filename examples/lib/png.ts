// A minimal PNG writer (8-bit grayscale or RGB, no filtering) for the examples' pictures,
// so that images of digits and clothes need no dependency. Node only (zlib).

import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes `pixels` (row-major, `channels` bytes per pixel: 1 gray, 3 RGB) as a PNG file. */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 = 1): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * channels)] = 0; // filter: none
    raw.set(pixels.subarray(y * width * channels, (y + 1) * width * channels), y * (1 + width * channels) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Tiles `count` square gray images (values in [0, 1], `size`×`size` each, concatenated)
 * into a grid of `cols` columns with a 2-pixel gap, scaled up `scale` times; returns a PNG.
 */
export function imageGridPng(images: Float32Array, count: number, size: number, cols: number, scale = 2): Uint8Array {
  const rows = Math.ceil(count / cols);
  const gap = 2;
  const cell = size * scale + gap;
  const w = cols * cell + gap;
  const h = rows * cell + gap;
  const px = new Uint8Array(w * h).fill(255);
  for (let k = 0; k < count; k++) {
    const ox = gap + (k % cols) * cell;
    const oy = gap + Math.floor(k / cols) * cell;
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const v = images[k * size * size + Math.floor(y / scale) * size + Math.floor(x / scale)];
        // Dark ink on white, as the clothes are usually shown.
        px[(oy + y) * w + ox + x] = 255 - Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  }
  return encodePng(w, h, px);
}
