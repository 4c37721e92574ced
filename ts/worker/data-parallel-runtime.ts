// The worker half of DataParallel: one replica of the model with its loss and
// optimizer. Per step it computes the gradients of its shard, hands them over (into
// its slot of a SharedArrayBuffer, or as a transferred array), then applies the
// averaged gradients that every replica receives identically. With shared memory the
// shards come in step messages, or the replica cuts them itself from training data it
// keeps, over a run of steps that the main thread only permits (see barrier.ts).

import { Tensor, FerrogradError, fromRows, loadModelAsync, manualSeed, nn, optim, tidy, type Json } from '../index.js';
import { transfer, type Endpoint } from 'comlink';
import { gradientMean } from './average.js';
import { endpointOf, queuedMessages } from './env.js';
import { fromWire, serializeThrown, type TensorWire } from './transfer.js';
import { arriveAndWait, awaitPermit, barrierCounters, checkNoFailure, markFailed, noteApplied, reportThrough, stepLosses } from './barrier.js';
import { messageStep, parseReplicaMessage, type DataMessage, type RunMessage, type StepReply } from './step-messages.js';
import { shardSizes, shardWeights } from './shards.js';

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
  /** The training data of runs (DataMessage). */
  kept: { x: TensorWire<SharedArrayBuffer>; y: TensorWire<SharedArrayBuffer> } | null;
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
  replica = { model, loss, optimizer, params, numel, config, counters, slots, shapes: params.map((p) => p.shape), kept: null };
  if (steps !== null) {
    const port = endpointOf(steps);
    const queued = queuedMessages(steps);
    port.addEventListener('message', (ev) => {
      onMessage(port, Reflect.get(ev, 'data'));
      // Steps posted ahead already wait on the port: take them now rather than after another
      // turn of the event loop (0.2–0.3 ms a step, measured in Node).
      for (let next = queued?.(); next !== undefined; next = queued?.()) onMessage(port, next.message);
    });
    port.start?.();
  }
  return numel;
}

/** Handles one message of the step port; a step's loss goes back with its group (`reportThrough`), an error at once. */
function onMessage(port: Endpoint, data: unknown): void {
  const reply = (r: StepReply): void => port.postMessage(r);
  const message = parseReplicaMessage(data);
  if (message?.kind === 'run') return run(message, reply);
  try {
    if (message === null) throw new FerrogradError('value', 'DataParallel: a replica got a malformed step message');
    if (message.kind === 'data') return keep(message);
    const { x, y } = message;
    sharedStep(() => (x === null || y === null ? null : both(() => fromWire(x), () => fromWire(y))), message.step, message.weights, message.delayMs, reply);
  } catch (e) {
    reply({ step: messageStep(data), error: serializeThrown(e) });
  }
}

/** Keeps the training data of the runs to come (views of shared memory: nothing is copied; fromRows checks them). */
function keep(m: DataMessage): void {
  need().kept = { x: m.x, y: m.y };
}

/** The tensors `x()` and `y()`; x is freed again if y cannot be made. */
function both(x: () => Tensor, y: () => Tensor): [Tensor, Tensor] {
  const first = x();
  try {
    return [first, y()];
  } catch (e) {
    first.dispose();
    throw e;
  }
}

/** Rows `rows` of a kept tensor, as a tensor of this thread. */
function gather(w: TensorWire<SharedArrayBuffer>, rows: Int32Array): Tensor {
  return fromRows(w.data, rows, w.shape.slice(1));
}

/**
 * Runs the steps of a run over the kept data, each once it is permitted, without
 * returning to the event loop in between: the main thread sends nothing per step. Leaves
 * the run at its end, when it is stopped, or at a failure (replied), and says so.
 */
function run(m: RunMessage, reply: (r: StepReply) => void): void {
  const r = need();
  const { rank, workers } = r.config;
  let step = m.first;
  try {
    const kept = r.kept;
    if (kept === null || r.counters === null) throw new FerrogradError('usage', 'DataParallel: a run needs training data in shared memory');
    for (let b = 0; b + 1 < m.bounds.length; b++, step++) {
      if (!awaitPermit(r.counters, step, m.run)) break;
      const sizes = shardSizes(m.bounds[b + 1] - m.bounds[b], workers);
      const start = m.bounds[b] + sizes.slice(0, rank).reduce((a, n) => a + n, 0);
      const rows = m.rows.subarray(start, start + sizes[rank]);
      const shard = (): [Tensor, Tensor] | null => (rows.length === 0 ? null : both(() => gather(kept.x, rows), () => gather(kept.y, rows)));
      sharedStep(shard, step, shardWeights(sizes), m.delays?.[b * workers + rank] ?? 0, reply);
    }
  } catch (e) {
    reply({ step, error: serializeThrown(e) });
  } finally {
    reply({ ended: m.run });
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
 * `shard` makes this replica's rows of the batch (null: none this step), inside the step,
 * so that an error there fails the step on every replica like any other. `step` numbers
 * the steps from 0 (the barrier's counters only grow); `weights` are the shard sizes over
 * the batch size, per rank (0 for a replica without rows).
 */
function sharedStep(shard: () => [Tensor, Tensor] | null, step: number, weights: number[], delayMs: number, reply: (r: StepReply) => void): void {
  const r = need();
  const { rank, workers, barrier } = r.config;
  // Even and odd steps use different slots: a replica that finished step s may write its
  // step s + 1 gradients while a slower one still reads step s's. It cannot get
  // further ahead, since step s + 1's barrier waits for the slow one, which has read by then.
  const parity = step % 2;
  const counter = r.counters;
  if (r.slots === null || barrier === null || counter === null) throw new FerrogradError('usage', 'DataParallel: a shared-memory step needs shared memory');
  const report = (s: number, flush: boolean): void => reportThrough(counter, barrier, s, workers, flush, (from, losses) => reply({ step: from, losses }));
  try {
    if (weights.length !== workers) throw new FerrogradError('value', `DataParallel: ${weights.length} shard weights for ${workers} replicas`);
    const losses = stepLosses(barrier, step, workers);
    const slots = r.slots[parity];
    checkNoFailure(counter, step, rank);
    const batch = shard();
    losses[rank] = weights[rank] * (batch !== null ? gradientsInto(r, batch[0], batch[1], slots[rank]) : 0);
    // Test hook: lets a test make this replica arrive late, to show the order of arrival does not matter.
    if (delayMs > 0) sleepSync(delayMs);
    // Before arriving: once every replica has arrived, the fast ones go on, and the losses
    // kept are rewritten LOSS_STEPS steps later.
    report(step - 1, false);
    arriveAndWait(counter, workers * (step + 1), step, rank);
    tidy(() => applyGradients(r, gradientMean(slots, weights, r.shapes)));
    // No later step is coming to report this one: the last replica to apply it does.
    if (noteApplied(counter, step, workers)) report(step, true);
  } catch (e) {
    // This replica finished the steps before (it is running this one): if every replica
    // did, they are reported now, since they may have been waiting for this one's arrival.
    report(step - 1, true);
    markFailed(counter);
    throw e;
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
