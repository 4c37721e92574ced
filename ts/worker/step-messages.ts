// What travels on a DataParallel replica's step port (shared memory only), outside
// Comlink: steps posted one by one, the training data a replica keeps, and runs of steps
// over that data; and the replies.

import type { TensorWire, ThrownWire } from './transfer.js';

/**
 * One step: the replica's shard (views of the BatchRing, or transferred arrays when the
 * ring's slot was taken; null for a replica without rows this step), the step's number
 * (from 0) and the shard sizes over the batch size, per rank.
 */
export interface StepMessage {
  kind: 'step';
  step: number;
  weights: number[];
  delayMs: number;
  x: TensorWire<ArrayBufferLike> | null;
  y: TensorWire<ArrayBufferLike> | null;
}

/** The training data the replica keeps for the runs that follow: views of shared memory. */
export interface DataMessage {
  kind: 'data';
  x: TensorWire<SharedArrayBuffer>;
  y: TensorWire<SharedArrayBuffer>;
}

/**
 * Steps `first`, `first + 1`, … over the data kept: batch b is the rows
 * `rows[bounds[b]]` to `rows[bounds[b + 1] - 1]`, and each step waits to be permitted
 * (see `awaitPermit`). `delays` holds the test hook's milliseconds per step and rank, if any.
 */
export interface RunMessage {
  kind: 'run';
  run: number;
  first: number;
  rows: Int32Array;
  bounds: Int32Array;
  delays: Float64Array | null;
}

export type ReplicaMessage = StepMessage | DataMessage | RunMessage;

/**
 * What comes back: the batch mean losses of the steps from `step` on, once every replica
 * has applied them (one message per group of steps, however many replicas), a replica's
 * error at `step`, or a replica's word that it has left run `ended`.
 */
export type StepReply = { step: number; losses: number[] } | { step: number; error: ThrownWire } | { ended: number };

const field = (m: object, key: string): unknown => Reflect.get(m, key);

function isWireOrNull(v: unknown): v is TensorWire<ArrayBufferLike> | null {
  return v === null || (typeof v === 'object' && 'shape' in v && 'dtype' in v && 'data' in v);
}

function isSharedWire(v: unknown): v is TensorWire<SharedArrayBuffer> {
  if (v === null || !isWireOrNull(v)) return false;
  return v.data.buffer instanceof SharedArrayBuffer && Array.isArray(v.shape) && v.shape.length > 0;
}

function isStepMessage(m: object): m is StepMessage {
  const [step, weights, delayMs, x, y] = ['step', 'weights', 'delayMs', 'x', 'y'].map((k) => field(m, k));
  return field(m, 'kind') === 'step' && Number.isInteger(step) && Array.isArray(weights) && weights.every((w) => typeof w === 'number') && typeof delayMs === 'number' && isWireOrNull(x) && isWireOrNull(y);
}

function isDataMessage(m: object): m is DataMessage {
  return field(m, 'kind') === 'data' && isSharedWire(field(m, 'x')) && isSharedWire(field(m, 'y'));
}

function isRunMessage(m: object): m is RunMessage {
  const [run, first, rows, bounds, delays] = ['run', 'first', 'rows', 'bounds', 'delays'].map((k) => field(m, k));
  return field(m, 'kind') === 'run' && Number.isInteger(run) && Number.isInteger(first) && rows instanceof Int32Array && bounds instanceof Int32Array && bounds.length > 0 && (delays === null || delays instanceof Float64Array);
}

/** The message, checked for its kind's fields (fromWire checks the tensors themselves); null if malformed. */
export function parseReplicaMessage(m: unknown): ReplicaMessage | null {
  if (typeof m !== 'object' || m === null) return null;
  return isStepMessage(m) || isDataMessage(m) || isRunMessage(m) ? m : null;
}

/** The step a message is about, for its error reply (-1 when it has none). */
export function messageStep(m: unknown): number {
  const step = typeof m === 'object' && m !== null ? field(m, 'step') ?? field(m, 'first') : undefined;
  return Number.isInteger(step) && typeof step === 'number' ? step : -1;
}
