// Bundles the compiled TypeScript (build/, from tsc) into one ESM file per entry with
// the wasm binary inlined, plus one .d.ts per entry.

import { dts } from 'rollup-plugin-dts';
import { fileURLToPath } from 'node:url';

// ferrograd/worker (dist/worker.js, and dist/worker-host.js that its workers run) shares
// dist/index.js instead of bundling a second copy: one Tensor class, one wasm instance
// per thread. comlink is bundled in, since a module worker cannot resolve a bare import.
const indexBuild = fileURLToPath(new URL('./build/index.js', import.meta.url));
const indexTypes = fileURLToPath(new URL('./build/index.d.ts', import.meta.url));
const comlinkFiles = {
  comlink: fileURLToPath(new URL('./node_modules/comlink/dist/esm/comlink.mjs', import.meta.url)),
  'comlink/dist/esm/node-adapter.mjs': fileURLToPath(new URL('./node_modules/comlink/dist/esm/node-adapter.mjs', import.meta.url)),
};
const bundleComlink = { name: 'bundle-comlink', resolveId: (id) => comlinkFiles[id] ?? null };
const workerEntry = {
  input: { worker: 'build/worker/index.js', 'worker-host': 'build/worker/host.js' },
  output: { dir: 'dist', format: 'es', sourcemap: false, entryFileNames: '[name].js', chunkFileNames: 'worker-[name].js', paths: { [indexBuild]: './index.js' } },
  external: (id) => /^node:/.test(id) || id === indexBuild,
  plugins: [bundleComlink],
};
const workerTypes = {
  input: 'build/worker/index.d.ts',
  output: { file: 'dist/worker.d.ts', format: 'es', paths: { [indexTypes]: './index.js' } },
  external: (id) => id === indexTypes || /build\/index(\.d\.ts|\.js)?$/.test(id),
  plugins: [dts({ respectExternal: false })],
};

const entries = ['index'];

export default [
  ...entries.map((name) => ({
    input: `build/${name}.js`,
    output: { file: `dist/${name}.js`, format: 'es', sourcemap: false },
    external: [/^node:/],
  })),
  ...entries.map((name) => ({
    input: `build/${name}.d.ts`,
    output: { file: `dist/${name}.d.ts`, format: 'es' },
    plugins: [dts()],
  })),
  workerEntry,
  workerTypes,
];
