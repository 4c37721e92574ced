// Runs an example by name (`npm run example perceptron`), building the package first
// when dist/ is missing or older than the sources, since examples import 'ferrograd'
// exactly as a user's program would.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run example <name> [-- args]\nexamples: ${available.join(', ')}`);
  process.exit(name ? 1 : 0);
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!e.name.endsWith('.generated.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const dist = join(root, 'dist/index.js');
const stale = !existsSync(dist) || statSync(dist).mtimeMs < Math.max(newest(join(root, 'ts')), newest(join(root, 'crates')));
const run = (cmd, argv) => spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' }).status ?? 1;
if (stale) {
  console.error('ferrograd: building the package first (npm run build)');
  if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1);
}
process.exit(run(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples', `${name}.ts`), ...args]));
