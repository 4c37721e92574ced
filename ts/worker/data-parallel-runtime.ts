// The worker half of DataParallel: one replica of the model with its loss and
// optimizer. Per step it computes the gradients of its shard, hands them over (into
// its slot of a SharedArrayBuffer, or as a transferred array), then applies the
// averaged gradients that every replica receives identically.

import { Tensor, FerrogradError, loadModelAsync, manualSeed, nn, optim, tensor, tidy, type Json } from '../index.js';
import { transfer } from 'comlink';
import { gradientMean } from './average.js';

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
  /** The step barrier (shared memory only): arrivals, counted up forever. */
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
  /** This replica's gradient slots in the shared buffer: [step parity][rank]. */
  slots: Float32Array[][] | null;
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

export async function initReplica(bytes: Uint8Array, config: ReplicaConfig): Promise<number> {
  manualSeed(config.seed);
  const model = await loadModelAsync(bytes);
  model.train();
  const params = model.parameters();
  const loss = construct(nn, 'loss', config.loss.name, [config.loss.options ?? {}], isModule);
  const optimizer = construct(optim, 'optimizer', config.optimizer.name, [params, config.optimizer.options ?? {}], isOptimizer);
  const numel = params.reduce((n, p) => n + p.numel(), 0);
  const { shared, workers } = config;
  const slots = shared === null ? null : [0, 1].map((parity) => Array.from({ length: workers }, (_, k) => new Float32Array(shared, ((parity * workers + k) * numel) * 4, numel)));
  replica = { model, loss, optimizer, params, numel, config, slots };
  return numel;
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
        if (g !== null) flat.set(g.data(), at);
        else flat.fill(0, at, at + p.numel());
        at += p.numel();
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
 * One whole training step with shared memory, in one message: this replica's gradients
 * go to its slot; once every replica has arrived at the barrier, each one averages all
 * slots itself, in rank order with the same float64 sums (so every replica computes the
 * same bits, whatever the order of arrival) and applies the optimizer. Nothing is sent
 * back but the shard's loss: the main thread neither copies nor averages gradients,
 * and a step costs one message each way.
 *
 * It runs to completion without yielding, so a replica takes the steps posted ahead of
 * time strictly one after the other: the main thread may post step s + 1 while step s
 * runs, and the replica starts it the moment step s is done.
 *
 * `step` numbers the calls from 0 (the barrier is a counter that only grows); `weights`
 * are the shard sizes over the batch size, per rank (0 for a replica without rows).
 */
export function sharedStep(x: Tensor | null, y: Tensor | null, step: number, weights: number[], delayMs: number): number {
  const r = need();
  const { rank, workers, barrier } = r.config;
  if (r.slots === null || barrier === null) throw new FerrogradError('usage', 'DataParallel: sharedStep needs shared memory');
  if (weights.length !== workers) throw new FerrogradError('value', `DataParallel: ${weights.length} shard weights for ${workers} replicas`);
  // Even and odd steps use different slots: a replica that finished step s may write its
  // step s + 1 gradients while a slower one still reads step s's. It cannot get further
  // ahead, since step s + 1's barrier waits for the slow one, which has read by then.
  const slots = r.slots[step % 2];
  // [0]: arrivals; [1]: set when a replica failed, so that the others stop waiting.
  const counter = new Int32Array(barrier);
  let loss = 0;
  try {
    if (Atomics.load(counter, 1) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} before step ${step}; replica ${rank} stops`);
    if (x !== null && y !== null) loss = gradientsInto(r, x, y, slots[rank]);
  } catch (e) {
    for (const t of [x, y]) if (t !== null && !t.isDisposed) t.dispose();
    Atomics.store(counter, 1, 1);
    Atomics.notify(counter, 0);
    throw e;
  }
  // Test hook: lets a test make this replica arrive late, to show the order of arrival does not matter.
  if (delayMs > 0) sleepSync(delayMs);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
  const target = workers * (step + 1);
  const deadline = performance.now() + BARRIER_TIMEOUT_MS;
  for (let seen = Atomics.load(counter, 0); seen < target; seen = Atomics.load(counter, 0)) {
    if (Atomics.load(counter, 1) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} at step ${step}; replica ${rank} stops`);
    const left = deadline - performance.now();
    if (left <= 0) throw new FerrogradError('value', `DataParallel: replica ${rank} waited ${BARRIER_TIMEOUT_MS} ms for the others at step ${step}`);
    Atomics.wait(counter, 0, seen, left);
  }
  tidy(() => applyMean(r, gradientMean(slots, weights, r.numel)));
  return loss;
}

/** Applies the averaged gradients (sent by the main thread) with this replica's optimizer. */
export function applyAverage(avg: Float32Array | null): void {
  const r = need();
  if (avg === null || avg.length !== r.numel) throw new FerrogradError('value', `DataParallel: expected ${r.numel} averaged gradients`);
  tidy(() => applyMean(r, tensor(avg, { dtype: 'float32' })));
}

/** One optimizer step with the flat mean gradient `mean`, whose slices become the parameters' gradients. */
function applyMean(r: Replica, mean: Tensor): void {
  let at = 0;
  for (const p of r.params) {
    p.grad = mean.narrow(0, at, p.numel()).reshape(p.shape);
    at += p.numel();
  }
  r.optimizer.step();
  r.optimizer.zeroGrad();
}

export function replicaStateDict(): Record<string, Tensor> {
  return need().model.stateDict();
}
