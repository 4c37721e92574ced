// The worker half of DataParallel: one replica of the model with its loss and
// optimizer. Per step it computes the gradients of its shard, hands them over (into
// its slot of a SharedArrayBuffer, or as a transferred array), then applies the
// averaged gradients that every replica receives identically.

import { Tensor, FerrogradError, loadModelAsync, nn, optim, tensor, tidy, type Json } from '../index.js';
import { transfer } from 'comlink';

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
  /** (workers + 1) slots of `numel` float32: one per replica, then the average. Null: transfer instead. */
  shared: SharedArrayBuffer | null;
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
  const model = await loadModelAsync(bytes);
  model.train();
  const params = model.parameters();
  const loss = construct(nn, 'loss', config.loss.name, [config.loss.options ?? {}], isModule);
  const optimizer = construct(optim, 'optimizer', config.optimizer.name, [params, config.optimizer.options ?? {}], isOptimizer);
  const numel = params.reduce((n, p) => n + p.numel(), 0);
  replica = { model, loss, optimizer, params, numel, config };
  return numel;
}

/** Forward and backward on this replica's shard; the gradients go to shared memory or back to the caller. */
export async function shardGradients(x: Tensor, y: Tensor, delayMs: number): Promise<ShardResult> {
  const r = need();
  const { rank, shared } = r.config;
  r.optimizer.zeroGrad();
  const flat = shared !== null ? new Float32Array(shared, rank * r.numel * 4, r.numel) : new Float32Array(r.numel);
  const loss = tidy(() => {
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
  x.dispose();
  y.dispose();
  // Test hook: lets a test make this replica finish late, to show the order of arrival does not matter.
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  return shared !== null ? { loss, grads: null } : transfer({ loss, grads: flat }, [flat.buffer]);
}

/** Applies the averaged gradients (from the shared average slot, or as given) with this replica's optimizer. */
export function applyAverage(avg: Float32Array | null): void {
  const r = need();
  const { shared, workers } = r.config;
  const g = avg ?? (shared !== null ? new Float32Array(shared, workers * r.numel * 4, r.numel) : null);
  if (g === null || g.length !== r.numel) throw new FerrogradError('value', `DataParallel: expected ${r.numel} averaged gradients`);
  tidy(() => {
    let at = 0;
    for (const p of r.params) {
      p.grad = tensor(g.subarray(at, at + p.numel()), { shape: p.shape, dtype: 'float32' });
      at += p.numel();
    }
    r.optimizer.step();
  });
  r.optimizer.zeroGrad();
}

export function replicaStateDict(): Record<string, Tensor> {
  return need().model.stateDict();
}
