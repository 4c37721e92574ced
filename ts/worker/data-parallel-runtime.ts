// The worker half of DataParallel: one replica of the model with its loss and
// optimizer. Per step it computes the gradients of its shard, hands them over (into
// its slot of a SharedArrayBuffer, or as a transferred array), then applies the
// averaged gradients that every replica receives identically.

import { Tensor, FerrogradError, loadModelAsync, manualSeed, nn, optim, tensor, tidy, type Json } from '../index.js';
import { transfer, type Endpoint } from 'comlink';
import { gradientMean } from './average.js';
import { endpointOf, queuedMessages } from './env.js';
import { fromWire, serializeThrown, type TensorWire, type ThrownWire } from './transfer.js';

/** A loss class of `nn` by name, with its options. */
export interface LossSpec {
  name: string;
  options?: Json;
}
/** An optimizer class of `optim` by name, with its options. */
export interface OptimizerSpec {
  name: string;
  options?: Json;
}

export interface ReplicaConfig {
  rank: number;
  workers: number;
  loss: LossSpec;
  optimizer: OptimizerSpec;
  /**
   * With shared memory: two sets (even and odd steps) of `workers` slots of `numel`
   * float32, one per replica's gradients. Null: gradients are transferred.
   */
  shared: SharedArrayBuffer | null;
  /** The step barrier and the shards' losses (shared memory only): see `barrierBytes`. */
  barrier: SharedArrayBuffer | null;
  /** Seeds this replica's generator (dropout masks), so that a run can be repeated. */
  seed: number;
}

export interface ShardResult {
  /** This shard's mean loss. */
  loss: number;
  /** The flat gradients, when no shared memory is used. */
  grads: Float32Array | null;
}

/**
 * A shared-memory step as the main thread posts it to each replica, on the replica's own
 * step port: its shard (views of the BatchRing, or transferred arrays when the ring's slot
 * was taken; null for a replica without rows this step), the step's number (from 0) and
 * the shard sizes over the batch size, per rank.
 */
export interface StepMessage {
  step: number;
  weights: number[];
  delayMs: number;
  x: TensorWire<ArrayBufferLike> | null;
  y: TensorWire<ArrayBufferLike> | null;
}

/**
 * What comes back on a step port: the batch mean losses of the steps from `step` on, once
 * every replica has applied them (one message per group of steps, however many replicas:
 * see `reportThrough`), or a replica's error at `step`.
 */
export type StepReply = { step: number; losses: number[] } | { step: number; error: ThrownWire };

/**
 * Steps reported in one message, at most: the main thread then wakes once per group. On
 * a 2-core machine it wakes on a replica's core, so each wake-up costs a replica time.
 */
export const REPORT_GROUP = 4;
/** Steps whose shard losses are kept: a group, and the steps that may run while it is reported. */
const LOSS_STEPS = REPORT_GROUP + 2;

// The barrier buffer: int32 words for the arrivals and the replicas done applying (both
// counted up forever), a flag set when a replica failed, the steps posted so far (written
// by the main thread) and the steps reported so far; then each shard's loss times its
// weight, float64, for the last LOSS_STEPS steps.
const ARRIVED = 0;
const FAILED = 1;
const APPLIED = 2;
const POSTED = 3;
const REPORTED = 4;
const LOSSES_AT = 24;

/** Bytes of the barrier buffer for `workers` replicas (layout above). */
export function barrierBytes(workers: number): number {
  return LOSSES_AT + LOSS_STEPS * workers * 8;
}

/** The int32 words of the barrier buffer (layout above), made once per thread. */
export function barrierCounters(barrier: SharedArrayBuffer): Int32Array {
  return new Int32Array(barrier, 0, LOSSES_AT / 4);
}

/** Records on the main thread, before posting step `step`, that it is coming (see `reportThrough`). */
export function notePosted(counters: Int32Array, step: number): void {
  Atomics.store(counters, POSTED, step + 1);
}

/** How a replica's error starts when it stops because another one failed (not the cause). */
export const FOLLOW_ON = 'DataParallel: another replica failed';

/** How long a replica waits at the barrier for the others before giving up. */
const BARRIER_TIMEOUT_MS = 120_000;

interface Replica {
  model: nn.Module;
  loss: nn.Module;
  optimizer: optim.Optimizer<{ lr?: number }>;
  params: nn.Parameter[];
  numel: number;
  config: ReplicaConfig;
  /** The barrier's int32 words (shared memory only). */
  counters: Int32Array | null;
  /** This replica's gradient slots in the shared buffer: [step parity][rank]. */
  slots: Float32Array[][] | null;
  /** The parameters' shapes, in the order of the flat gradients. */
  shapes: number[][];
}

let replica: Replica | null = null;

function construct<T>(ns: object, kind: string, name: string, args: unknown[], check: (v: unknown) => v is T): T {
  const cls: unknown = Object.prototype.hasOwnProperty.call(ns, name) ? Reflect.get(ns, name) : undefined;
  if (typeof cls !== 'function') throw new FerrogradError('value', `DataParallel: unknown ${kind} "${name}"`);
  const made: unknown = Reflect.construct(cls, args);
  if (!check(made)) throw new FerrogradError('value', `DataParallel: ${name} is not ${kind === 'loss' ? 'an nn loss module' : 'an optimizer'}`);
  return made;
}

const isModule = (v: unknown): v is nn.Module => v instanceof nn.Module;
const isOptimizer = (v: unknown): v is optim.Optimizer<{ lr?: number }> => v instanceof optim.Optimizer;

function need(): Replica {
  if (replica === null) throw new FerrogradError('usage', 'DataParallel replica used before init');
  return replica;
}

/**
 * Loads this worker's replica. With shared memory, steps then arrive on `steps` (a
 * MessagePort of its own, so that a step costs the main thread one plain message per
 * replica instead of a call and a reply each).
 */
export async function initReplica(bytes: Uint8Array, config: ReplicaConfig, steps: MessagePort | null): Promise<number> {
  manualSeed(config.seed);
  const model = await loadModelAsync(bytes);
  model.train();
  const params = model.parameters();
  const loss = construct(nn, 'loss', config.loss.name, [config.loss.options ?? {}], isModule);
  const optimizer = construct(optim, 'optimizer', config.optimizer.name, [params, config.optimizer.options ?? {}], isOptimizer);
  const numel = params.reduce((n, p) => n + p.numel(), 0);
  const { shared, workers } = config;
  const slots = shared === null ? null : [0, 1].map((parity) => Array.from({ length: workers }, (_, k) => new Float32Array(shared, ((parity * workers + k) * numel) * 4, numel)));
  const counters = config.barrier === null ? null : barrierCounters(config.barrier);
  replica = { model, loss, optimizer, params, numel, config, counters, slots, shapes: params.map((p) => p.shape) };
  if (steps !== null) {
    const port = endpointOf(steps);
    const queued = queuedMessages(steps);
    port.addEventListener('message', (ev) => {
      onStep(port, Reflect.get(ev, 'data'));
      // Steps posted ahead already wait on the port: take them now rather than after another
      // turn of the event loop (0.2–0.3 ms a step, measured in Node).
      for (let next = queued?.(); next !== undefined; next = queued?.()) onStep(port, next.message);
    });
    port.start?.();
  }
  return numel;
}

function isWireOrNull(v: unknown): v is TensorWire<ArrayBufferLike> | null {
  return v === null || (typeof v === 'object' && 'shape' in v && 'dtype' in v && 'data' in v);
}

function isStepMessage(m: unknown): m is StepMessage {
  if (typeof m !== 'object' || m === null) return false;
  const [step, weights, delayMs, x, y] = ['step', 'weights', 'delayMs', 'x', 'y'].map((k): unknown => Reflect.get(m, k));
  return Number.isInteger(step) && Array.isArray(weights) && weights.every((w) => typeof w === 'number') && typeof delayMs === 'number' && isWireOrNull(x) && isWireOrNull(y);
}

/** Runs one posted step; its loss goes back with its group (`reportThrough`), an error at once. */
function onStep(port: Endpoint, message: unknown): void {
  const step = isStepMessage(message) ? message.step : -1;
  const reply = (r: StepReply): void => port.postMessage(r);
  try {
    if (!isStepMessage(message)) throw new FerrogradError('value', 'DataParallel: a replica got a malformed step message');
    const x = message.x === null ? null : fromWire(message.x);
    let y: Tensor | null = null;
    try {
      y = message.y === null ? null : fromWire(message.y);
    } catch (e) {
      disposeAll(x);
      throw e;
    }
    sharedStep(x, y, step, message.weights, message.delayMs, reply);
  } catch (e) {
    reply({ step, error: serializeThrown(e) });
  }
}

/** Forward and backward on this replica's shard into `flat`; returns the shard's mean loss. */
function gradientsInto(r: Replica, x: Tensor, y: Tensor, flat: Float32Array): number {
  r.optimizer.zeroGrad();
  try {
    return tidy(() => {
      const l = r.loss.forward(r.model.forward(x), y);
      l.backward();
      let at = 0;
      for (const p of r.params) {
        const g = p.grad;
        const n = p.numel();
        if (g !== null) g.data(flat.subarray(at, at + n));
        else flat.fill(0, at, at + n);
        at += n;
      }
      return l.item();
    });
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Forward and backward on this replica's shard; the gradients go back to the caller (no shared memory). */
export async function shardGradients(x: Tensor, y: Tensor, delayMs: number): Promise<ShardResult> {
  const r = need();
  const flat = new Float32Array(r.numel);
  const loss = gradientsInto(r, x, y, flat);
  // Test hook: lets a test make this replica finish late, to show the order of arrival does not matter.
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  return transfer({ loss, grads: flat }, [flat.buffer]);
}

/** Blocks this thread for `ms` milliseconds (workers may block; shared memory only). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One whole training step with shared memory: this replica's gradients go to its slot
 * and its shard's weighted loss next to the barrier; once every replica has arrived, each
 * one averages all slots itself, in rank order with the same float32 operations (so every
 * replica computes the same bits, whatever the order of arrival) and applies the optimizer.
 * The main thread neither copies nor averages gradients. The step's loss goes back
 * through `reply` once, from one replica, with those of the steps before it (`reportThrough`).
 *
 * It runs to completion without yielding, so a replica takes the steps posted ahead of
 * time strictly one after the other: the main thread may post step s + 1 while step s
 * runs, and the replica starts it the moment step s is done.
 *
 * `step` numbers the steps from 0 (the barrier's counters only grow); `weights` are the
 * shard sizes over the batch size, per rank (0 for a replica without rows).
 */
function sharedStep(x: Tensor | null, y: Tensor | null, step: number, weights: number[], delayMs: number, reply: (r: StepReply) => void): void {
  const r = need();
  const { rank, workers, barrier } = r.config;
  // Even and odd steps use different slots: a replica that finished step s may write its
  // step s + 1 gradients while a slower one still reads step s's. It cannot get
  // further ahead, since step s + 1's barrier waits for the slow one, which has read by then.
  const parity = step % 2;
  const counter = r.counters;
  if (r.slots === null || barrier === null || counter === null) {
    disposeAll(x, y);
    throw new FerrogradError('usage', 'DataParallel: a shared-memory step needs shared memory');
  }
  const report = (s: number, flush: boolean): void => reportThrough(counter, barrier, s, workers, flush, reply);
  try {
    if (weights.length !== workers) throw new FerrogradError('value', `DataParallel: ${weights.length} shard weights for ${workers} replicas`);
    const losses = stepLosses(barrier, step, workers);
    const slots = r.slots[parity];
    if (Atomics.load(counter, FAILED) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} before step ${step}; replica ${rank} stops`);
    losses[rank] = weights[rank] * (x !== null && y !== null ? gradientsInto(r, x, y, slots[rank]) : 0);
    // Test hook: lets a test make this replica arrive late, to show the order of arrival does not matter.
    if (delayMs > 0) sleepSync(delayMs);
    // Before arriving: once every replica has arrived, the fast ones go on, and the losses
    // kept are rewritten LOSS_STEPS steps later.
    report(step - 1, false);
    arriveAndWait(counter, workers * (step + 1), step, rank);
    tidy(() => applyGradients(r, gradientMean(slots, weights, r.shapes)));
    // No later step is coming to report this one: the last replica to apply it does.
    if (Atomics.add(counter, APPLIED, 1) + 1 === workers * (step + 1) && Atomics.load(counter, POSTED) <= step + 1) report(step, true);
  } catch (e) {
    disposeAll(x, y);
    // This replica finished the steps before (it is running this one): if every replica
    // did, they are reported now, since they may have been waiting for this one's arrival.
    report(step - 1, true);
    Atomics.store(counter, FAILED, 1);
    Atomics.notify(counter, ARRIVED);
    throw e;
  }
}

/** The shards' weighted losses of step `s`, one per rank, in the barrier buffer. */
function stepLosses(barrier: SharedArrayBuffer, s: number, workers: number): Float64Array {
  return new Float64Array(barrier, LOSSES_AT + (s % LOSS_STEPS) * workers * 8, workers);
}

/**
 * Sends the batch losses (the shards' weighted losses summed in rank order) of the steps
 * not reported yet, through step `s`: when they make a whole REPORT_GROUP, or with
 * `flush`. Nothing is sent until every replica has applied step `s` (a later call will)
 * or when another replica has sent them. Every replica tries it as it comes to step
 * s + 1's barrier, so that the first one there (about to wait for the others) usually
 * sends it: the main thread, woken by the message on that replica's core, then posts its
 * next steps while that core would idle anyway, instead of taking a core from a replica
 * that computes (measured: 140–250 µs a step). The last replica to apply a step that no
 * later one follows flushes.
 */
function reportThrough(counter: Int32Array, barrier: SharedArrayBuffer, s: number, workers: number, flush: boolean, reply: (r: StepReply) => void): void {
  if (s < 0 || Atomics.load(counter, APPLIED) < workers * (s + 1)) return;
  const from = Atomics.load(counter, REPORTED);
  if (from > s || (!flush && s - from + 1 < REPORT_GROUP)) return;
  if (Atomics.compareExchange(counter, REPORTED, from, s + 1) !== from) return;
  // At most a group is left unreported at any barrier, and step k's losses are rewritten
  // at step k + LOSS_STEPS, after barriers that wait for this replica.
  const losses: number[] = [];
  for (let k = from; k <= s; k++) losses.push(stepLosses(barrier, k, workers).reduce((sum, loss) => sum + loss, 0));
  reply({ step: from, losses });
}

function disposeAll(...tensors: (Tensor | null)[]): void {
  for (const t of tensors) if (t !== null && !t.isDisposed) t.dispose();
}

/** Counts this replica in at the barrier and blocks until `target` arrivals, or a failure elsewhere. */
function arriveAndWait(counter: Int32Array, target: number, step: number, rank: number): void {
  Atomics.add(counter, ARRIVED, 1);
  Atomics.notify(counter, ARRIVED);
  const deadline = performance.now() + BARRIER_TIMEOUT_MS;
  for (let seen = Atomics.load(counter, ARRIVED); seen < target; seen = Atomics.load(counter, ARRIVED)) {
    if (Atomics.load(counter, FAILED) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} at step ${step}; replica ${rank} stops`);
    const left = deadline - performance.now();
    if (left <= 0) throw new FerrogradError('value', `DataParallel: replica ${rank} waited ${BARRIER_TIMEOUT_MS} ms for the others at step ${step}`);
    Atomics.wait(counter, ARRIVED, seen, left);
  }
}

/** Applies the averaged gradients (sent by the main thread) with this replica's optimizer. */
export function applyAverage(avg: Float32Array | null): void {
  const r = need();
  if (avg === null || avg.length !== r.numel) throw new FerrogradError('value', `DataParallel: expected ${r.numel} averaged gradients`);
  tidy(() => applyGradients(r, gradientMean([avg], [1], r.shapes)));
}

/** One optimizer step with `grads`, one per parameter. */
function applyGradients(r: Replica, grads: Tensor[]): void {
  r.params.forEach((p, i) => (p.grad = grads[i]));
  r.optimizer.step();
  r.optimizer.zeroGrad();
}

export function replicaStateDict(): Record<string, Tensor> {
  return need().model.stateDict();
}
