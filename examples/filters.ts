// The lecture's filter table applied with F.conv2d to one image: identity, three
// edge detectors, sharpen, box blur and Gaussian blur. Writes out/filters.svg.
//
//   npm run example filters

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { F, tensor, type Tensor } from 'ferrograd';
import { loadImageData } from './lib/image-data.js';
import { imageGrid, svgDocument } from './lib/svg.js';

const filters: [string, number[][]][] = [
  ['identity', [[0, 0, 0], [0, 1, 0], [0, 0, 0]]],
  ['edge detection 1', [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]],
  ['edge detection 2', [[0, 1, 0], [1, -4, 1], [0, 1, 0]]],
  ['edge detection 3', [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]],
  ['sharpen', [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]],
  ['box blur', [[1, 1, 1], [1, 1, 1], [1, 1, 1]].map((r) => r.map((v) => v / 9))],
  ['Gaussian blur', [[1, 2, 1], [2, 4, 2], [1, 2, 1]].map((r) => r.map((v) => v / 16))],
];

const { test, source } = await loadImageData('/usr/share/datasets/fashion-mnist');
const [img] = test.get(0); // [1, 28, 28]
// All seven filters as one conv2d with 7 output channels; 'same' keeps 28×28.
const weight = tensor(filters.map(([, k]) => [k]), { dtype: 'float32' }); // [7, 1, 3, 3]
const out = F.conv2d(img.unsqueeze(0), weight, null, { padding: 'same' }); // [1, 7, 28, 28]
const rows = (t: Tensor): number[][] => t.toArray() as number[][];

const grid = imageGrid(
  [{ title: `original (${source})`, pixels: rows(img.select(0, 0)) }, ...filters.map(([name], i) => ({ title: name, pixels: rows(out.select(0, 0).select(0, i)) }))],
  4,
  6,
);
await mkdir('out', { recursive: true });
const path = resolve('out/filters.svg');
await writeFile(path, svgDocument(grid.width, grid.height, grid.body));
console.log(`applied ${filters.length} filters to a ${img.shape.join('×')} image; picture: ${path}`);
