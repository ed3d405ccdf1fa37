/** `memory()`: the engine's live counters next to a backend's allocator counters. */
import type { BackendMemory } from './backend.js';
import { liveCounts } from './engine.js';
import { getBackend } from './registry.js';

/** Counters of live tensors and buffers, plus the backend's own view. */
export interface MemoryInfo {
  /** Tensor objects alive (user tensors, views, and values saved for backward). */
  tensors: number;
  /** Storage buffers alive (views share one). */
  buffers: number;
  bytes: number;
  /** The current backend's allocator counters. */
  backend: BackendMemory;
}

/** Live tensors and buffers, for leak hunting and tests. */
export function memory(backendName?: string): MemoryInfo {
  return { ...liveCounts(), backend: getBackend(backendName).memory() };
}
