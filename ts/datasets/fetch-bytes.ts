// Reading a data file by path (Node) or URL (browsers and Node), and saving a
// download next to the others. node: modules load lazily so browser bundles work.

import { FerrogradError } from '../errors.js';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ name);
}

/** The bytes at `location`, or null when it does not exist. */
export async function readBytes(location: string): Promise<Uint8Array | null> {
  if (isNode && !/^https?:/.test(location)) {
    const fs = await nodeFs();
    try {
      return new Uint8Array(await fs.readFile(location));
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return null;
      throw e;
    }
  }
  const res = await fetch(location);
  if (res.status === 404) return null;
  if (!res.ok) throw new FerrogradError('value', `fetching ${location} failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Saves downloaded bytes to `path` (Node only; browsers keep them in memory). */
export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  if (!isNode) return;
  const fs = await nodeFs();
  const dir = path.slice(0, path.lastIndexOf('/'));
  if (dir) await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path, bytes);
}

export function joinPath(root: string, name: string): string {
  return root.endsWith('/') ? root + name : `${root}/${name}`;
}
