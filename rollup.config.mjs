// Bundles the compiled TypeScript (build/, from tsc) into one ESM file per entry with
// the wasm binary inlined, plus one .d.ts per entry.

import { dts } from 'rollup-plugin-dts';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// dist/ holds this build's files only: a chunk that a change renamed would otherwise stay
// there and be packed.
rmSync(fileURLToPath(new URL('./dist', import.meta.url)), { recursive: true, force: true });

const built = (path) => fileURLToPath(new URL(`./build/${path}`, import.meta.url));

// ferrograd/worker (dist/worker.js, and dist/worker-host.js that its workers run) and
// ferrograd/datasets (dist/datasets.js) share dist/index.js instead of bundling a second
// copy: one Tensor class, one FerrogradError, one wasm instance per thread.
const indexBuild = built('index.js');
const indexTypes = built('index.d.ts');
const isIndexTypes = (id) => id === indexTypes || /build\/index(\.d\.ts|\.js)?$/.test(id);

// Modules of build/ that such an entry may carry its own copy of: they import nothing
// and hold nothing that must be unique (at most a cache of a Node module).
const copyable = new Set([built('gunzip.js'), built('io/node-fs.js')]);

/** Fails the build when an entry sharing index.js would bundle a core module after all. */
function sharesIndex(folder) {
  const own = built(`${folder}/`);
  const buildDir = built('');
  return {
    name: 'shares-index',
    load(id) {
      if (id.startsWith(buildDir) && !id.startsWith(own) && !copyable.has(id)) {
        this.error(`${id.slice(buildDir.length)} would be bundled into ferrograd/${folder}; import it from ../index.js instead`);
      }
      return null;
    },
  };
}

const comlinkFiles = {
  comlink: fileURLToPath(new URL('./node_modules/comlink/dist/esm/comlink.mjs', import.meta.url)),
  'comlink/dist/esm/node-adapter.mjs': fileURLToPath(new URL('./node_modules/comlink/dist/esm/node-adapter.mjs', import.meta.url)),
};
// comlink is bundled in, since a module worker cannot resolve a bare import.
const bundleComlink = { name: 'bundle-comlink', resolveId: (id) => comlinkFiles[id] ?? null };
const workerEntry = {
  input: { worker: 'build/worker/index.js', 'worker-host': 'build/worker/host.js' },
  output: { dir: 'dist', format: 'es', sourcemap: false, entryFileNames: '[name].js', chunkFileNames: 'worker-[name].js', paths: { [indexBuild]: './index.js' } },
  external: (id) => /^node:/.test(id) || id === indexBuild,
  plugins: [bundleComlink, sharesIndex('worker')],
};
const workerTypes = {
  input: 'build/worker/index.d.ts',
  output: { file: 'dist/worker.d.ts', format: 'es', paths: { [indexTypes]: './index.js' } },
  external: isIndexTypes,
  plugins: [dts({ respectExternal: false })],
};

// The bundled data sets are a third of the package in gzipped bytes; in their own entry
// they cost nothing to programs that do not import them.
const datasetsEntry = {
  input: 'build/datasets/index.js',
  output: { file: 'dist/datasets.js', format: 'es', sourcemap: false, paths: { [indexBuild]: './index.js' } },
  external: (id) => /^node:/.test(id) || id === indexBuild,
  plugins: [sharesIndex('datasets')],
};
const datasetsTypes = {
  input: 'build/datasets/index.d.ts',
  output: { file: 'dist/datasets.d.ts', format: 'es', paths: { [indexTypes]: './index.js' } },
  external: isIndexTypes,
  plugins: [dts({ respectExternal: false })],
};

export default [
  {
    input: 'build/index.js',
    output: { file: 'dist/index.js', format: 'es', sourcemap: false },
    external: [/^node:/],
  },
  {
    input: 'build/index.d.ts',
    output: { file: 'dist/index.d.ts', format: 'es' },
    plugins: [dts()],
  },
  workerEntry,
  workerTypes,
  datasetsEntry,
  datasetsTypes,
];
