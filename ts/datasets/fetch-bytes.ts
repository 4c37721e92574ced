// Reading a data file by path (Node) or URL (browsers, and Node for http URLs), and
// saving a download next to the others.

import { FerrogradError } from '../index.js';
import { nodeFs, type FsPromises } from '../io/node-fs.js';

const isUrl = (s: string): boolean => /^(https?|blob|data):/.test(s) || typeof document !== 'undefined';

/** `node:fs/promises`, or an error saying to give a URL where there is none; `doing` names the file operation. */
async function fs(doing: string): Promise<FsPromises> {
  const mod = await nodeFs();
  if (mod === null) {
    throw new FerrogradError(
      'usage',
      `${doing}: a file path needs a file system (node:fs/promises), which this environment lacks; give root as an http(s) URL`,
    );
  }
  return mod;
}

/** The bytes at `location`, or null when it does not exist. */
export async function readBytes(location: string): Promise<Uint8Array | null> {
  if (!isUrl(location)) {
    try {
      return new Uint8Array(await (await fs(`reading ${location}`)).readFile(location));
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

/** Saves downloaded bytes to `path`; where there is no file system they stay in memory only. */
export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  if (isUrl(path)) return;
  const f = await fs(`saving ${path}`);
  const dir = path.slice(0, path.lastIndexOf('/'));
  if (dir) await f.mkdir(dir, { recursive: true });
  await f.writeFile(path, bytes);
}

export function joinPath(root: string, name: string): string {
  return root.endsWith('/') ? root + name : `${root}/${name}`;
}
