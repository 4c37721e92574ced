// Memory without `tidy` everywhere: every tensor made inside a scope is freed when
// the scope ends, unless it is returned from the scope or `keep()`-ed. Tensors made
// outside any scope are freed by `dispose()`, `using`, or the garbage collector.

import { FerrogradError } from './errors.js';

/** What a scope can own: tensors (and anything else with a handle to free). */
export interface Tracked {
  /** Frees the handle; `reason` is reported if the object is used afterwards. */
  release(reason: string): void;
  readonly isDisposed: boolean;
  /**
   * Called once when the object leaves the scopes without being freed (kept, or returned
   * from the outermost scope): from now on only `dispose()` or the garbage collector frees it.
   */
  unscoped(): void;
}

const TRACKED = Symbol.for('ferrograd.tracked');

interface Scope {
  name: string;
  owned: Set<Tracked>;
}

const scopes: Scope[] = [];
const kept = new WeakSet<Tracked>();

/**
 * Marks a class's prototype, so that scopes recognize its instances (and its subclasses').
 * Once per class: a property defined on every instance cost 15 % of a small op.
 */
export function markTracked(prototype: object): void {
  Object.defineProperty(prototype, TRACKED, { value: true });
}

function isTracked(v: unknown): v is Tracked {
  return typeof v === 'object' && v !== null && TRACKED in v;
}

/** Registers a new object with the innermost scope; false when no scope is open (it is unscoped from the start). */
export function track(t: Tracked): boolean {
  const top = scopes[scopes.length - 1];
  if (top === undefined) return false;
  top.owned.add(t);
  return true;
}

/** Removes `t` from whichever scope owns it; false if none did. */
export function untrack(t: Tracked): boolean {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].owned.delete(t)) return true;
  return false;
}

/**
 * Pins a tensor so that no scope frees it; free it with `dispose()` or leave it to
 * the garbage collector. Returns its argument.
 *
 * @example
 * ```ts
 * let best: Tensor | undefined;
 * tidy(() => { best = keep(model.forward(x)); });
 * ```
 */
export function keep<T extends Tracked>(t: T): T {
  kept.add(t);
  if (untrack(t) && !t.isDisposed) t.unscoped();
  return t;
}

export function isKept(t: Tracked): boolean {
  return kept.has(t);
}

/** Every tracked object reachable through arrays, plain objects, Maps and Sets. */
function collect(value: unknown, into: Set<Tracked>, seen: Set<unknown>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (isTracked(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (value instanceof Map) for (const [k, v] of value) (collect(k, into, seen), collect(v, into, seen));
  else if (value instanceof Set) for (const v of value) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

/** A scope opened by `openScope`, to be ended by `closeScope`. */
export interface ScopeHandle {
  readonly name: string;
}

// Handle → scope while open; a closed handle is absent, which makes closing twice harmless.
const openScopes = new WeakMap<ScopeHandle, Scope>();

/**
 * Opens a scope that stays open until `closeScope`, for code shaped like a loop
 * rather than a callback (each DataLoader iteration is one). Every tensor created
 * meanwhile is owned by it, unless a scope opened later is on top.
 *
 * @example
 * ```ts
 * const scope = openScope('step');
 * try { step(); } finally { closeScope(scope); }
 * ```
 */
export function openScope(name: string): ScopeHandle {
  const scope: Scope = { name, owned: new Set() };
  const handle: ScopeHandle = Object.freeze({ name });
  openScopes.set(handle, scope);
  scopes.push(scope);
  return handle;
}

/**
 * Ends a scope from `openScope`: frees what it owns except the tensors reachable
 * from `survivors` (handed to the scope it was opened in) and kept ones.
 */
export function closeScope(handle: ScopeHandle, survivors?: unknown): void {
  const scope = openScopes.get(handle);
  if (scope === undefined) return;
  openScopes.delete(handle);
  const keepers = new Set<Tracked>();
  collect(survivors, keepers, new Set());
  const i = scopes.lastIndexOf(scope);
  // Loop-shaped scopes need not nest (two loaders iterated in step, or a loop
  // resumed inside a tidy), so only this scope leaves the stack: the ones above it
  // are set aside while endScope pops it, then put back.
  const above = i >= 0 ? scopes.splice(i + 1) : [];
  endScope(scope, keepers);
  scopes.push(...above);
}

/** Opens a scope, runs `fn`, and frees what the scope owns except the result. */
export function withScope<T>(name: string, fn: () => T): T {
  const scope: Scope = { name, owned: new Set() };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(scope, new Set());
    throw e;
  }
  if (result instanceof Promise) {
    endScope(scope, new Set());
    throw new FerrogradError('usage', `${name}: the function returned a Promise; scopes are synchronous, so await outside and use tidy() inside each step`);
  }
  const survivors = new Set<Tracked>();
  collect(result, survivors, new Set());
  endScope(scope, survivors);
  return result;
}

function endScope(scope: Scope, survivors: Set<Tracked>): void {
  const i = scopes.lastIndexOf(scope);
  if (i >= 0) scopes.splice(i);
  const parent = scopes[scopes.length - 1];
  for (const t of scope.owned) {
    if (survivors.has(t)) {
      if (parent !== undefined) parent.owned.add(t);
      else if (!t.isDisposed) t.unscoped();
    } else if (!t.isDisposed) {
      t.release(`at the end of ${scope.name}`);
    }
  }
}

/**
 * Runs `fn` in a scope: tensors it creates are freed when it returns, except those
 * it returns (in an array or object too) and those passed to `keep()`.
 *
 * @example
 * ```ts
 * const loss = tidy(() => lossFn.forward(model.forward(x), y)); // intermediates freed
 * ```
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  if (typeof a === 'function') return withScope('tidy()', a);
  if (b === undefined) throw new FerrogradError('usage', 'tidy: expected a function');
  return withScope(`tidy('${a}')`, b);
}

/** Number of open scopes (for tests and diagnostics). */
export function scopeDepth(): number {
  return scopes.length;
}
