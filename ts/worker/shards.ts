// How DataParallel cuts a batch over its replicas: the main thread (steps posted one by
// one) and the replicas (runs over the data they keep) cut the same way from this file,
// so that both paths give the same shards and the same bits.

/**
 * Contiguous shard sizes of `n` rows over `k` workers: the first `n % k` get one more.
 *
 * @example
 * ```ts
 * shardSizes(50, 3); // [17, 17, 16]
 * ```
 */
export function shardSizes(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => base + (i < n % k ? 1 : 0));
}

/** Each shard's share of the batch mean, per rank (0 for a replica without rows). */
export function shardWeights(sizes: readonly number[]): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  return sizes.map((len) => len / n);
}
