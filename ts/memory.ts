// Memory accounting.

import { memoryStats } from './wasm/core.js';
import * as ops from './wasm/ops.js';

/** What `memory()` reports. */
export interface MemoryInfo {
  /** Live tensor handles. */
  tensors: number;
  /** Bytes of the distinct buffers those handles reference. */
  bytes: number;
  /** Bytes of freed buffers the core keeps for reuse. */
  pooledBytes: number;
  /** Size of the WebAssembly memory. */
  wasmBytes: number;
}

/**
 * Live tensors and bytes, for spotting leaks.
 *
 * @example
 * ```ts
 * console.log(memory()); // { tensors: 12, bytes: 3211264, pooledBytes: 0, wasmBytes: 17104896 }
 * ```
 */
export function memory(): MemoryInfo {
  return memoryStats();
}

/** Returns the buffers kept for reuse to the allocator. */
export function releasePooledMemory(): void {
  ops.clearPool();
}
