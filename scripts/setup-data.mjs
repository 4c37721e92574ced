// Makes Fashion-MNIST available for the main job: Debian's dataset-fashion-mnist
// package when it is missing and apt can install it. Otherwise the job falls back
// to the bundled UCI digits and says so.

import { existsSync } from 'node:fs';
import { aptInstall } from './toolchain.mjs';

const root = '/usr/share/datasets/fashion-mnist';
if (!existsSync(`${root}/train-images-idx3-ubyte.gz`)) {
  const root_ = typeof process.getuid === 'function' && process.getuid() === 0;
  if (existsSync('/usr/bin/apt-get') && root_) {
    try {
      aptInstall(['dataset-fashion-mnist']);
    } catch {
      console.error('ferrograd: apt-get could not install dataset-fashion-mnist.');
    }
  }
}
