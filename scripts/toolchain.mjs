// Finds (and on Debian, installs) a Rust toolchain that can target wasm32.
// Order: rustup with the wasm32-unknown-unknown target; Debian's rustc 1.63 with
// libstd-rust-dev-wasm32; on Debian as root, apt-get installs the latter. Anything
// else stops with one sentence saying what to install.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const WASM_TARGET = 'wasm32-unknown-unknown';
const DEBIAN_WASM_STD = '/usr/lib/rustlib/wasm32-unknown-unknown';
const APT_PACKAGES = ['rustc', 'cargo', 'libstd-rust-dev-wasm32', 'lld', 'binaryen'];

function quiet(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

function rustupHasWasm() {
  const out = quiet('rustup', ['target', 'list', '--installed']);
  return out !== null && out.split('\n').includes(WASM_TARGET);
}

function debianReady() {
  return existsSync('/usr/bin/rustc') && existsSync('/usr/bin/cargo') && existsSync(DEBIAN_WASM_STD);
}

function canApt() {
  return existsSync('/usr/bin/apt-get') && typeof process.getuid === 'function' && process.getuid() === 0;
}

export function aptInstall(packages) {
  const opts = ['-o', 'DPkg::Lock::Timeout=600'];
  console.error(`ferrograd: installing ${packages.join(' ')} with apt-get`);
  execFileSync('apt-get', [...opts, 'update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('apt-get', [...opts, 'install', '-y', '-q', ...packages], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** `{ cargo, env }` for building the wasm crate, installing Debian's toolchain if needed. */
export function findToolchain() {
  if (rustupHasWasm()) return { cargo: 'cargo', env: { ...process.env }, kind: 'rustup' };
  if (!debianReady() && canApt()) aptInstall(APT_PACKAGES);
  if (debianReady()) {
    // Debian's rustc must be used with its own cargo, not rustup's proxies on PATH.
    return { cargo: '/usr/bin/cargo', env: { ...process.env, RUSTC: '/usr/bin/rustc' }, kind: 'debian' };
  }
  throw new Error(
    'ferrograd needs Rust with the wasm32 target to build: install rustup and run ' +
      '`rustup target add wasm32-unknown-unknown` (or, on Debian, `apt-get install rustc cargo libstd-rust-dev-wasm32 lld`).',
  );
}

/** Path of a wasm-opt binary (Debian's or npm's binaryen), or null. */
export function findWasmOpt() {
  if (quiet('wasm-opt', ['--version']) !== null) return 'wasm-opt';
  const local = new URL('../node_modules/.bin/wasm-opt', import.meta.url).pathname;
  return existsSync(local) ? local : null;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t = findToolchain();
  console.log(`ferrograd: using ${t.kind} toolchain (${t.cargo})`);
  if (!findWasmOpt() && canApt()) aptInstall(['binaryen']);
}
