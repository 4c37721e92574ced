// Small SVG charts for the examples: line charts of per-epoch curves and a confusion
// matrix heatmap, composed side by side into one picture. No dependencies.

export interface Series {
  name: string;
  values: number[];
  color: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A line chart of one or more series against epoch (1, 2, …) in a w×h panel at (x, y). */
export function lineChart(title: string, series: Series[], x: number, y: number, w: number, h: number, yLabel: string): string {
  const pad = { l: 56, r: 12, t: 28, b: 36 };
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const span = hi - lo;
  lo -= span * 0.05;
  hi += span * 0.05;
  const n = Math.max(...series.map((s) => s.values.length), 1);
  // A single epoch sits in the middle of the axis.
  const px = (i: number): number => x + pad.l + (n === 1 ? (w - pad.l - pad.r) / 2 : ((w - pad.l - pad.r) * i) / (n - 1));
  const py = (v: number): number => y + pad.t + ((h - pad.t - pad.b) * (hi - v)) / (hi - lo);
  const out: string[] = [`<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    out.push(`<line x1="${x + pad.l}" x2="${x + w - pad.r}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${x + pad.l - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${v.toPrecision(3)}</text>`);
  }
  for (let i = 0; i < n; i++) out.push(`<text x="${px(i)}" y="${y + h - pad.b + 16}" text-anchor="middle" font-size="11">${i + 1}</text>`);
  out.push(`<text x="${x + w / 2}" y="${y + h - 4}" text-anchor="middle" font-size="12">epoch</text>`);
  out.push(`<text x="${x + 14}" y="${y + h / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${x + 14} ${y + h / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [i, v] of s.values.entries()) out.push(`<circle cx="${px(i)}" cy="${py(v)}" r="3" fill="${s.color}"/>`);
    out.push(`<rect x="${x + w - 150}" y="${y + 30 + 16 * k}" width="12" height="3" fill="${s.color}"/>`);
    out.push(`<text x="${x + w - 132}" y="${y + 35 + 16 * k}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** A confusion matrix (rows: true class, columns: predicted) as a heatmap with counts. */
export function confusionMatrix(title: string, counts: number[][], classes: string[], x: number, y: number, size: number): string {
  const k = counts.length;
  const label = 90;
  const cell = (size - label - 10) / k;
  const max = Math.max(...counts.flat(), 1);
  const out: string[] = [`<text x="${x + size / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`];
  const top = y + 30;
  counts.forEach((row, i) => {
    out.push(`<text x="${x + label - 6}" y="${top + cell * (i + 0.5) + 4}" text-anchor="end" font-size="11">${esc(classes[i] ?? String(i))}</text>`);
    row.forEach((c, j) => {
      const a = c / max;
      const fill = `rgb(${Math.round(255 - 200 * a)},${Math.round(255 - 140 * a)},${Math.round(255 - 40 * a)})`;
      out.push(`<rect x="${x + label + cell * j}" y="${top + cell * i}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>`);
      out.push(`<text x="${x + label + cell * (j + 0.5)}" y="${top + cell * (i + 0.5) + 4}" text-anchor="middle" font-size="${Math.min(11, cell / 3)}" fill="${a > 0.6 ? '#fff' : '#000'}">${c}</text>`);
    });
  });
  classes.forEach((c, j) => {
    const cx = x + label + cell * (j + 0.5);
    const cy = top + cell * k + 8;
    out.push(`<text x="${cx}" y="${cy}" font-size="11" text-anchor="end" transform="rotate(-45 ${cx} ${cy})">${esc(c)}</text>`);
  });
  out.push(`<text x="${x + label + (cell * k) / 2}" y="${top + cell * k + 80}" text-anchor="middle" font-size="12">predicted</text>`);
  return out.join('\n');
}

/** Wraps panels into a standalone SVG document. */
export function svgDocument(width: number, height: number, body: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${body.join('\n')}
</svg>
`;
}

/** Grayscale images (rows of pixel values) as rect grids with captions, `cols` per row. */
export function imageGrid(images: { title: string; pixels: number[][] }[], cols: number, scale: number): { body: string[]; width: number; height: number } {
  const body: string[] = [];
  const h = Math.max(...images.map((im) => im.pixels.length));
  const w = Math.max(...images.map((im) => im.pixels[0]?.length ?? 0));
  const cellW = w * scale + 20;
  const cellH = h * scale + 36;
  images.forEach((im, k) => {
    const x0 = (k % cols) * cellW + 10;
    const y0 = Math.floor(k / cols) * cellH + 24;
    const flat = im.pixels.flat();
    const lo = Math.min(...flat);
    const hi = Math.max(...flat);
    body.push(`<text x="${x0 + (w * scale) / 2}" y="${y0 - 8}" text-anchor="middle" font-size="12">${esc(im.title)}</text>`);
    im.pixels.forEach((row, i) =>
      row.forEach((v, j) => {
        const g = hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128;
        body.push(`<rect x="${x0 + j * scale}" y="${y0 + i * scale}" width="${scale}" height="${scale}" fill="rgb(${g},${g},${g})"/>`);
      }),
    );
  });
  return { body, width: cols * cellW + 10, height: Math.ceil(images.length / cols) * cellH + 10 };
}
