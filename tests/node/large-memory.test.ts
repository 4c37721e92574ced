// Tensors past 2 GiB of wasm memory. wasm32 addresses are unsigned, but the exports'
// i32 results reach JS signed: read as they come, addresses above 2^31 are negative.
// Its own file, so that its process starts with an empty heap and what is allocated
// after the filler lies above it.
import { describe, expect, it } from 'vitest';
import { full, memory, zeros } from '../../ts/index.js';

describe('wasm memory past 2 GiB', () => {
  it('reads values and error messages that live above the 2 GiB mark', () => {
    const filler = [zeros([300_000_000]), zeros([300_000_000])]; // 2.4 GB
    try {
      expect(memory().wasmBytes).toBeGreaterThan(2 ** 31);
      const x = full([1000, 1000], 7);
      const row = new Float32Array(1000);
      expect(x.data()[999_999]).toBe(7);
      expect(x.narrow(0, 999, 1).data(row)[999]).toBe(7);
      expect(x.sum().item()).toBe(7_000_000);
      expect(() => x.reshape([3, -1])).toThrow(/reshape.*\[1000, 1000\]/);
    } finally {
      for (const f of filler) f.dispose();
    }
  });
});
