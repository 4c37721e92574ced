// Bundles the compiled TypeScript (build/, from tsc) into one ESM file per entry with
// the wasm binary inlined, plus one .d.ts per entry.

import { dts } from 'rollup-plugin-dts';

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
];
