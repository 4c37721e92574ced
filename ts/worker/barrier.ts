// The shared-memory protocol of DataParallel's steps: one small SharedArrayBuffer that
// the replicas meet at once a step, that holds the shards' losses until they are
// reported, and through which the main thread lets the replicas run steps (each step is
// posted, or permitted within a run the replicas already hold: see `permit`).
//
// Layout: int32 words for the arrivals and the replicas done applying (both counted up
// forever), a flag set when a replica failed, the steps posted so far (written by the
// main thread), the steps reported so far, the last run stopped early and a wake-up
// counter for replicas waiting to be permitted a step; then each shard's loss times its
// weight, float64, for the last LOSS_STEPS steps.

import { FerrogradError } from '../index.js';

const ARRIVED = 0;
const FAILED = 1;
const APPLIED = 2;
const POSTED = 3;
const REPORTED = 4;
const STOPPED = 5;
const WAKE = 6;
const LOSSES_AT = 32;

/**
 * Steps reported in one message, at most: the main thread then wakes once per group. On
 * a 2-core machine it wakes on a replica's core, so each wake-up costs a replica time.
 */
export const REPORT_GROUP = 4;
/** Steps whose shard losses are kept: a group, and the steps that may run while it is reported. */
const LOSS_STEPS = REPORT_GROUP + 2;

/** How long a replica waits at the barrier for the others before giving up. */
const BARRIER_TIMEOUT_MS = 120_000;

/** How a replica's error starts when it stops because another one failed (not the cause). */
export const FOLLOW_ON = 'DataParallel: another replica failed';

/** Bytes of the barrier buffer for `workers` replicas (layout above). */
export function barrierBytes(workers: number): number {
  return LOSSES_AT + LOSS_STEPS * workers * 8;
}

/** The int32 words of the barrier buffer (layout above), made once per thread. */
export function barrierCounters(barrier: SharedArrayBuffer): Int32Array {
  return new Int32Array(barrier, 0, LOSSES_AT / 4);
}

/** The shards' weighted losses of step `s`, one per rank. */
export function stepLosses(barrier: SharedArrayBuffer, s: number, workers: number): Float64Array {
  return new Float64Array(barrier, LOSSES_AT + (s % LOSS_STEPS) * workers * 8, workers);
}

function wake(counters: Int32Array): void {
  Atomics.add(counters, WAKE, 1);
  Atomics.notify(counters, WAKE);
}

/**
 * Records on the main thread that the steps before `steps` are posted (their messages
 * sent, or permitted to a run the replicas hold): see `reportThrough` and `awaitPermit`.
 */
export function permit(counters: Int32Array, steps: number): void {
  Atomics.store(counters, POSTED, steps);
  wake(counters);
}

/**
 * Ends run `run` on the replicas at the steps permitted so far (main thread). The run's
 * number only grows, so a replica of an older run stops on it too, and no later run does.
 */
export function stopRun(counters: Int32Array, run: number): void {
  Atomics.store(counters, STOPPED, run);
  wake(counters);
}

/**
 * Blocks a replica in run `run` until step `step` is permitted (true), or the run was
 * stopped before it (false). A failure elsewhere lets the step go on, to fail at once.
 */
export function awaitPermit(counters: Int32Array, step: number, run: number): boolean {
  for (;;) {
    // Read before the checks: a permit or a stop after them changes it, and the wait returns.
    const seen = Atomics.load(counters, WAKE);
    if (Atomics.load(counters, POSTED) > step || Atomics.load(counters, FAILED) !== 0) return true;
    // Read again once the stop is seen: the main thread permits before it stops, so this
    // sees every permit, and every replica stops at the same step.
    if (Atomics.load(counters, STOPPED) >= run) return Atomics.load(counters, POSTED) > step;
    Atomics.wait(counters, WAKE, seen);
  }
}

/** Throws the follow-on error when another replica failed. */
export function checkNoFailure(counters: Int32Array, step: number, rank: number): void {
  if (Atomics.load(counters, FAILED) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} before step ${step}; replica ${rank} stops`);
}

/** Marks the run failed and wakes the replicas waiting at the barrier, which then stop. */
export function markFailed(counters: Int32Array): void {
  Atomics.store(counters, FAILED, 1);
  Atomics.notify(counters, ARRIVED);
}

/**
 * How long a replica at the barrier polls before it sleeps. Half the waits are shorter than
 * this, and waking from Atomics.wait took 25 µs on a 2-core VM (measured: median 24 µs,
 * against 1 µs polling), on the critical path of every step.
 */
const SPIN_MS = 0.2;

/** Counts this replica in at the barrier and blocks until `target` arrivals, or a failure elsewhere. */
export function arriveAndWait(counters: Int32Array, target: number, step: number, rank: number): void {
  if (Atomics.add(counters, ARRIVED, 1) + 1 >= target) {
    Atomics.notify(counters, ARRIVED);
    return;
  }
  const polled = performance.now() + SPIN_MS;
  while (Atomics.load(counters, ARRIVED) < target && Atomics.load(counters, FAILED) === 0 && performance.now() < polled);
  const deadline = performance.now() + BARRIER_TIMEOUT_MS;
  for (let seen = Atomics.load(counters, ARRIVED); seen < target; seen = Atomics.load(counters, ARRIVED)) {
    if (Atomics.load(counters, FAILED) !== 0) throw new FerrogradError('value', `${FOLLOW_ON} at step ${step}; replica ${rank} stops`);
    const left = deadline - performance.now();
    if (left <= 0) throw new FerrogradError('value', `DataParallel: replica ${rank} waited ${BARRIER_TIMEOUT_MS} ms for the others at step ${step}`);
    Atomics.wait(counters, ARRIVED, seen, left);
  }
}

/**
 * Counts this replica done applying step `step`; true when it was the last of `workers`
 * and no later step is posted, so that it must flush the report (nothing else will).
 */
export function noteApplied(counters: Int32Array, step: number, workers: number): boolean {
  return Atomics.add(counters, APPLIED, 1) + 1 === workers * (step + 1) && Atomics.load(counters, POSTED) <= step + 1;
}

/**
 * Sends the batch losses (the shards' weighted losses summed in rank order) of the steps
 * not reported yet, through step `s`: when they make a whole REPORT_GROUP, or with
 * `flush`. Nothing is sent until every replica has applied step `s` (a later call will)
 * or when another replica has sent them. Every replica tries it as it comes to step
 * s + 1's barrier, so that the first one there (about to wait for the others) usually
 * sends it: the main thread, woken by the message on that replica's core, then does its
 * work while that core would idle anyway, instead of taking a core from a replica that
 * computes (measured: 140–250 µs a step). The last replica to apply a step that no later
 * one follows flushes.
 */
export function reportThrough(counters: Int32Array, barrier: SharedArrayBuffer, s: number, workers: number, flush: boolean, send: (from: number, losses: number[]) => void): void {
  if (s < 0 || Atomics.load(counters, APPLIED) < workers * (s + 1)) return;
  const from = Atomics.load(counters, REPORTED);
  if (from > s || (!flush && s - from + 1 < REPORT_GROUP)) return;
  if (Atomics.compareExchange(counters, REPORTED, from, s + 1) !== from) return;
  // At most a group is left unreported at any barrier, and step k's losses are rewritten
  // at step k + LOSS_STEPS, after barriers that wait for this replica.
  const losses: number[] = [];
  for (let k = from; k <= s; k++) losses.push(stepLosses(barrier, k, workers).reduce((sum, loss) => sum + loss, 0));
  send(from, losses);
}
