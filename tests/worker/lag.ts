// Event-loop lag of the calling thread, sampled the usual way: a chain of timers, each
// due `intervalMs` after the previous one ran; the lag is how late each one fires.
// A busy event loop (a long synchronous task, a flood of messages) shows up as lag.

export interface LagReport {
  /** Worst lateness of any timer, in ms. */
  maxMs: number;
  /** 99th percentile lateness, in ms. */
  p99Ms: number;
  /** Timers that fired. */
  samples: number;
}

/** Starts sampling; `stop()` ends it and reports. */
export function monitorLag(intervalMs = 10): { stop(): LagReport } {
  const lags: number[] = [];
  let due = performance.now() + intervalMs;
  let timer: ReturnType<typeof setTimeout>;
  const tick = (): void => {
    const now = performance.now();
    lags.push(Math.max(0, now - due));
    due = now + intervalMs;
    timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return {
    stop(): LagReport {
      clearTimeout(timer);
      // The timer still pending when we stop is late too, if the loop was blocked just now.
      lags.push(Math.max(0, performance.now() - due));
      const sorted = [...lags].sort((a, b) => a - b);
      return { maxMs: sorted[sorted.length - 1], p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))], samples: lags.length };
    },
  };
}
