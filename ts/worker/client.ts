// One worker seen from the main thread: a Comlink remote whose calls run one at a time
// in order, and which fails loudly when the worker dies. Comlink alone would leave a
// call to a dead worker pending forever, so every call races the worker's crash.

import type { Remote } from 'comlink';
import { wrap } from './rpc.js';
import { spawnWorker, type SpawnedWorker } from './env.js';
import './transfer.js';

/**
 * The error every pending and later call gets once a worker has crashed (an uncaught
 * exception, an unexpected exit, a script that failed to load) or was terminated.
 *
 * @example
 * ```ts
 * try { await handle.forward(x); }
 * catch (e) { if (e instanceof WorkerCrashedError) await handle.restart(); }
 * ```
 */
export class WorkerCrashedError extends Error {
  /** What the worker reported, or 'terminated'. */
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.name = 'WorkerCrashedError';
    this.reason = reason;
  }
}

/** Where the worker half of ferrograd lives, next to this module in dist/. */
export function hostUrl(): URL {
  return new URL('./worker-host.js', import.meta.url);
}

/** A worker running ferrograd's host script, with queued, crash-aware calls. */
export class WorkerClient<API> {
  readonly #spawned: SpawnedWorker;
  readonly #remote: Remote<API>;
  readonly name: string;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #dead: WorkerCrashedError | null = null;
  readonly #crashed: Promise<never>;
  #reject: (e: WorkerCrashedError) => void = () => undefined;

  constructor(name: string, url: URL = hostUrl()) {
    this.name = name;
    this.#spawned = spawnWorker(url, name);
    this.#remote = wrap<API>(this.#spawned.endpoint);
    this.#crashed = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#spawned.onCrash((reason) => {
      this.#fail(
        new WorkerCrashedError(
          `ferrograd worker "${name}" crashed: ${reason}. Its ${this.#pending} pending call(s) were rejected; ` +
            'call restart() on the handle to start a fresh worker with the same model.',
          reason,
        ),
      );
    });
    // Nobody may be awaiting when the crash happens; the error is reported per call.
    this.#crashed.catch(() => undefined);
  }

  /** Calls currently queued or running. */
  get pending(): number {
    return this.#pending;
  }
  /** The crash error, once the worker has died. */
  get crashed(): WorkerCrashedError | null {
    return this.#dead;
  }
  /** Rejects with the crash error when the worker dies (or is terminated); never resolves. */
  get died(): Promise<never> {
    return this.#crashed;
  }

  #fail(e: WorkerCrashedError): void {
    if (this.#dead !== null) return;
    this.#dead = e;
    this.#reject(e);
  }

  /** Runs `fn` against the worker after every earlier call has settled; rejects if the worker dies meanwhile. */
  call<R>(fn: (remote: Remote<API>) => Promise<R>): Promise<R> {
    this.#pending++;
    const run = (): Promise<R> => this.callNow(fn);
    const settled = this.#tail.then(run, run).finally(() => this.#pending--);
    this.#tail = settled.catch(() => undefined);
    return settled;
  }

  /**
   * Runs `fn` now, past the queue, still failing if the worker dies: for control messages
   * such as abort, and for calls the worker runs to completion in the order they are
   * posted anyway. `fn` posts its message before `callNow` returns.
   */
  async callNow<R>(fn: (remote: Remote<API>) => Promise<R>): Promise<R> {
    if (this.#dead !== null) throw this.#dead;
    return await Promise.race([fn(this.#remote), this.#crashed]);
  }

  /** Stops the worker; running, queued and later calls reject with a WorkerCrashedError ('terminated'). */
  async terminate(): Promise<void> {
    this.#fail(new WorkerCrashedError(`ferrograd worker "${this.name}" was terminated`, 'terminated'));
    await this.#spawned.terminate();
  }
}
