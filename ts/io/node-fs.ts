// Lazy access to Node's file system from library code that must also load in
// browsers: the module is imported on first use, never at load time. This file imports
// nothing, so that ferrograd/datasets may carry its own copy (see rollup.config.mjs).

/** The part of `node:fs/promises` used here. */
export interface FsPromises {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
}

function isFs(m: unknown): m is FsPromises {
  return (
    typeof m === 'object' &&
    m !== null &&
    'readFile' in m &&
    typeof m.readFile === 'function' &&
    'writeFile' in m &&
    typeof m.writeFile === 'function' &&
    'mkdir' in m &&
    typeof m.mkdir === 'function'
  );
}

// A variable, not a literal, so that bundlers leave the import alone.
const FS_MODULE = 'node:fs/promises';
let fsPromise: Promise<FsPromises | null> | undefined;

/** `node:fs/promises`, loaded on first use; null in environments without it. */
export function nodeFs(): Promise<FsPromises | null> {
  fsPromise ??= import(/* @vite-ignore */ /* webpackIgnore: true */ FS_MODULE).then(
    (m: unknown) => (isFs(m) ? m : null),
    () => null,
  );
  return fsPromise;
}
