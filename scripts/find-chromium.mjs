// Makes sure a Chromium for the browser tests exists: Debian's, installed with apt
// when missing (as root). Never downloads a browser build of its own.

import { existsSync } from 'node:fs';
import { aptInstall } from './toolchain.mjs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (existsSync('/usr/bin/apt-get') && root) aptInstall(['chromium']);
}
if (!existsSync(path)) {
  console.error(`The browser tests need Chromium at ${path}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}
console.log(path);
