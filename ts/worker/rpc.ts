// expose/wrap for ferrograd-aware workers: the same user code for browser Workers and
// Node worker_threads, with the Tensor transfer handlers registered on both sides.

import { expose as comlinkExpose, wrap as comlinkWrap, transferHandlers, type Endpoint, type Remote } from 'comlink';
import { FerrogradError } from '../index.js';
import { endpointOf, parentEndpoint, type AnyWorker, type NodePortLike } from './env.js';
import { serializeThrown } from './transfer.js';

/**
 * Serves `api` to the thread that started this worker (or to `endpoint`). Tensors in
 * arguments and results cross as transferred buffers. Call it in the worker script.
 *
 * @example
 * ```ts
 * // worker.js (browser Worker or Node worker_threads alike)
 * import { expose } from 'ferrograd/worker';
 * expose({ double: (x) => x.mul(2) });
 * ```
 */
export function expose(api: object, endpoint?: AnyWorker | NodePortLike | Endpoint): void {
  const ep = endpoint === undefined ? parentEndpoint() : endpointOf(endpoint);
  comlinkExpose(api, guarded(ep));
  // Tell wrap() that calls may flow now: see bufferUntilReady.
  ep.postMessage({ [READY]: true });
}

const READY = 'ferrograd.worker.ready';

const MESSAGE_TYPES = new Set(['GET', 'SET', 'APPLY', 'CONSTRUCT', 'ENDPOINT', 'RELEASE']);

/** What is wrong with an incoming call message, or null if Comlink can take it. */
function malformed(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return `a message must be an object, got ${data === null ? 'null' : typeof data}`;
  const type: unknown = Reflect.get(data, 'type');
  if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) return `unknown message type ${JSON.stringify(type) ?? String(type)}`;
  const path: unknown = Reflect.get(data, 'path');
  if (path !== undefined && (!Array.isArray(path) || !path.every((p) => typeof p === 'string'))) return 'the message path must be an array of strings';
  const args: unknown = Reflect.get(data, 'argumentList');
  if (args !== undefined) {
    if (!Array.isArray(args)) return 'argumentList must be an array';
    for (const [i, a] of args.entries()) {
      const kind: unknown = typeof a === 'object' && a !== null ? Reflect.get(a, 'type') : undefined;
      const name: unknown = kind === 'HANDLER' ? Reflect.get(a, 'name') : undefined;
      if (kind !== 'RAW' && !(kind === 'HANDLER' && typeof name === 'string' && transferHandlers.has(name))) {
        return `argument ${i} is not a Comlink wire value`;
      }
    }
  }
  return null;
}

/**
 * The endpoint Comlink's expose() listens on, with a guard in front: Comlink reads a
 * call's arguments outside its try block, so a message it cannot decode (a tensor whose
 * data does not match its shape, an unknown handler) would throw in the listener. The
 * caller would then wait forever (browser), or the worker would die of it (Node). Here
 * every such message is answered with a FerrogradError, and the worker carries on.
 */
function guarded(ep: Endpoint): Endpoint {
  const listeners = new Map<EventListenerOrEventListenerObject, EventListener>();
  const replyError = (data: unknown, error: unknown): void => {
    const id: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'id') : undefined;
    // Without an id nobody is waiting for an answer, and there is nobody to address it to.
    if (typeof id !== 'string' && typeof id !== 'number') return;
    ep.postMessage({ id, type: 'HANDLER', name: 'throw', value: serializeThrown(error) });
  };
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => ep.postMessage(message, transfer),
    addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
      const guard = (ev: Event): void => {
        const data = messageData(ev);
        const problem = malformed(data);
        if (problem !== null) {
          replyError(data, new FerrogradError('value', `ferrograd/worker: malformed message: ${problem}`));
          return;
        }
        try {
          if (typeof listener === 'function') listener(ev);
          else listener.handleEvent(ev);
        } catch (e) {
          replyError(data, e);
        }
      };
      listeners.set(listener, guard);
      ep.addEventListener(type, guard);
    },
    removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
      ep.removeEventListener(type, listeners.get(listener) ?? listener);
      listeners.delete(listener);
    },
    start: ep.start === undefined ? undefined : () => ep.start?.(),
  };
}

function isReadyMessage(data: unknown): boolean {
  return typeof data === 'object' && data !== null && Reflect.get(data, READY) === true;
}

function messageData(ev: unknown): unknown {
  return typeof ev === 'object' && ev !== null ? Reflect.get(ev, 'data') : undefined;
}

/**
 * An endpoint that holds outgoing messages until the worker has called expose().
 * A browser drops messages that reach a module worker before it listens, and every
 * worker that imports ferrograd is still awaiting its wasm (top-level await) when the
 * first call is posted; Node queues them, but the handshake costs nothing there.
 */
function bufferUntilReady(ep: Endpoint): Endpoint {
  const queue: [unknown, Transferable[] | undefined][] = [];
  let ready = false;
  const onMessage = (ev: unknown): void => {
    if (ready || !isReadyMessage(messageData(ev))) return;
    ready = true;
    ep.removeEventListener('message', onMessage);
    for (const [message, transfer] of queue.splice(0)) ep.postMessage(message, transfer);
  };
  ep.addEventListener('message', onMessage);
  ep.start?.();
  return {
    postMessage(message: unknown, transfer?: Transferable[]): void {
      if (ready) ep.postMessage(message, transfer);
      else queue.push([message, transfer]);
    },
    addEventListener: (type: string, listener: EventListenerOrEventListenerObject) => ep.addEventListener(type, listener),
    removeEventListener: (type: string, listener: EventListenerOrEventListenerObject) => ep.removeEventListener(type, listener),
  };
}

/**
 * A typed remote for a worker running ferrograd's `expose(api)`: a browser `Worker` or
 * a Node `worker_threads` `Worker`, with Tensor transfer on both sides. Calls wait
 * until the worker has finished loading and called `expose` (it announces itself), so
 * pair it with `expose` from ferrograd/worker, not Comlink's own.
 *
 * @example
 * ```ts
 * const remote = wrap<{ double(x: Tensor): Tensor }>(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
 * const y = await remote.double(tensor([1, 2, 3], { dtype: 'float32' })); // Tensor [2, 4, 6]
 * ```
 */
export function wrap<T>(worker: AnyWorker | NodePortLike | Endpoint): Remote<T> {
  return comlinkWrap<T>(bufferUntilReady(endpointOf(worker)));
}
