// A one-line progress bar for training loops: batches done, running loss,
// examples per second and ETA. On a terminal it redraws in place; when output goes
// to a file or a pipe it prints a plain line every tenth of the epoch instead.

export interface ProgressOptions {
  /** Label before the bar, e.g. 'epoch 1/5'. */
  label: string;
  /** Number of batches in the epoch. */
  total: number;
  /** Output stream (default process.stdout). */
  stream?: NodeJS.WriteStream;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class ProgressBar {
  readonly #o: Required<ProgressOptions>;
  readonly #start = performance.now();
  #done = 0;
  #examples = 0;
  #lossSum = 0;
  #lastPlain = -1;

  constructor(options: ProgressOptions) {
    this.#o = { stream: process.stdout, ...options };
  }

  /** Records one batch of `examples` examples with its loss. */
  tick(examples: number, loss: number): void {
    this.#done += 1;
    this.#examples += examples;
    this.#lossSum += loss;
    const { stream, total } = this.#o;
    if (stream.isTTY) {
      stream.write(`\r${this.line()}`);
      if (this.#done === total) stream.write('\n');
      return;
    }
    const tenth = Math.floor((10 * this.#done) / total);
    if (tenth !== this.#lastPlain || this.#done === total) {
      this.#lastPlain = tenth;
      stream.write(`${this.line()}\n`);
    }
  }

  /** Mean loss over the batches so far. */
  get meanLoss(): number {
    return this.#done ? this.#lossSum / this.#done : NaN;
  }

  line(): string {
    const { label, total, stream } = this.#o;
    const elapsed = (performance.now() - this.#start) / 1000;
    const rate = this.#examples / Math.max(elapsed, 1e-9);
    const eta = ((total - this.#done) * elapsed) / Math.max(this.#done, 1);
    const width = stream.isTTY ? Math.max(10, Math.min(30, (stream.columns ?? 80) - 70)) : 20;
    const filled = Math.round((width * this.#done) / total);
    const bar = '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 && filled < width ? '>' : filled === width ? '=' : '') + ' '.repeat(width - filled);
    return `${label} [${bar}] ${this.#done}/${total} loss ${this.meanLoss.toFixed(4)} ${rate.toFixed(0)} ex/s ETA ${clock(eta)}`;
  }
}
