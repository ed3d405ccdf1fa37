/**
 * Process-wide tensor bookkeeping: ownership scopes (`tidy`, `keep`), the gradient mode
 * (`noGrad`), live-object counters (read by `memory()` in memory.ts), and `assertNoLeaks`.
 * Memory is released deterministically: a tensor's buffer returns to its backend's pool the
 * moment the last tensor viewing it (or the last autograd node saving it) lets go.
 */
import { LeakError } from './errors.js';
import type { Tensor } from './tensor.js';

interface EngineState {
  scopes: Set<Tensor>[];
  gradEnabled: boolean;
  live: Set<Tensor>;
  storages: number;
  storageBytes: number;
  nextId: number;
}

const state: EngineState = {
  scopes: [],
  gradEnabled: true,
  live: new Set(),
  storages: 0,
  storageBytes: 0,
  nextId: 1,
};

/** @internal Called by the Tensor constructor. */
export function trackTensor(t: Tensor, inScope: boolean): number {
  state.live.add(t);
  if (inScope) state.scopes[state.scopes.length - 1]?.add(t);
  return state.nextId++;
}

/** @internal Called by Tensor.dispose. */
export function untrackTensor(t: Tensor): void {
  state.live.delete(t);
  for (const s of state.scopes) s.delete(t);
}

/** @internal Storage accounting. */
export function countStorage(delta: 1 | -1, bytes: number): void {
  state.storages += delta;
  state.storageBytes += delta * bytes;
}

/** Whether ops record autograd nodes right now. */
export function isGradEnabled(): boolean {
  return state.gradEnabled;
}

/** Runs `fn` with gradient recording off (or on, with `enabled = true`), restoring the mode after. */
export function noGrad<T>(fn: () => T, enabled = false): T {
  const prev = state.gradEnabled;
  state.gradEnabled = enabled;
  try {
    return fn();
  } finally {
    state.gradEnabled = prev;
  }
}

/** Runs `fn` with gradient recording on (inside a `noGrad` scope, for example). */
export function enableGrad<T>(fn: () => T): T {
  return noGrad(fn, true);
}

function collect(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if ((value as { __isTensor?: boolean }).__isTensor) {
    into.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, into, depth + 1);
}

/**
 * Runs `fn` in a scope: every tensor created inside and not returned (in an array, Map or plain
 * object, up to 8 levels deep) or `keep()`-ed is disposed when `fn` returns or throws. `fn` must
 * be synchronous; for async code dispose explicitly or use `using`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  state.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope(scope, undefined);
    throw e;
  }
  closeScope(scope, result);
  if (result instanceof Promise) {
    throw new TypeError(
      'tidy(fn): fn returned a Promise; tidy only tracks synchronous code. Await outside tidy, or dispose tensors explicitly',
    );
  }
  return result;
}

function closeScope(scope: Set<Tensor>, result: unknown): void {
  const popped = state.scopes.pop();
  if (popped !== scope)
    throw new Error('tidy: scope stack corrupted (a nested tidy did not unwind)');
  const keepSet = new Set<Tensor>();
  if (!(result instanceof Promise)) collect(result, keepSet);
  const parent = state.scopes[state.scopes.length - 1];
  for (const t of scope) {
    if (keepSet.has(t)) parent?.add(t);
    else t.dispose();
  }
}

/** Exempts `t` from disposal by every enclosing `tidy` scope; returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of state.scopes) s.delete(t);
  return t;
}

/** @internal Live tensor objects, storages and their bytes (see `memory()`). */
export function liveCounts(): { tensors: number; buffers: number; bytes: number } {
  return { tensors: state.live.size, buffers: state.storages, bytes: state.storageBytes };
}

/** Descriptions of live tensors (id, shape, dtype, producing op), for debugging leaks. */
export function liveTensors(): string[] {
  return [...state.live].map((t) => t.toString());
}

/**
 * Runs `fn` (sync or async) and throws a `LeakError` if it leaves more tensors or buffers alive
 * than before. Returns what `fn` returns (which must then not contain new tensors).
 */
export async function assertNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = new Set(state.live);
  const buffers = state.storages;
  const result = await fn();
  const leaked = [...state.live].filter((t) => !before.has(t));
  const leakedBuffers = state.storages - buffers;
  if (leaked.length > 0 || leakedBuffers > 0) {
    const list = leaked.slice(0, 10).map((t) => t.toString());
    throw new LeakError(
      `assertNoLeaks: ${leaked.length} tensor(s) and ${leakedBuffers} buffer(s) leaked` +
        (list.length ? `, e.g. ${list.join('; ')}` : '') +
        '. Wrap the work in tidy(), dispose() what you create, and zeroGrad() parameters',
      leaked.length,
      leakedBuffers,
    );
  }
  return result;
}
