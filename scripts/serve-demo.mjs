// Serves the browser demo (examples/browser/) and the built package (dist/) on the
// loopback interface only. It sends COOP/COEP headers so that the page is cross-origin
// isolated and may use SharedArrayBuffer. Builds the package first if dist/ is missing.
//
//   npm run demo:browser            → http://127.0.0.1:8080/examples/browser/
//   PORT=0 node scripts/serve-demo.mjs   (any free port; the URL is printed)

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { extname, join, normalize, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Only these trees are served: the demo and the package it imports.
const ALLOWED = ['examples/browser/', 'dist/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

if (!['index.js', 'worker.js', 'datasets.js'].every((f) => existsSync(join(root, 'dist', f)))) {
  console.error('ferrograd: building the package first (npm run build)');
  if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  if (path === '' || path === 'examples/browser') {
    res.writeHead(302, { location: '/examples/browser/' });
    res.end();
    return;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(root, path));
  const inside = ALLOWED.some((dir) => file.startsWith(join(root, dir)) && !file.slice(root.length).split(sep).includes('..'));
  if (!inside) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      // Cross-origin isolation: SharedArrayBuffer for the abort flag and DataParallel.
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
});

const port = Number(process.env.PORT ?? process.argv[2] ?? 8080);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`ferrograd demo: http://127.0.0.1:${actual}/examples/browser/`);
});
