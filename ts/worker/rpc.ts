// expose/wrap for ferrograd-aware workers: the same user code for browser Workers and
// Node worker_threads, with the Tensor transfer handlers registered on both sides.

import { expose as comlinkExpose, wrap as comlinkWrap, type Endpoint, type Remote } from 'comlink';
import { endpointOf, parentEndpoint, type AnyWorker, type NodePortLike } from './env.js';
import './transfer.js';

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
  comlinkExpose(api, ep);
  // Tell wrap() that calls may flow now: see bufferUntilReady.
  ep.postMessage({ [READY]: true });
}

const READY = 'ferrograd.worker.ready';

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
