// A variational autoencoder (the lecture's VAE) on Fashion-MNIST, or on the bundled UCI
// digits when Fashion-MNIST is not installed.
//
// The encoder maps x to the mean μ_x and log-variance log σ²_x of q(z | x) = N(μ_x, σ_x²);
// the reparameterisation trick z = μ_x + σ_x ⊙ ε, ε ~ N(0, I) keeps z differentiable in the
// encoder's outputs; the decoder d(z) gives pixel logits. The loss is the lecture's
//   reconstruction(x, d(z)) + KL[N(μ_x, σ_x), N(0, I)],  KL = −½ Σ (1 + log σ² − μ² − σ²),
// with the reconstruction term as binary cross-entropy over the pixels (the Bernoulli
// likelihood that suits [0, 1] images; --recon mse uses the lecture's ‖x − d(z)‖²). The ELBO
// is minus that loss. Both terms are reported per epoch, and the run writes:
//   out/vae.svg       test images above their reconstructions, 100 samples decoded from
//                     z ~ N(0, I), and (latent dim 2) the test set's μ coloured by class
//                     next to the decoded grid of the latent plane
//   out/vae-*.png     the same image grids as PNG
//
//   npm run example vae -- --epochs 5 --latent 2

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { nn, F, optim, data, manualSeed, noGrad, tidy, memory, randn, tensor, fromArray, type Tensor } from 'ferrograd';
import * as datasets from 'ferrograd/datasets';
import { ProgressBar } from './lib/progress.js';
import { lineChart, svgDocument } from './lib/svg.js';
import { parseArgs, numberFlag } from './lib/args.js';
import { imageGridPng } from './lib/png.js';

const args = parseArgs('Train a variational autoencoder on Fashion-MNIST (or the bundled digits).', [
  { name: 'epochs', help: 'passes over the training set', default: '5' },
  { name: 'latent', help: 'latent dimensions (2 also draws the latent plane)', default: '2' },
  { name: 'hidden', help: 'hidden units of encoder and decoder', default: '256' },
  { name: 'lr', help: 'Adam learning rate', default: '0.001' },
  { name: 'recon', help: "reconstruction term: 'bce' or 'mse' (the lecture's ‖x − d(z)‖²)", default: 'bce' },
  { name: 'seed', help: 'random seed', default: '0' },
  { name: 'data-root', help: 'folder with the Fashion-MNIST IDX files', default: '/usr/share/datasets/fashion-mnist' },
  { name: 'out', help: 'output folder', default: 'out' },
]);
manualSeed(numberFlag(args, 'seed', true));
const recon = args.recon === 'mse' ? 'mse' : 'bce';

// ---- data: flattened images in [0, 1] ----

interface Images { train: Tensor; trainLabels: Tensor; test: Tensor; testLabels: Tensor; side: number; classes: string[]; source: string }

async function loadImages(): Promise<Images> {
  try {
    const root = args['data-root'];
    const train = await datasets.FashionMNIST.load({ root, train: true });
    const test = await datasets.FashionMNIST.load({ root, train: false });
    return { train: train.data.reshape([-1, 784]), trainLabels: train.targets, test: test.data.reshape([-1, 784]), testLabels: test.targets, side: 28, classes: train.classes, source: 'Fashion-MNIST' };
  } catch {
    console.log('Fashion-MNIST was not found, so this trains on the bundled UCI digits (8×8) instead.');
  }
  const digits = new datasets.Digits();
  const [train, test] = data.randomSplit(new data.TensorDataset(digits.images.reshape([-1, 64]), digits.targets), [0.8, 0.2]);
  const rows = (s: data.Dataset<[Tensor, Tensor]>): [Tensor, Tensor] => {
    const items = Array.from({ length: s.length }, (_, i) => s.get(i));
    return [fromArray(items.flatMap((r) => Array.from(r[0].data())), [items.length, 64]), tensor(items.map((r) => r[1].item()), { dtype: 'int32' })];
  };
  const [tx, ty] = rows(train);
  const [vx, vy] = rows(test);
  return { train: tx, trainLabels: ty, test: vx, testLabels: vy, side: 8, classes: digits.classes, source: 'UCI digits' };
}

const imgs = await loadImages();
const D = imgs.side * imgs.side;
const Z = numberFlag(args, 'latent', true);
const Hd = numberFlag(args, 'hidden', true);
console.log(`${imgs.source}: ${imgs.train.shape[0]} training and ${imgs.test.shape[0]} test images of ${imgs.side}×${imgs.side}; latent dim ${Z}`);

// ---- model ----

class VAE extends nn.Module {
  enc = new nn.Linear(D, Hd);
  mu = new nn.Linear(Hd, Z);
  logVar = new nn.Linear(Hd, Z);
  dec1 = new nn.Linear(Z, Hd);
  dec2 = new nn.Linear(Hd, D);

  /** μ_x and log σ²_x of q(z | x). */
  encode(x: Tensor): [Tensor, Tensor] {
    const h = this.enc.forward(x).relu();
    return [this.mu.forward(h), this.logVar.forward(h)];
  }
  /** Pixel logits d(z); sigmoid gives the image. */
  decode(z: Tensor): Tensor {
    return this.dec2.forward(this.dec1.forward(z).relu());
  }
  /** Reparameterisation: z = μ + σ ⊙ ε with ε ~ N(0, I), so gradients reach μ and σ. */
  forward(x: Tensor): Tensor {
    const [mu, logVar] = this.encode(x);
    return this.decode(mu.add(logVar.mul(0.5).exp().mul(randn(mu.shape))));
  }
}

/** Per-example reconstruction and KL terms (summed over pixels / latent dims, averaged over the batch). */
function losses(model: VAE, x: Tensor): [Tensor, Tensor] {
  const [mu, logVar] = model.encode(x);
  const z = mu.add(logVar.mul(0.5).exp().mul(randn(mu.shape)));
  const logits = model.decode(z);
  const n = x.shape[0];
  const rec = recon === 'bce'
    ? F.binaryCrossEntropyWithLogits(logits, x, { reduction: 'sum' }).div(n)
    : logits.sigmoid().sub(x).pow(2).sum().div(n);
  const kl = logVar.add(1).sub(mu.pow(2)).sub(logVar.exp()).sum().mul(-0.5 / n);
  return [rec, kl];
}

const model = new VAE();
const opt = new optim.Adam(model.parameters(), { lr: numberFlag(args, 'lr') });
const loader = new data.DataLoader(new data.TensorDataset(imgs.train, imgs.trainLabels), { batchSize: 128, shuffle: true });
const epochs = numberFlag(args, 'epochs', true);
const history = { trainElbo: [] as number[], testElbo: [] as number[], rec: [] as number[], kl: [] as number[] };
const memBytes: number[] = [];
const started = performance.now();

for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  const bar = new ProgressBar({ label: `epoch ${epoch}/${epochs}`, total: loader.length });
  let recSum = 0;
  let klSum = 0;
  let seen = 0;
  for (const [x] of loader) {
    const [rec, kl] = losses(model, x);
    const loss = rec.add(kl);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    const n = x.shape[0];
    recSum += rec.item() * n;
    klSum += kl.item() * n;
    seen += n;
    bar.tick(n, loss.item());
  }
  // The test ELBO with the same single-sample estimate, in big batches without gradients.
  model.eval();
  const testElbo = noGrad(() => {
    let s = 0;
    const n = imgs.test.shape[0];
    for (let i = 0; i < n; i += 1000) {
      s += tidy(() => {
        const x = imgs.test.narrow(0, i, Math.min(1000, n - i));
        const [rec, kl] = losses(model, x);
        return -(rec.item() + kl.item()) * x.shape[0];
      });
    }
    return s / n;
  });
  const [r, k] = [recSum / seen, klSum / seen];
  history.rec.push(r);
  history.kl.push(k);
  history.trainElbo.push(-(r + k));
  history.testElbo.push(testElbo);
  memBytes.push(memory().bytes);
  console.log(
    `epoch ${epoch}: reconstruction ${r.toFixed(2)}  KL ${k.toFixed(2)}  train ELBO ${(-(r + k)).toFixed(2)}  test ELBO ${testElbo.toFixed(2)}  (nats per image; live tensors ${memory().tensors}, ${(memBytes[epoch - 1] / 2 ** 20).toFixed(1)} MiB)`,
  );
}
const seconds = (performance.now() - started) / 1000;
const improved = history.trainElbo.every((v, i) => i === 0 || v > history.trainElbo[i - 1]);
console.log(`trained in ${seconds.toFixed(0)} s; the training ELBO ${improved ? 'improved every epoch' : 'did NOT improve every epoch'}`);

// ---- pictures ----

const outDir = resolve(args.out);
await mkdir(outDir, { recursive: true });
const side = imgs.side;
const scale = side === 28 ? 2 : 5;

const [originals, recons, samples] = noGrad(() => {
  const x = imgs.test.narrow(0, 0, 16);
  const [mu] = model.encode(x);
  return [x.data(), model.decode(mu).sigmoid().data(), model.decode(randn([100, Z])).sigmoid().data()];
});
const pairImages = new Float32Array(32 * D);
pairImages.set(Float32Array.from(originals), 0);
pairImages.set(Float32Array.from(recons), 16 * D);
const reconPng = imageGridPng(pairImages, 32, side, 16, scale);
const samplePng = imageGridPng(Float32Array.from(samples), 100, side, 10, scale);
await writeFile(resolve(outDir, 'vae-reconstructions.png'), reconPng);
await writeFile(resolve(outDir, 'vae-samples.png'), samplePng);
const b64 = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
const cellPx = side * scale + 2;

const panels: string[] = [];
const W = 16 * cellPx + 2 + 40;
let y = 10;
panels.push(`<text x="20" y="${y + 16}" font-size="15" font-weight="bold">${imgs.source} test images (top) and their reconstructions d(μ_x) (bottom)</text>`);
panels.push(`<image x="20" y="${y + 26}" width="${16 * cellPx + 2}" height="${2 * cellPx + 2}" href="${b64(reconPng)}"/>`);
y += 2 * cellPx + 50;
panels.push(`<text x="20" y="${y + 16}" font-size="15" font-weight="bold">100 samples d(z), z ~ N(0, I)</text>`);
panels.push(`<image x="20" y="${y + 26}" width="${10 * cellPx + 2}" height="${10 * cellPx + 2}" href="${b64(samplePng)}"/>`);
panels.push(lineChart('ELBO per epoch (nats per image)', [
  { name: 'train ELBO', values: history.trainElbo, color: '#1f77b4' },
  { name: 'test ELBO', values: history.testElbo, color: '#d62728' },
], 20 + 10 * cellPx + 30, y + 20, W - (10 * cellPx + 60), 10 * cellPx / 2, 'ELBO'));
panels.push(lineChart('KL term per epoch', [{ name: 'KL', values: history.kl, color: '#2ca02c' }], 20 + 10 * cellPx + 30, y + 30 + 10 * cellPx / 2, W - (10 * cellPx + 60), 10 * cellPx / 2, 'nats'));
y += 10 * cellPx + 50;

if (Z === 2) {
  // Where the test images land (μ_x, coloured by class), and what the decoder draws across the plane.
  const n = Math.min(3000, imgs.test.shape[0]);
  const mus = noGrad(() => Array.from(model.encode(imgs.test.narrow(0, 0, n))[0].data()));
  const labels = Array.from(imgs.testLabels.narrow(0, 0, n).data());
  const size = 460;
  const lim = 3.5;
  const sx = (v: number): number => 20 + ((v + lim) / (2 * lim)) * size;
  const sy = (v: number): number => y + 30 + ((lim - v) / (2 * lim)) * size;
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  panels.push(`<text x="20" y="${y + 16}" font-size="15" font-weight="bold">latent means μ_x of ${n} test images</text>`);
  panels.push(`<rect x="20" y="${y + 30}" width="${size}" height="${size}" fill="none" stroke="#999"/>`);
  for (let i = 0; i < n; i++) {
    const [a, b] = [mus[2 * i], mus[2 * i + 1]];
    if (Math.abs(a) > lim || Math.abs(b) > lim) continue;
    panels.push(`<circle cx="${sx(a).toFixed(1)}" cy="${sy(b).toFixed(1)}" r="1.8" fill="${colors[labels[i] % 10]}" fill-opacity="0.7"/>`);
  }
  imgs.classes.forEach((c, k) => {
    panels.push(`<rect x="${30 + size}" y="${y + 40 + 18 * k}" width="10" height="10" fill="${colors[k]}"/>`);
    panels.push(`<text x="${45 + size}" y="${y + 49 + 18 * k}" font-size="12">${c.replace(/&/g, '&amp;')}</text>`);
  });
  const g = 15;
  const grid = noGrad(() => {
    const zs: number[] = [];
    for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) zs.push(-2.5 + (5 * j) / (g - 1), 2.5 - (5 * i) / (g - 1));
    return Float32Array.from(model.decode(fromArray(zs, [g * g, 2])).sigmoid().data());
  });
  const gridPng = imageGridPng(grid, g * g, side, g, side === 28 ? 1 : 3);
  await writeFile(resolve(outDir, 'vae-latent-grid.png'), gridPng);
  const gx = 170 + size;
  const gw = size;
  panels.push(`<text x="${gx}" y="${y + 16}" font-size="15" font-weight="bold">decoder d(z) over z ∈ [−2.5, 2.5]²</text>`);
  panels.push(`<image x="${gx}" y="${y + 30}" width="${gw}" height="${gw}" href="${b64(gridPng)}"/>`);
  y += size + 50;
}
const svgPath = resolve(outDir, 'vae.svg');
await writeFile(svgPath, svgDocument(Math.max(W, 1120), y, panels));
console.log(`wrote ${svgPath} and ${resolve(outDir, 'vae-*.png')}`);
console.log(`live bytes after each epoch: ${memBytes.map((b) => (b / 2 ** 20).toFixed(1)).join(', ')} MiB`);
