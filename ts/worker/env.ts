// The one place that knows whether we run in Node (worker_threads) or a browser (Worker),
// so that everything above it is the same code on both. Node's module is imported
// lazily through a variable specifier: a browser bundle never evaluates it.

import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** A Node `MessagePort` (or `parentPort`), as much of it as Comlink's node adapter uses. */
export interface NodePortLike {
  postMessage(message: unknown, transfer?: readonly Transferable[]): void;
  on(type: 'message', listener: (value: unknown) => void): void;
  off(type: 'message', listener: (value: unknown) => void): void;
  start?: () => void;
}

/** A Node `worker_threads` Worker, as much of it as ferrograd uses. */
export interface NodeWorkerLike extends NodePortLike {
  terminate(): Promise<number> | void;
  on(type: 'message', listener: (value: unknown) => void): void;
  on(type: 'error' | 'exit' | 'messageerror', listener: (value: unknown) => void): void;
  off(type: 'message', listener: (value: unknown) => void): void;
  off(type: 'error' | 'exit' | 'messageerror', listener: (value: unknown) => void): void;
}

/** A browser (or Deno) `Worker`, as much of it as ferrograd uses. */
export interface BrowserWorkerLike extends Endpoint {
  terminate(): void;
}

/** Either kind of worker; `wrap` accepts both. */
export type AnyWorker = NodeWorkerLike | BrowserWorkerLike;

interface WorkerThreads {
  Worker: new (url: URL, options: { name?: string }) => NodeWorkerLike;
  parentPort: NodePortLike | null;
  isMainThread: boolean;
  receiveMessageOnPort(port: object): { message: unknown } | undefined;
}

function hasFunction<K extends string>(v: unknown, key: K): v is Record<K, (...args: never[]) => unknown> {
  return typeof v === 'object' && v !== null && key in v && typeof Reflect.get(v, key) === 'function';
}

/**
 * True when `process.versions.node` is set: Node, where workers are worker_threads.
 *
 * @example
 * ```ts
 * const url = isNode ? new URL('./w.js', import.meta.url) : '/w.js';
 * ```
 */
export const isNode: boolean = ((): boolean => {
  const p: unknown = Reflect.get(globalThis, 'process');
  if (typeof p !== 'object' || p === null) return false;
  const versions: unknown = Reflect.get(p, 'versions');
  return typeof versions === 'object' && versions !== null && typeof Reflect.get(versions, 'node') === 'string';
})();

// A variable, not a literal, so that bundlers leave the import alone in browser builds.
const WORKER_THREADS = 'node:worker_threads';

function isWorkerThreads(m: unknown): m is WorkerThreads {
  return typeof m === 'object' && m !== null && typeof Reflect.get(m, 'Worker') === 'function' && 'parentPort' in m && 'isMainThread' in m && hasFunction(m, 'receiveMessageOnPort');
}

/** `node:worker_threads` in Node, null elsewhere; loaded once, at import time (top-level await). */
export const workerThreads: WorkerThreads | null = isNode
  ? await import(/* @vite-ignore */ /* webpackIgnore: true */ WORKER_THREADS).then((m: unknown) => (isWorkerThreads(m) ? m : null))
  : null;

/**
 * A function that takes the next message already waiting on `port` without a turn of the
 * event loop (Node's `receiveMessageOnPort`), or null where there is none (browsers).
 */
export function queuedMessages(port: object): (() => { message: unknown } | undefined) | null {
  const wt = workerThreads;
  return wt === null ? null : () => wt.receiveMessageOnPort(port);
}

/** Is `w` a Node worker (EventEmitter `on`/`off`) rather than a DOM one? */
export function isNodeWorker(w: AnyWorker): w is NodeWorkerLike {
  return hasFunction(w, 'on') && hasFunction(w, 'off');
}

function isNodePortLike(w: AnyWorker | NodePortLike | Endpoint): w is NodePortLike {
  return hasFunction(w, 'on') && hasFunction(w, 'off');
}

/**
 * The Comlink endpoint for a worker of either kind. Node objects (Worker, MessagePort)
 * go through comlink's node adapter, which listens with `on`, the EventEmitter way.
 */
export function endpointOf(w: AnyWorker | NodePortLike | Endpoint): Endpoint {
  return isNodePortLike(w) ? nodeEndpoint(w) : w;
}

/** An absolute URL for a module path or URL given on the main thread, since the worker resolves against its own script. */
export function absoluteUrl(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(spec)) return spec;
  if (spec.startsWith('/') && isNode) return `file://${spec}`;
  const loc: unknown = Reflect.get(globalThis, 'location');
  const href: unknown = typeof loc === 'object' && loc !== null ? Reflect.get(loc, 'href') : undefined;
  if (typeof href === 'string') return new URL(spec, href).href;
  const p: unknown = Reflect.get(globalThis, 'process');
  const cwd: unknown = typeof p === 'object' && p !== null && hasFunction(p, 'cwd') ? p.cwd() : '/';
  return new URL(spec, `file://${String(cwd)}/`).href;
}

/**
 * The endpoint a worker script talks to its parent through: `self` in a browser
 * worker, `parentPort` in a Node worker thread.
 */
export function parentEndpoint(): Endpoint {
  if (workerThreads !== null) {
    if (workerThreads.parentPort === null) throw new Error('ferrograd/worker: expose() with no endpoint must run inside a worker thread');
    return nodeEndpoint(workerThreads.parentPort);
  }
  if (typeof postMessage === 'function' && typeof addEventListener === 'function' && typeof document === 'undefined') {
    // A dedicated worker's global scope is the endpoint; spelled out because the DOM
    // lib types `globalThis` as a Window, whose postMessage takes an origin.
    return {
      postMessage: (message: unknown, transfer?: Transferable[]) => postMessage(message, { transfer: transfer ?? [] }),
      addEventListener: (type: string, listener: EventListenerOrEventListenerObject) => addEventListener(type, listener),
      removeEventListener: (type: string, listener: EventListenerOrEventListenerObject) => removeEventListener(type, listener),
    };
  }
  throw new Error('ferrograd/worker: expose() with no endpoint must run inside a Worker');
}

/** How a spawned worker reports that it died without being asked to. */
export interface SpawnedWorker {
  readonly worker: AnyWorker;
  readonly endpoint: Endpoint;
  /** Called once with a reason when the worker crashes (uncaught error, unexpected exit, unloadable script). */
  onCrash(listener: (reason: string) => void): void;
  /** Stops the worker; no crash is reported for it. */
  terminate(): Promise<void>;
}

/**
 * Starts a module worker running `url`: a `worker_threads` Worker in Node, a
 * `{ type: 'module' }` Worker in a browser.
 */
export function spawnWorker(url: URL, name: string): SpawnedWorker {
  const listeners: ((reason: string) => void)[] = [];
  let done = false;
  const crash = (reason: string): void => {
    if (done) return;
    done = true;
    for (const l of listeners) l(reason);
  };
  if (workerThreads !== null) {
    const w = new workerThreads.Worker(url, { name });
    w.on('error', (e) => crash(e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
    w.on('messageerror', (e) => crash(`a message could not be deserialized (${String(e)})`));
    w.on('exit', (code) => crash(`the worker thread exited with code ${String(code)}`));
    return {
      worker: w,
      endpoint: endpointOf(w),
      onCrash: (l) => void listeners.push(l),
      async terminate() {
        done = true;
        await w.terminate();
      },
    };
  }
  if (typeof Worker === 'undefined') throw new Error('ferrograd/worker: this environment has neither worker_threads nor Worker');
  const w = new Worker(url, { type: 'module', name });
  w.addEventListener('error', (e) => {
    // A module that fails to load reports an ErrorEvent without a message.
    e.preventDefault();
    crash(e.message ? `uncaught ${e.message}` : `the worker script ${url.href} failed to load or threw`);
  });
  w.addEventListener('messageerror', () => crash('a message could not be deserialized'));
  return {
    worker: w,
    endpoint: w,
    onCrash: (l) => void listeners.push(l),
    async terminate() {
      done = true;
      w.terminate();
    },
  };
}

const OS = 'node:os';
const nodeCores: number | null = isNode
  ? await import(/* @vite-ignore */ /* webpackIgnore: true */ OS).then((os: unknown) => {
      if (hasFunction(os, 'availableParallelism')) {
        const n: unknown = os.availableParallelism();
        if (typeof n === 'number') return n;
      }
      return hasFunction(os, 'cpus') ? ((): number => {
        const c: unknown = os.cpus();
        return Array.isArray(c) ? c.length : 4;
      })() : 4;
    })
  : null;

/**
 * Logical cores available to workers (Node: `os.availableParallelism`; browsers:
 * `navigator.hardwareConcurrency`).
 *
 * @example
 * ```ts
 * const workers = Math.min(coreCount(), 8);
 * ```
 */
export function coreCount(): number {
  if (nodeCores !== null) return Math.max(1, nodeCores);
  const nav: unknown = Reflect.get(globalThis, 'navigator');
  const hc: unknown = typeof nav === 'object' && nav !== null ? Reflect.get(nav, 'hardwareConcurrency') : undefined;
  return typeof hc === 'number' && hc > 0 ? hc : 4;
}

/**
 * True when SharedArrayBuffer can be posted to workers: always in Node, only when the
 * page is cross-origin isolated (COOP + COEP headers) in browsers.
 *
 * @example
 * ```ts
 * const dp = await DataParallel.create(model, { ...options, sharedMemory: canShareMemory() });
 * ```
 */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return true;
  return Reflect.get(globalThis, 'crossOriginIsolated') === true;
}
