// Runs cargo (e.g. `node scripts/cargo.mjs test`) with the toolchain the wasm build
// uses, so native tests also hold the crate to its minimum Rust version.

import { spawnSync } from 'node:child_process';
import { findToolchain } from './toolchain.mjs';

const { cargo, env } = findToolchain();
const r = spawnSync(cargo, process.argv.slice(2), { env, stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname });
process.exit(r.status ?? 1);
