// Grad mode: noGrad / enableGrad scopes and the global switch.

import * as ops from './wasm/ops.js';
import { withScope } from './scope.js';

/**
 * Runs `fn` without recording ops for autograd, inside a scope (tensors it creates
 * are freed at its end unless returned or kept). Optimizer steps and evaluation use it.
 *
 * @example
 * ```ts
 * const acc = noGrad(() => model.forward(x).argmax(1).eq(y).float().mean().item());
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = ops.setGradEnabled(false);
  try {
    return withScope('noGrad()', fn);
  } finally {
    ops.setGradEnabled(prev);
  }
}

/** Runs `fn` with grad recording on (inside `noGrad`, for instance). */
export function enableGrad<T>(fn: () => T): T {
  const prev = ops.setGradEnabled(true);
  try {
    return withScope('enableGrad()', fn);
  } finally {
    ops.setGradEnabled(prev);
  }
}

/** Turns grad recording on or off globally; returns the previous setting. */
export function setGradEnabled(flag: boolean): boolean {
  return ops.setGradEnabled(flag);
}

export function isGradEnabled(): boolean {
  const prev = ops.setGradEnabled(true);
  ops.setGradEnabled(prev);
  return prev;
}
