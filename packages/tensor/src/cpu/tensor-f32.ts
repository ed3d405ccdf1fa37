import type { Tensor } from '../tensor.js';
import type { CpuBackend } from './cpu-backend.js';

/** The float32 elements of a contiguous tensor on a CPU backend, as a subarray (no copy). */
export function f32(t: Tensor): Float32Array {
  const v = t.view();
  return ((t.backend as CpuBackend).array(v) as Float32Array).subarray(v.offset, v.offset + t.size);
}
