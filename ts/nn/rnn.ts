// Recurrent layers: RNN (the lecture's s_t = f(W s_{t−1} + U x_t)), LSTM and GRU, their
// single-step cells, and padSequence. Each layer-direction runs as ONE fused op in Rust
// (crates/core/src/ops/rnn.rs) that processes the whole sequence and does backpropagation
// through time in its backward; this file only arranges layers, directions, layouts,
// dropout between layers and initial states around it.
//
// Parameters carry PyTorch's names and layouts (weight_ih_l0 [G·H, I], weight_hh_l0 [G·H, H],
// bias_ih_l0, bias_hh_l0, a `_reverse` suffix for the backward direction; gate order i,f,g,o
// for LSTM and r,z,n for GRU), so `loadStateDict(torchStateDict)` works unchanged.
//
// Variable-length batches: instead of PyTorch's PackedSequence, `forward` takes
// `{ lengths }` (one length per batch element) with a padded input. Steps at or after an
// element's length do not touch its state and output zeros, so `output` equals PyTorch's
// `pad_packed_sequence(rnn(pack_padded_sequence(x, lengths)), total_length=T)` and `hN` is
// each element's state after its last real step (for the reverse direction: after its
// first step, having started at its last real one). Lengths need not be sorted.

import { Tensor } from '../tensor.js';
import { zeros, stack, cat, full } from '../creation.js';
import { FerrogradError } from '../errors.js';
import * as ops from '../wasm/ops.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import * as init from './init.js';
import * as F from '../functional.js';

/** Options shared by `RNN`, `LSTM` and `GRU`. */
export interface RNNBaseOptions {
  /** Stacked layers; layer k > 0 reads the output of layer k − 1 (default 1). */
  numLayers?: number;
  /** Learn bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** Input and output are `[batch, seq, feature]` instead of `[seq, batch, feature]` (default false). States stay `[layers·directions, batch, hidden]`, as in PyTorch. */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Add a reverse-direction layer whose outputs are concatenated with the forward ones (default false). */
  bidirectional?: boolean;
}

/** Options of `RNN`. */
export interface RNNOptions extends RNNBaseOptions {
  /** f in s_t = f(W s_{t−1} + U x_t) (default 'tanh'). */
  nonlinearity?: 'tanh' | 'relu';
}

/** Per-call options of a recurrent layer's `forward`. */
export interface RNNForwardOptions {
  /**
   * Real length of each batch element's sequence in a padded batch (each in [0, seqLen]).
   * Padded steps leave the state alone and output zeros; see the file comment.
   */
  lengths?: readonly number[] | Tensor;
}

function checkSize(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new FerrogradError('value', `${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

function shapeOf(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** The lengths as integers, checked against the batch and sequence sizes. */
function readLengths(op: string, lengths: readonly number[] | Tensor | undefined, batch: number, seqLen: number): number[] | null {
  if (lengths === undefined) return null;
  const l = lengths instanceof Tensor ? Array.from(lengths.data()) : [...lengths];
  if (l.length !== batch) throw new FerrogradError('value', `${op}: lengths has ${l.length} entries but the batch has ${batch}`);
  for (const n of l) {
    if (!Number.isInteger(n) || n < 0 || n > seqLen) {
      throw new FerrogradError('value', `${op}: every length must be an integer in [0, ${seqLen}] (the sequence length), got ${n}`);
    }
  }
  return l;
}

/** Reads a parameter registered under a PyTorch name. */
function paramOf(m: Module, name: string): Parameter {
  const v: unknown = Reflect.get(m, name);
  if (!(v instanceof Parameter)) throw new FerrogradError('value', `${m.constructor.name}: parameter ${name} is missing`);
  return v;
}

/** Registers `p` under `name` so that namedParameters() and state dicts see it. */
function register(m: Module, name: string, p: Parameter): void {
  Object.defineProperty(m, name, { value: p, enumerable: true, writable: true, configurable: true });
}

/**
 * The functional form of one layer-direction: the fused op on a time-major `[T, B, I]`
 * input with states `[B, H]`. Returns the packed `[T + S, B, H]` tensor (per-step outputs,
 * then hN, then cN for LSTM); the modules split it.
 *
 * @example
 * ```ts
 * const y = rnnLayer('gru', x, h0, null, wIh, wHh, [bIh, bHh], false, null); // x [T, B, I]
 * ```
 */
export function rnnLayer(
  mode: ops.RnnModeName, x: Tensor, h0: Tensor, c0: Tensor | null, wIh: Tensor, wHh: Tensor,
  bias: readonly [Tensor, Tensor] | null, reverse: boolean, lengths: readonly number[] | null,
): Tensor {
  return new Tensor(ops.rnn(mode, x.id, h0.id, c0 ? c0.id : null, wIh.id, wHh.id, bias ? [bias[0].id, bias[1].id] : null, reverse, lengths));
}

/** One layer-direction; returns [output, hN, cN | null]. */
function runDirection(
  mode: ops.RnnModeName, x: Tensor, h0: Tensor, c0: Tensor | null, wIh: Tensor, wHh: Tensor,
  bias: [Tensor, Tensor] | null, reverse: boolean, lengths: number[] | null,
): [Tensor, Tensor, Tensor | null] {
  const packed = rnnLayer(mode, x, h0, c0, wIh, wHh, bias, reverse, lengths);
  const t = x.shape[0];
  return [packed.narrow(0, 0, t), packed.select(0, t), mode === 'lstm' ? packed.select(0, t + 1) : null];
}

/**
 * The machinery shared by `RNN`, `LSTM` and `GRU`: parameter registration under
 * PyTorch's names, PyTorch's U(±1/√hiddenSize) initialisation, and the layer loop.
 */
export abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  constructor(
    readonly mode: ops.RnnModeName,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNBaseOptions = {},
  ) {
    super();
    const op = this.constructor.name;
    this.numLayers = options.numLayers ?? 1;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    checkSize(op, 'inputSize', inputSize, 0);
    checkSize(op, 'hiddenSize', hiddenSize, 1);
    checkSize(op, 'numLayers', this.numLayers, 1);
    if (!(this.dropout >= 0 && this.dropout <= 1)) {
      throw new FerrogradError('value', `${op}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got ${this.dropout}`);
    }
    const g = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? inputSize : hiddenSize * dirs;
        register(this, `weight_ih${sfx}`, new Parameter(zeros([g * hiddenSize, inSize])));
        register(this, `weight_hh${sfx}`, new Parameter(zeros([g * hiddenSize, hiddenSize])));
        if (this.bias) {
          register(this, `bias_ih${sfx}`, new Parameter(zeros([g * hiddenSize])));
          register(this, `bias_hh${sfx}`, new Parameter(zeros([g * hiddenSize])));
        }
      }
    }
    this.resetParameters();
  }

  /** PyTorch's init: every weight and bias from U(−1/√hiddenSize, 1/√hiddenSize). */
  resetParameters(): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) init.uniform_(p, -k, k);
  }

  /** Directions per layer: 2 when bidirectional. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The initial-state shape for a batch (`null` batch = unbatched input). */
  protected stateShape(batch: number | null): number[] {
    const n = this.numLayers * this.numDirections;
    return batch === null ? [n, this.hiddenSize] : [n, batch, this.hiddenSize];
  }

  protected checkState(name: string, s: Tensor, batch: number | null): void {
    const want = this.stateShape(batch);
    if (s.shape.join() !== want.join()) {
      throw new FerrogradError(
        'shape',
        `${this.constructor.name}: expected ${name} of shape [${want.join(', ')}] (numLayers·numDirections${batch === null ? '' : ', batch'}, hiddenSize), got ${shapeOf(s)}`,
      );
    }
  }

  /**
   * Runs every layer and direction. `input` is already checked; states are
   * `[layers·dirs, B, H]` (batched). Returns [output (layout of the input), hN, cN | null].
   */
  protected runLayers(input: Tensor, h0: Tensor | null, c0: Tensor | null, options: RNNForwardOptions): [Tensor, Tensor, Tensor | null] {
    const op = this.constructor.name;
    if (input.dtype !== 'float32') throw new FerrogradError('dtype', `${op}: input must be float32, got ${input.dtype}; call .float() first`);
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new FerrogradError('shape', `${op}: expected input of 2 dims (unbatched [seqLen, inputSize]) or 3 dims, got ${shapeOf(input)}`);
    }
    if (input.shape[input.ndim - 1] !== this.inputSize) {
      throw new FerrogradError('shape', `${op}: input of shape ${shapeOf(input)} must end in inputSize=${this.inputSize} features`);
    }
    const unbatched = input.ndim === 2;
    let x = unbatched ? input.unsqueeze(1) : this.batchFirst ? input.transpose(0, 1) : input;
    const [t, b] = x.shape;
    const batchOf = unbatched ? null : b;
    if (h0) this.checkState('h0', h0, batchOf);
    if (c0) this.checkState('c0', c0, batchOf);
    const lengths = readLengths(op, options.lengths, b, t);
    const lift = (s: Tensor | null): Tensor => (s === null ? zeros(this.stateShape(b)) : unbatched ? s.unsqueeze(1) : s);
    const hInit = lift(h0);
    const cInit = this.mode === 'lstm' ? lift(c0) : null;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const k = l * this.numDirections + d;
        const bias: [Tensor, Tensor] | null = this.bias ? [paramOf(this, `bias_ih${sfx}`), paramOf(this, `bias_hh${sfx}`)] : null;
        const [o, hN, cN] = runDirection(
          this.mode, x, hInit.select(0, k), cInit ? cInit.select(0, k) : null,
          paramOf(this, `weight_ih${sfx}`), paramOf(this, `weight_hh${sfx}`), bias, d === 1, lengths,
        );
        outs.push(o);
        hs.push(hN);
        if (cN) cs.push(cN);
      }
      x = outs.length === 1 ? outs[0] : cat(outs, 2);
      if (l < this.numLayers - 1) x = F.dropout(x, this.dropout, this.training);
    }
    let hN = stack(hs, 0);
    let cN = cs.length ? stack(cs, 0) : null;
    if (unbatched) {
      x = x.squeeze(1);
      hN = hN.squeeze(1);
      cN = cN ? cN.squeeze(1) : null;
    } else if (this.batchFirst) {
      x = x.transpose(0, 1);
    }
    return [x, hN, cN];
  }

  override extraRepr(): string {
    const extra = [
      this.numLayers !== 1 ? `, num_layers=${this.numLayers}` : '',
      this.bias ? '' : ', bias=False',
      this.batchFirst ? ', batch_first=True' : '',
      this.dropout ? `, dropout=${this.dropout}` : '',
      this.bidirectional ? ', bidirectional=True' : '',
    ];
    return `${this.inputSize}, ${this.hiddenSize}${extra.join('')}`;
  }
}

/**
 * Elman RNN, the lecture's s_t = f(W s_{t−1} + U x_t) with f = tanh or relu:
 * h_t = f(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), stacked over `numLayers`.
 * `forward(input, h0?, { lengths }?)` returns `[output, hN]`: output `[T, B, D·H]`
 * (`[B, T, D·H]` with batchFirst), hN `[numLayers·D, B, H]`.
 *
 * @example
 * ```ts
 * const rnn = new nn.RNN(10, 20, { numLayers: 2, batchFirst: true });
 * const [out, hN] = rnn.forward(randn([3, 5, 10])); // out [3, 5, 20], hN [2, 3, 20]
 * ```
 */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new FerrogradError('value', `RNN: unknown nonlinearity '${String(nl)}' (use 'tanh' or 'relu')`);
    super(nl, inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  forward(input: Tensor, h0?: Tensor | null, options?: RNNForwardOptions): [Tensor, Tensor];
  /** Module's generic signature; recurrent layers return `[output, hN]`, see above. */
  forward(...inputs: Tensor[]): Tensor;
  forward(input: Tensor, h0?: Tensor | null, options?: RNNForwardOptions | Tensor): [Tensor, Tensor] | Tensor {
    const [out, hN] = this.runLayers(input, h0 ?? null, null, options instanceof Tensor ? {} : options ?? {});
    return [out, hN];
  }
  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'relu' ? ", nonlinearity='relu'" : '');
  }
}

/**
 * Long short-term memory: i, f, o = σ(·), g = tanh(·) from x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh
 * (gate blocks i, f, g, o); c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t).
 * `forward(input, [h0, c0]?, { lengths }?)` returns `[output, [hN, cN]]`.
 *
 * @example
 * ```ts
 * const lstm = new nn.LSTM(8, 16, { bidirectional: true });
 * const [out, [hN, cN]] = lstm.forward(randn([12, 4, 8])); // out [12, 4, 32], hN/cN [2, 4, 16]
 * ```
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null, options?: RNNForwardOptions): [Tensor, [Tensor, Tensor]];
  /** Module's generic signature; LSTM returns `[output, [hN, cN]]`, see above. */
  forward(...inputs: Tensor[]): Tensor;
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | Tensor | null, options?: RNNForwardOptions | Tensor): [Tensor, [Tensor, Tensor]] | Tensor {
    if (hx instanceof Tensor) throw new FerrogradError('value', 'LSTM: the initial state must be a pair [h0, c0]');
    const [out, hN, cN] = this.runLayers(input, hx ? hx[0] : null, hx ? hx[1] : null, options instanceof Tensor ? {} : options ?? {});
    if (cN === null) throw new FerrogradError('value', 'LSTM: no cell state was produced'); // unreachable: mode is lstm
    return [out, [hN, cN]];
  }
}

/**
 * Gated recurrent unit: r, z = σ(·) from x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh (blocks r, z, n);
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
 * `forward(input, h0?, { lengths }?)` returns `[output, hN]`.
 *
 * @example
 * ```ts
 * const gru = new nn.GRU(8, 16, { numLayers: 2, dropout: 0.1 });
 * const [out, hN] = gru.forward(randn([12, 4, 8])); // out [12, 4, 16], hN [2, 4, 16]
 * ```
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, h0?: Tensor | null, options?: RNNForwardOptions): [Tensor, Tensor];
  /** Module's generic signature; GRU returns `[output, hN]`, see above. */
  forward(...inputs: Tensor[]): Tensor;
  forward(input: Tensor, h0?: Tensor | null, options?: RNNForwardOptions | Tensor): [Tensor, Tensor] | Tensor {
    const [out, hN] = this.runLayers(input, h0 ?? null, null, options instanceof Tensor ? {} : options ?? {});
    return [out, hN];
  }
}

// ---- cells: one step, for hand-written loops such as a decoder ----

/** Options of the cells. */
export interface RNNCellOptions {
  bias?: boolean;
}

/**
 * One step of a recurrent cell, on the same fused op with a sequence of length 1. Input
 * `[B, I]` (or unbatched `[I]`), states `[B, H]` (or `[H]`); weights named weight_ih,
 * weight_hh, bias_ih, bias_hh as in PyTorch.
 */
export abstract class RNNCellBase extends Module {
  readonly bias: boolean;
  constructor(
    readonly mode: ops.RnnModeName,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNCellOptions = {},
  ) {
    super();
    const op = this.constructor.name;
    checkSize(op, 'inputSize', inputSize, 0);
    checkSize(op, 'hiddenSize', hiddenSize, 1);
    this.bias = options.bias ?? true;
    const g = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
    register(this, 'weight_ih', new Parameter(zeros([g * hiddenSize, inputSize])));
    register(this, 'weight_hh', new Parameter(zeros([g * hiddenSize, hiddenSize])));
    if (this.bias) {
      register(this, 'bias_ih', new Parameter(zeros([g * hiddenSize])));
      register(this, 'bias_hh', new Parameter(zeros([g * hiddenSize])));
    }
    this.resetParameters();
  }
  /** PyTorch's init: U(−1/√hiddenSize, 1/√hiddenSize) for everything. */
  resetParameters(): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) init.uniform_(p, -k, k);
  }
  /** Runs one step; returns [h', c' | null] in the layout of the input. */
  protected step(input: Tensor, h: Tensor | null, c: Tensor | null): [Tensor, Tensor | null] {
    const op = this.constructor.name;
    if (input.dtype !== 'float32') throw new FerrogradError('dtype', `${op}: input must be float32, got ${input.dtype}; call .float() first`);
    if ((input.ndim !== 1 && input.ndim !== 2) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new FerrogradError('shape', `${op}: expected input [batch, ${this.inputSize}] or [${this.inputSize}], got ${shapeOf(input)}`);
    }
    const unbatched = input.ndim === 1;
    const b = unbatched ? 1 : input.shape[0];
    const want = unbatched ? [this.hiddenSize] : [b, this.hiddenSize];
    for (const [name, s] of [['hidden state', h], ['cell state', c]] as const) {
      if (s && s.shape.join() !== want.join()) {
        throw new FerrogradError('shape', `${op}: expected ${name} of shape [${want.join(', ')}], got ${shapeOf(s)}`);
      }
    }
    const lift = (s: Tensor | null): Tensor => (s === null ? zeros([b, this.hiddenSize]) : unbatched ? s.unsqueeze(0) : s);
    const x = (unbatched ? input.unsqueeze(0) : input).unsqueeze(0);
    const bias: [Tensor, Tensor] | null = this.bias ? [paramOf(this, 'bias_ih'), paramOf(this, 'bias_hh')] : null;
    const [, hN, cN] = runDirection(
      this.mode, x, lift(h), this.mode === 'lstm' ? lift(c) : null, paramOf(this, 'weight_ih'), paramOf(this, 'weight_hh'), bias, false, null,
    );
    return unbatched ? [hN.squeeze(0), cN ? cN.squeeze(0) : null] : [hN, cN];
  }
  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? '' : ', bias=False'}`;
  }
}

/**
 * One Elman step: h' = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).
 *
 * @example
 * ```ts
 * const cell = new nn.RNNCell(10, 20);
 * let h = zeros([3, 20]);
 * for (const x of inputs) h = cell.forward(x, h); // x [3, 10]
 * ```
 */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new FerrogradError('value', `RNNCell: unknown nonlinearity '${String(nl)}' (use 'tanh' or 'relu')`);
    super(nl, inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.step(input, hx ?? null, null)[0];
  }
}

/**
 * One GRU step (gates r, z, n as in `GRU`).
 *
 * @example
 * ```ts
 * const cell = new nn.GRUCell(10, 20);
 * const h = cell.forward(randn([3, 10])); // [3, 20]
 * ```
 */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.step(input, hx ?? null, null)[0];
  }
}

/**
 * One LSTM step; returns `[h', c']`.
 *
 * @example
 * ```ts
 * const cell = new nn.LSTMCell(10, 20);
 * let [h, c] = cell.forward(randn([3, 10]));
 * [h, c] = cell.forward(randn([3, 10]), [h, c]);
 * ```
 */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor];
  /** Module's generic signature; LSTMCell returns `[h', c']`, see above. */
  forward(...inputs: Tensor[]): Tensor;
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | Tensor | null): [Tensor, Tensor] | Tensor {
    if (hx instanceof Tensor) throw new FerrogradError('value', 'LSTMCell: the state must be a pair [h, c]');
    const [h, c] = this.step(input, hx ? hx[0] : null, hx ? hx[1] : null);
    if (c === null) throw new FerrogradError('value', 'LSTMCell: no cell state was produced'); // unreachable: mode is lstm
    return [h, c];
  }
}

/** Options of `padSequence`. */
export interface PadSequenceOptions {
  /** Return `[B, T, *]` instead of `[T, B, *]` (default false). */
  batchFirst?: boolean;
  /** Value of the padded positions (default 0). */
  paddingValue?: number;
}

/**
 * Stacks sequences of different lengths (`[Tᵢ, *]`) into one padded tensor, as PyTorch's
 * `pad_sequence`, and returns it with the lengths to pass as `{ lengths }`.
 *
 * @example
 * ```ts
 * const [x, lengths] = nn.padSequence([randn([5, 8]), randn([3, 8])], { batchFirst: true });
 * const [out, hN] = gru.forward(x, null, { lengths }); // x [2, 5, 8]
 * ```
 */
export function padSequence(sequences: readonly Tensor[], options: PadSequenceOptions = {}): [Tensor, number[]] {
  if (sequences.length === 0) throw new FerrogradError('value', 'padSequence: received an empty list of sequences');
  const rest = sequences[0].shape.slice(1);
  for (const s of sequences) {
    if (s.ndim < 1 || s.shape.slice(1).join() !== rest.join()) {
      throw new FerrogradError('shape', `padSequence: every sequence must be [length, ${rest.join(', ')}], got ${shapeOf(s)}`);
    }
  }
  const lengths = sequences.map((s) => s.shape[0]);
  const t = Math.max(...lengths);
  const value = options.paddingValue ?? 0;
  const padded = sequences.map((s) =>
    s.shape[0] === t ? s : cat([s, full([t - s.shape[0], ...rest], value, { dtype: s.dtype })], 0),
  );
  return [stack(padded, options.batchFirst ? 0 : 1), lengths];
}
