import { afterEach, describe, expect, it, vi } from 'vitest';
import { gunzip } from '../../ts/gunzip.js';

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('gunzip', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('restores what gzip packed', async () => {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);
    expect(await gunzip(await gzip(bytes), 'test bytes')).toEqual(bytes);
  });

  it('says what is missing where DecompressionStream is', async () => {
    const packed = await gzip(new Uint8Array([1, 2, 3]));
    vi.stubGlobal('DecompressionStream', undefined);
    await expect(gunzip(packed, 'the embedded wasm module')).rejects.toThrow(
      /unpacking the embedded wasm module needs DecompressionStream\('gzip'\)/,
    );
  });
});
