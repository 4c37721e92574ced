// The published shape of the package: `npm pack`, install the tarball into a scratch
// project, use it (and its ferrograd/datasets entry) from plain Node ESM, and
// type-check a TypeScript consumer under NodeNext resolution with the bundled .d.ts.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('npm package', () => {
  it('installs from its tarball and works from Node ESM and TypeScript NodeNext', () => {
    expect(existsSync(join(root, 'dist/index.js')), 'run `npm run build` first').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'ferrograd-pack-'));
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop() ?? '';
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, tarball)], dir);

    writeFileSync(
      join(dir, 'main.mjs'),
      `import { tensor, memory, Tensor } from 'ferrograd';
import { Iris } from 'ferrograd/datasets';
const w = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
const y = w.matmul(w).sum();
y.backward();
const before = memory().tensors;
const iris = new Iris();
console.log(JSON.stringify({
  y: y.item(), grad: w.grad.toArray(), tensors: before > 0,
  iris: { shape: iris.data.shape, first: iris.data.select(0, 0).toArray(), classes: iris.classes },
  // One Tensor class and one wasm instance: the data set's tensors are the main entry's.
  shared: iris.data instanceof Tensor && memory().tensors > before,
}));
`,
    );
    const out = JSON.parse(run('node', ['main.mjs'], dir));
    // d/dW sum(W·W) = 1·Wᵀ + Wᵀ·1, computed by hand for W = [[1, 2], [3, 4]].
    expect(out).toMatchObject({ y: 54, grad: [[7, 11], [9, 13]], tensors: true, shared: true });
    expect(out.iris.shape).toEqual([150, 4]);
    expect(out.iris.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(out.iris.first).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));

    writeFileSync(
      join(dir, 'main.ts'),
      `import { tensor, randn, tidy, data, FerrogradError, type Tensor } from 'ferrograd';
import { Digits, FashionMNIST, type BundledOptions } from 'ferrograd/datasets';
const t: Tensor = tidy(() => randn([2, 3]).matmul(tensor([1, 2, 3], { dtype: 'float32' })));
const shape: number[] = t.shape;
const e: typeof FerrogradError = FerrogradError;
const options: BundledOptions = { train: true, seed: 1 };
const digits: data.Dataset<[Tensor, Tensor]> = new Digits(options);
const images: Tensor = new Digits().images;
const load: (o: { root: string }) => Promise<FashionMNIST> = (o) => FashionMNIST.load(o);
console.log(shape, e.name, digits.length, images.shape, typeof load);
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: [] },
        files: ['main.ts'],
      }),
    );
    run(join(root, 'node_modules/.bin/tsc'), ['-p', dir], dir);
  }, 120_000);
});
