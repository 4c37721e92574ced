// Gunzip with the standard DecompressionStream that Node ≥ 18, browsers and workers
// have: the embedded wasm binary and downloaded MNIST files are gzipped.

/** The bytes that gzip packed into `bytes`; `what` names them in the error when this environment cannot unpack. */
export async function gunzip(bytes: Uint8Array, what: string): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof DecompressionStream !== 'function') {
    throw new Error(
      `ferrograd: unpacking ${what} needs DecompressionStream('gzip') (Node ≥ 18, Chrome 80, Firefox 113, Safari 16.4), ` +
        'which this JavaScript environment lacks',
    );
  }
  // slice(): a Blob part must be backed by an ArrayBuffer, not a SharedArrayBuffer.
  const stream = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
