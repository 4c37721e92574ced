// ferrograd/worker: models and training in workers (browser Worker or Node
// worker_threads, same code), carried by Comlink with tensors transferred.

export { expose, wrap } from './rpc.js';
export { proxy, transfer, releaseProxy, type Remote, type Endpoint } from 'comlink';
export { tensorTransferHandler, tensorsTransferHandler, sendAndFree, toWire, fromWire, type TensorWire, type TensorsWire } from './transfer.js';
export { offload, type OffloadOptions, type OffloadedModel } from './offload.js';
export { WorkerCrashedError } from './client.js';
export { trainInWorker, type TrainInWorkerOptions } from './train.js';
export type { TrainSpec, TrainReport, TrainProgress, TrainContext, TrainFunction } from './train-runtime.js';
export { shardSizes } from './shards.js';
export { DataParallel, MAX_WORKERS, type DataParallelOptions, type LossSpec, type OptimizerSpec } from './data-parallel.js';
export { canShareMemory, coreCount, isNode, type AnyWorker, type NodeWorkerLike, type NodePortLike, type BrowserWorkerLike } from './env.js';
export type { HostApi } from './host.js';
