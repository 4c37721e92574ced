// The main thread's end of DataParallel's shared-memory steps: one MessagePort per
// replica, outside Comlink. A step is one plain message to each replica; one reply, from
// one replica, settles a group of steps once every replica has applied them. On a 2-core
// machine the main thread's work per message is taken from a replica's core, and the
// other replica waits for that one at the barrier, so a call and a reply per replica and
// step (Comlink's proxies and promises, and a wake-up per reply) cost more than their own
// time. The batches themselves go through a BatchRing in shared memory. A run (`fit` over
// a DataLoader whose data the replicas keep) is one message per replica for all its steps,
// which the replicas then take as the main thread permits them through the barrier buffer.

import type { Endpoint } from 'comlink';
import { FerrogradError, type Tensor } from '../index.js';
import { endpointOf } from './env.js';
import { rebuildThrown, type ThrownWire } from './transfer.js';
import { FOLLOW_ON, barrierCounters, permit, stopRun } from './barrier.js';
import type { DataMessage, ReplicaMessage, StepMessage } from './step-messages.js';
import { BatchRing } from './batch-ring.js';

interface Pending {
  resolve: (loss: number) => void;
  reject: (e: unknown) => void;
  /** Follow-on errors received so far: the step fails with one once every replica has sent one. */
  followOn: unknown[];
}

/** A run in progress: it is over once every replica has said it left it. */
interface PendingRun {
  /** Its steps are numbered `first` to `last - 1`. */
  first: number;
  last: number;
  left: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** A run of steps over the data the replicas keep (see `StepChannel.run`). */
export interface Run {
  id: number;
  /** Each step's batch loss, in order. */
  steps: Promise<number>[];
  /** Settles once every replica has left the run. */
  ended: Promise<void>;
}

function isThrownWire(w: unknown): w is ThrownWire {
  return typeof w === 'object' && w !== null && typeof Reflect.get(w, 'isError') === 'boolean' && 'value' in w;
}

/** Posts shared-memory steps to the replicas and settles each with its one reply. */
export class StepChannel {
  readonly #ports: MessagePort[];
  /** The other ends, for the replicas. */
  readonly #remote: MessagePort[];
  readonly #endpoints: Endpoint[];
  readonly #pending = new Map<number, Pending>();
  readonly #runs = new Map<number, PendingRun>();
  #lastRun = 0;
  readonly #ring: BatchRing;
  /** The replicas' barrier words, where each post is recorded. */
  readonly #counters: Int32Array;

  /**
   * One channel per replica; `remotePort(k)` goes to replica k. Steps posted while `ahead`
   * others are still in flight find their batch's slot in the ring free. `barrier` is the
   * replicas' barrier buffer.
   */
  constructor(workers: number, ahead: number, barrier: SharedArrayBuffer) {
    this.#ring = new BatchRing(ahead + 2);
    this.#counters = barrierCounters(barrier);
    const channels = Array.from({ length: workers }, () => new MessageChannel());
    this.#ports = channels.map((c) => c.port1);
    this.#remote = channels.map((c) => c.port2);
    this.#endpoints = this.#ports.map((p) => endpointOf(p));
    for (const ep of this.#endpoints) {
      ep.addEventListener('message', (ev) => this.#onReply(Reflect.get(ev, 'data')));
      ep.start?.();
    }
  }

  /** The port to transfer to replica `rank` (its `initReplica`). */
  remotePort(rank: number): MessagePort {
    return this.#remote[rank];
  }

  /**
   * Posts step `step` to every replica: rank k gets its rows of `(x, y)` (`sizes`, in rank
   * order; copied now, into the ring, or into transferred arrays when so many steps are in
   * flight that its slot is still taken). Resolves with the batch's mean loss.
   */
  post(step: number, x: Tensor, y: Tensor, sizes: readonly number[], weights: number[], delayMs: (rank: number) => number): Promise<number> {
    const { shards, shared } = this.#ring.place(step, x, y, sizes, (s) => this.#pending.has(s));
    const done = this.#expect(step);
    permit(this.#counters, step + 1);
    this.#endpoints.forEach((ep, rank) => {
      const [xs, ys] = shards[rank] ?? [null, null];
      const message: StepMessage = { kind: 'step', step, weights, delayMs: delayMs(rank), x: xs, y: ys };
      // Views of the ring are shared; arrays of their own are moved.
      ep.postMessage(message, shared || xs === null || ys === null ? [] : [xs.data.buffer, ys.data.buffer]);
    });
    return done;
  }

  #expect(step: number): Promise<number> {
    return new Promise<number>((resolve, reject) => this.#pending.set(step, { resolve, reject, followOn: [] }));
  }

  /** Gives every replica the data that runs read (see KeptData). */
  keep(message: DataMessage): void {
    this.#postAll(message);
  }

  /**
   * Sends every replica a run of steps over the data they keep, numbered from `first`:
   * batch b is the rows `rows[bounds[b]]` to `rows[bounds[b + 1] - 1]`. The replicas run
   * each step once it is permitted (`permit`) and leave the run at its end or at `stop`.
   * `delays` holds the test hook's milliseconds per step and rank, or is null.
   */
  run(first: number, rows: Int32Array, bounds: Int32Array, delays: Float64Array | null): Run {
    const id = ++this.#lastRun;
    const last = first + bounds.length - 1;
    const ended = new Promise<void>((resolve, reject) => this.#runs.set(id, { first, last, left: this.#ports.length, resolve, reject }));
    const steps = Array.from({ length: bounds.length - 1 }, (_, b) => this.#expect(first + b));
    this.#postAll({ kind: 'run', run: id, first, rows, bounds, delays });
    return { id, steps, ended };
  }

  /** Lets the replicas run the steps before `steps`. */
  permit(steps: number): void {
    permit(this.#counters, steps);
  }

  /**
   * Ends run `run` after the steps permitted so far, the first `permitted`; the later ones
   * will never run, and their promises never settle.
   */
  stop(run: number, permitted: number): void {
    stopRun(this.#counters, run);
    const last = this.#runs.get(run)?.last ?? permitted;
    for (let s = permitted; s < last; s++) this.#pending.delete(s);
  }

  #postAll(message: ReplicaMessage): void {
    for (const ep of this.#endpoints) ep.postMessage(message);
  }

  #onReply(data: unknown): void {
    const ended: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'ended') : undefined;
    const run = typeof ended === 'number' ? this.#runs.get(ended) : undefined;
    if (run !== undefined && typeof ended === 'number') {
      if (--run.left === 0) {
        this.#runs.delete(ended);
        // Steps permitted but never run: the replicas left the run at a failure before them.
        for (let s = run.first; s < run.last; s++) {
          const left = this.#pending.get(s);
          this.#pending.delete(s);
          left?.reject(new FerrogradError('value', `${FOLLOW_ON} before step ${s}; the run stopped`));
        }
        run.resolve();
      }
      return;
    }
    const step: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'step') : undefined;
    const pending = typeof step === 'number' ? this.#pending.get(step) : undefined;
    if (pending === undefined || typeof step !== 'number' || typeof data !== 'object' || data === null) return;
    const losses: unknown = Reflect.get(data, 'losses');
    if (Array.isArray(losses)) {
      losses.forEach((loss: unknown, i) => {
        const p = this.#pending.get(step + i);
        if (p === undefined || typeof loss !== 'number') return;
        this.#pending.delete(step + i);
        p.resolve(loss);
      });
      return;
    }
    const wire: unknown = Reflect.get(data, 'error');
    const error = isThrownWire(wire) ? rebuildThrown(wire) : new FerrogradError('value', `DataParallel: step ${step} got a malformed reply`);
    const followOn = error instanceof Error && error.message.includes(FOLLOW_ON);
    if (followOn) pending.followOn.push(error);
    // The replica that failed says why; the others only stopped because of it.
    if (!followOn || pending.followOn.length === this.#ports.length) {
      this.#pending.delete(step);
      pending.reject(followOn ? pending.followOn[0] : error);
    }
  }

  /** Rejects every step still pending with `e` (a worker died). */
  failAll(e: unknown): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    for (const r of this.#runs.values()) r.reject(e);
    this.#runs.clear();
  }

  close(): void {
    for (const p of this.#ports) p.close();
  }
}
