// Sequence to sequence (the lecture's encoder–decoder): translate dates written in many ways
// ("twenty-six november two thousand twenty-six", "26 Nov 2026", "Nov 26, 2026", …) into ISO
// "2026-11-26".
//
// Encoder: Embedding → bidirectional GRU over the padded batch (with { lengths }, so padding
// does not touch the state); its two final states give the context c. Decoder: a GRU whose
// input at each step is [embedding of the previous output character, c], started from
// tanh(W·c). Training uses teacher forcing (the decoder reads the true previous character,
// so the whole target runs as one fused GRU call); evaluation decodes greedily, one step at a
// time, feeding back its own argmax. Dates in the held-out set never occur in training,
// in any format.
//
//   npm run example seq2seq -- --epochs 3 --hidden 64

import { nn, optim, tensor, cat, manualSeed, noGrad, tidy, memory, type Tensor } from 'ferrograd';
import { ProgressBar } from './lib/progress.js';
import { parseArgs, numberFlag } from './lib/args.js';

const args = parseArgs('Train a GRU encoder–decoder to turn dates into ISO 8601.', [
  { name: 'epochs', help: 'passes over the training set', default: '3' },
  { name: 'train', help: 'number of distinct training dates', default: '3000' },
  { name: 'test', help: 'number of distinct held-out dates', default: '1000' },
  { name: 'hidden', help: 'GRU hidden size', default: '64' },
  { name: 'batch', help: 'batch size', default: '64' },
  { name: 'lr', help: 'Adam learning rate', default: '0.003' },
  { name: 'seed', help: 'random seed', default: '0' },
]);
const seed = numberFlag(args, 'seed', true);
manualSeed(seed);

// ---- data: dates in words and numbers ----

function mulberry32(s0: number): () => number {
  let s = s0 >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(seed + 1);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const ABBR = MONTHS.map((m) => m.slice(0, 3).replace(/^./, (c) => c.toUpperCase()));

/** 0–99 in words: "twenty-six". */
function words(n: number): string {
  return n < 20 ? ONES[n] : TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
}
/** 1950–2049 as spoken: "nineteen eighty-four", "two thousand five", "two thousand twenty-six". */
function yearWords(y: number): string {
  if (y >= 2000) return y === 2000 ? 'two thousand' : `two thousand ${words(y - 2000)}`;
  return `${words(Math.floor(y / 100))} ${words(y % 100)}`;
}

interface DateParts { y: number; m: number; d: number }
const pad2 = (n: number): string => String(n).padStart(2, '0');
const iso = (p: DateParts): string => `${p.y}-${pad2(p.m)}-${pad2(p.d)}`;

const FORMATS: ((p: DateParts) => string)[] = [
  (p) => `${words(p.d)} ${MONTHS[p.m - 1]} ${yearWords(p.y)}`,
  (p) => `${MONTHS[p.m - 1]} ${words(p.d)}, ${yearWords(p.y)}`,
  (p) => `${p.d} ${ABBR[p.m - 1]} ${p.y}`,
  (p) => `${ABBR[p.m - 1]} ${p.d}, ${p.y}`,
  (p) => `${p.d} ${MONTHS[p.m - 1]} ${p.y}`,
  (p) => `${pad2(p.d)}.${pad2(p.m)}.${p.y}`,
  (p) => `${words(p.d)} ${ABBR[p.m - 1]} ${p.y}`,
];

/** Distinct random dates in 1950–2049. */
function sampleDates(n: number, exclude: Set<string>): DateParts[] {
  const out: DateParts[] = [];
  const seen = new Set(exclude);
  while (out.length < n) {
    const t = Date.UTC(1950, 0, 1) + Math.floor(random() * 100 * 365.25) * 86_400_000;
    const dt = new Date(t);
    const p = { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
    if (p.y > 2049 || seen.has(iso(p))) continue;
    seen.add(iso(p));
    out.push(p);
  }
  return out;
}

/** Words, single digits and punctuation, lower-cased; spaces become a token of their own. */
function tokenize(s: string): string[] {
  return s.toLowerCase().match(/[a-z]+|[0-9]|[^a-z0-9]/g) ?? [];
}

const SRC_VOCAB = ['<pad>', ...new Set([...ONES, ...TENS.filter(Boolean), 'thousand', ...MONTHS, ...ABBR.map((a) => a.toLowerCase()),
  ...'0123456789'.split(''), ' ', '-', ',', '.'])];
const SRC_ID = new Map(SRC_VOCAB.map((w, i) => [w, i]));
const TGT_VOCAB = [...'0123456789-'.split(''), '<bos>'];
const BOS = TGT_VOCAB.length - 1;
const OUT_CLASSES = TGT_VOCAB.length - 1; // the decoder never emits <bos>
const TGT_LEN = 10;

interface Example { text: string; src: number[]; tgt: number[]; answer: string }
function encode(text: string, answer: string): Example {
  const src = tokenize(text).map((t) => {
    const id = SRC_ID.get(t);
    if (id === undefined) throw new Error(`token '${t}' of '${text}' is not in the vocabulary`);
    return id;
  });
  return { text, src, tgt: [...answer].map((c) => TGT_VOCAB.indexOf(c)), answer };
}

const trainDates = sampleDates(numberFlag(args, 'train', true), new Set());
const testDates = sampleDates(numberFlag(args, 'test', true), new Set(trainDates.map(iso)));
// Every training date in every format; each held-out date once, in a random format.
const trainSet = trainDates.flatMap((p) => FORMATS.map((f) => encode(f(p), iso(p))));
const testSet = testDates.map((p) => encode(pick(FORMATS)(p), iso(p)));
console.log(`${trainSet.length} training pairs (${trainDates.length} dates × ${FORMATS.length} formats), ${testSet.length} held-out pairs`);
console.log(`e.g. "${trainSet[0].text}" → ${trainSet[0].answer};  "${trainSet[2].text}" → ${trainSet[2].answer}`);

// ---- model ----

const H = numberFlag(args, 'hidden', true);

class Seq2Seq extends nn.Module {
  srcEmbed = new nn.Embedding(SRC_VOCAB.length, 64, { paddingIdx: 0 });
  encoder = new nn.GRU(64, H, { bidirectional: true, batchFirst: true });
  bridge = new nn.Linear(2 * H, H);
  tgtEmbed = new nn.Embedding(TGT_VOCAB.length, 32);
  decoder = new nn.GRU(32 + 2 * H, H, { batchFirst: true });
  out = new nn.Linear(H, OUT_CLASSES);

  /** The context c [B, 2H] (both directions' final states) and the decoder's h0 [1, B, H]. */
  encode(src: Tensor, lengths: number[]): [Tensor, Tensor] {
    const [, hN] = this.encoder.forward(this.srcEmbed.forward(src), null, { lengths });
    const ctx = cat([hN.select(0, 0), hN.select(0, 1)], 1);
    return [ctx, this.bridge.forward(ctx).tanh().unsqueeze(0)];
  }
  /** Decoder logits [B, T, classes] for previous-character inputs prev [B, T]. */
  decode(prev: Tensor, ctx: Tensor, h: Tensor): [Tensor, Tensor] {
    const [b, t] = prev.shape;
    const x = cat([this.tgtEmbed.forward(prev), ctx.unsqueeze(1).expand([b, t, ctx.shape[1]])], 2);
    const [o, hN] = this.decoder.forward(x, h);
    return [this.out.forward(o), hN];
  }
  /** Teacher forcing: the decoder reads <bos> and the true characters. */
  forward(src: Tensor, tgtIn: Tensor, lengthsT: Tensor): Tensor {
    const [ctx, h0] = this.encode(src, Array.from(lengthsT.data()));
    return this.decode(tgtIn, ctx, h0)[0];
  }
  /** Greedy decoding, one character at a time. */
  translate(src: Tensor, lengths: number[]): string[] {
    const [ctx, h0] = this.encode(src, lengths);
    const b = src.shape[0];
    let h = h0;
    let prev = tensor(new Array<number>(b).fill(BOS), { dtype: 'int32', shape: [b, 1] });
    const chars: string[][] = Array.from({ length: b }, () => []);
    for (let t = 0; t < TGT_LEN; t++) {
      const [logits, hN] = this.decode(prev, ctx, h);
      h = hN;
      prev = logits.argmax(2);
      Array.from(prev.data()).forEach((c, i) => chars[i].push(TGT_VOCAB[c]));
    }
    return chars.map((c) => c.join(''));
  }
}

/** Pads a batch of examples: src [B, T] (0 = <pad>), lengths, decoder inputs and targets. */
function batchOf(ex: Example[]): { src: Tensor; lengths: number[]; tgtIn: Tensor; tgtOut: Tensor } {
  const t = Math.max(...ex.map((e) => e.src.length));
  const src = ex.flatMap((e) => [...e.src, ...new Array<number>(t - e.src.length).fill(0)]);
  return {
    src: tensor(src, { dtype: 'int32', shape: [ex.length, t] }),
    lengths: ex.map((e) => e.src.length),
    tgtIn: tensor(ex.flatMap((e) => [BOS, ...e.tgt.slice(0, -1)]), { dtype: 'int32', shape: [ex.length, TGT_LEN] }),
    tgtOut: tensor(ex.flatMap((e) => e.tgt), { dtype: 'int32', shape: [ex.length * TGT_LEN] }),
  };
}

function accuracy(model: Seq2Seq, set: Example[]): [number, Example[], string[]] {
  model.eval();
  const guesses: string[] = [];
  noGrad(() => {
    for (let i = 0; i < set.length; i += 500) {
      tidy(() => {
        const { src, lengths } = batchOf(set.slice(i, i + 500));
        guesses.push(...model.translate(src, lengths));
      });
    }
  });
  model.train();
  const right = set.filter((e, i) => guesses[i] === e.answer).length;
  return [right / set.length, set, guesses];
}

const model = new Seq2Seq();
const opt = new optim.Adam(model.parameters(), { lr: numberFlag(args, 'lr') });
const sched = new optim.CosineAnnealingLR(opt, { tMax: numberFlag(args, 'epochs', true) });
const lossFn = new nn.CrossEntropyLoss();
const epochs = numberFlag(args, 'epochs', true);
const batchSize = numberFlag(args, 'batch', true);
const started = performance.now();
const mem: number[] = [];
let acc = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const order = trainSet.map((_, i) => i).sort(() => random() - 0.5);
  const batches = Math.ceil(order.length / batchSize);
  const bar = new ProgressBar({ label: `epoch ${epoch}/${epochs}`, total: batches });
  for (let k = 0; k < batches; k++) {
    tidy(() => {
      const { src, lengths, tgtIn, tgtOut } = batchOf(order.slice(k * batchSize, (k + 1) * batchSize).map((i) => trainSet[i]));
      const logits = model.forward(src, tgtIn, tensor(lengths, { dtype: 'int32' }));
      const loss = lossFn.forward(logits.reshape([-1, OUT_CLASSES]), tgtOut);
      opt.zeroGrad();
      loss.backward();
      nn.utils.clipGradNorm_(model.parameters(), 1);
      opt.step();
      bar.tick(lengths.length, loss.item());
    });
  }
  sched.step();
  [acc] = accuracy(model, testSet);
  const m = memory();
  mem.push(m.bytes);
  console.log(`epoch ${epoch}: train loss ${bar.meanLoss.toFixed(4)}, held-out exact match ${(100 * acc).toFixed(1)}%, live tensors ${m.tensors} (${(m.bytes / 2 ** 20).toFixed(2)} MiB)`);
}
const seconds = (performance.now() - started) / 1000;

const [, set, guesses] = accuracy(model, testSet);
console.log('\nsome held-out translations:');
for (let i = 0; i < 8; i++) console.log(`  ${set[i].text.padEnd(48)} → ${guesses[i]} ${guesses[i] === set[i].answer ? '✓' : `✗ (${set[i].answer})`}`);
const wrong = set.map((e, i) => [e, guesses[i]] as const).filter(([e, g]) => g !== e.answer);
if (wrong.length) console.log(`first mistakes: ${wrong.slice(0, 4).map(([e, g]) => `"${e.text}" → ${g}`).join('; ')}`);
console.log(`\nheld-out exact match: ${(100 * acc).toFixed(1)}% of ${set.length} unseen dates, trained in ${seconds.toFixed(0)} s`);
console.log(`live bytes after each epoch: ${mem.map((b) => (b / 2 ** 20).toFixed(2)).join(', ')} MiB`);
