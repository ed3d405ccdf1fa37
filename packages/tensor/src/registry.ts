/**
 * Backend registry with lazy loading: a factory runs on first use, so a GPU backend's module
 * (and its native bindings) is imported only when someone asks for it, never on a CPU-only install.
 * It knows no backend itself: the package entry registers the built-in ones (builtin-backends.ts).
 */
import type { Backend } from './backend.js';

type Factory = () => Backend | Promise<Backend>;

export interface RegisterBackendOptions {
  /**
   * Create the backend on the first `getBackend(name)` (the factory must then return a
   * Backend, not a Promise), so that importing the package is enough to compute on it, as on
   * the built-in 'cpu'. Default false: `await loadBackend(name)` or `setBackend(name)` first.
   */
  loadOnDemand?: boolean;
}

const factories = new Map<string, Factory>();
const onDemand = new Set<string>();
const instances = new Map<string, Backend>();
const pending = new Map<string, Promise<Backend>>();
let current = 'cpu';

/**
 * Registers a backend factory under `name` (replacing an unloaded one of the same name).
 * Example: `registerBackend('webgpu', async () => (await import('./webgpu.js')).create())`.
 */
export function registerBackend(
  name: string,
  factory: Factory,
  options: RegisterBackendOptions = {},
): void {
  if (instances.has(name)) {
    throw new Error(
      `registerBackend: backend '${name}' is already loaded; pick another name or register before first use`,
    );
  }
  factories.set(name, factory);
  if (options.loadOnDemand) onDemand.add(name);
  else onDemand.delete(name);
}

/** Names of registered backends (loaded or not). */
export function backendNames(): string[] {
  return [...factories.keys()];
}

function registeredList(): string {
  return factories.size
    ? backendNames().join(', ')
    : "none (import '@lrw/tensor': its entry registers the built-in backends)";
}

/** Loads (once) and returns the backend `name`. */
export async function loadBackend(name: string): Promise<Backend> {
  const ready = instances.get(name);
  if (ready) return ready;
  let p = pending.get(name);
  if (!p) {
    const factory = factories.get(name);
    if (!factory) {
      throw new Error(`loadBackend: no backend named '${name}'; registered: ${registeredList()}`);
    }
    p = Promise.resolve(factory()).then((b) => {
      instances.set(name, b);
      pending.delete(name);
      return b;
    });
    p.catch(() => pending.delete(name));
    pending.set(name, p);
  }
  return p;
}

/** Makes `name` the backend for new tensors, loading it first. */
export async function setBackend(name: string): Promise<Backend> {
  const b = await loadBackend(name);
  current = name;
  return b;
}

/** The backend `name` (default: the current one); it must already be loaded. */
export function getBackend(name: string = current): Backend {
  const b = instances.get(name);
  if (b) return b;
  const factory = factories.get(name);
  if (factory && onDemand.has(name)) {
    const made = factory();
    if (!(made instanceof Promise)) {
      instances.set(name, made);
      return made;
    }
  }
  throw new Error(
    factory
      ? `getBackend: backend '${name}' is registered but not loaded; await setBackend('${name}') or loadBackend('${name}') first`
      : `getBackend: no backend named '${name}'; registered: ${registeredList()}`,
  );
}

/** The name of the current backend. */
export function currentBackendName(): string {
  return current;
}
