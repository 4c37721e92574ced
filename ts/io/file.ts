// Saving and loading safetensors files by path, in Node.js (and Deno or Bun). The file
// system module is imported on first use, so this module still loads in a browser
// bundle; there the helpers throw and point to save()/load() on bytes.

import { FerrogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { load, save } from './safetensors.js';
import { nodeFs, type FsPromises } from './node-fs.js';

/** `node:fs/promises`, or an error saying what to use instead where there is none. */
async function fs(op: string): Promise<FsPromises> {
  const mod = await nodeFs();
  if (mod === null) {
    throw new FerrogradError(
      'usage',
      `${op}: needs a file system (node:fs/promises), which this environment lacks; ` +
        'in a browser use save() and load() on bytes (from fetch(), a File, or IndexedDB)',
    );
  }
  return mod;
}

/**
 * Writes tensors (and optional string metadata) to a safetensors file at `path`.
 * Node.js only; errors of the file system (a missing directory, say) are thrown as
 * Node reports them.
 *
 * @example
 * ```ts
 * await saveFile('model.safetensors', { '0.weight': w, '0.bias': b }, { format: 'pt' });
 * ```
 */
export async function saveFile(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = save(tensors, metadata);
  await (await fs('saveFile')).writeFile(path, bytes);
}

/**
 * Reads a safetensors file at `path` into a dict of tensors, checked as `load` does.
 * Node.js only.
 *
 * @example
 * ```ts
 * const state = await loadFile('model.safetensors');
 * ```
 */
export async function loadFile(path: string): Promise<Record<string, Tensor>> {
  const bytes = await (await fs('loadFile')).readFile(path);
  return load(bytes);
}
