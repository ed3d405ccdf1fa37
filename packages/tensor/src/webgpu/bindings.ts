/**
 * Operand plumbing shared by every WGSL kernel and routine: dtype to WGSL type, float parameter
 * words, binding slots for operand views, and merging of dimensions contiguous for all operands.
 */
import type { TensorView } from '../backend.js';
import type { DType } from '../dtype.js';
import type { LaunchBuffer, WebGpuBackend } from './backend.js';
import type { Binding, WgslType } from './wgsl.js';

export const wgslType = (d: DType): WgslType => (d === 'int32' ? 'i32' : 'f32');

const f32Bits = new Float32Array(1);
const f32BitsI = new Int32Array(f32Bits.buffer);
/** The bits of Math.fround(x) as an i32 parameter word. */
export function floatWord(x: number): number {
  f32Bits[0] = x;
  return f32BitsI[0];
}

/**
 * Binding slots for operand views: one binding per distinct buffer (an in-place op reads and
 * writes one binding), read-write when any operand in `writes` uses it. Returns the buffers in
 * binding order, each operand's binding number, and a key fragment describing the aliasing.
 */
export function bindViews(
  gpu: WebGpuBackend,
  views: readonly TensorView[],
  writes: readonly number[],
  where: string,
): { buffers: LaunchBuffer[]; slot: number[]; bindings: Binding[]; key: string } {
  const buffers: LaunchBuffer[] = [];
  const slot: number[] = [];
  views.forEach((v, i) => {
    const buf = gpu.gpuOf(v, where);
    let s = buffers.findIndex((b) => b.buf === buf);
    if (s < 0) {
      buffers.push({ buf, write: false });
      s = buffers.length - 1;
    }
    if (writes.includes(i)) buffers[s].write = true;
    slot.push(s + 1);
  });
  const bindings = buffers.map((b, i) => ({ binding: i + 1, write: b.write }));
  return {
    buffers,
    slot,
    bindings,
    key: `${slot.join('')}${bindings.map((b) => (b.write ? 'w' : 'r')).join('')}`,
  };
}

/** Merges dimensions that are contiguous for every operand and drops size-1 ones. */
export function mergeDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let q = 0; q < strides.length && merge; q++) merge = st[q][last] === strides[q][i] * d;
    if (merge) {
      dims[last] *= d;
      for (let q = 0; q < strides.length; q++) st[q][last] = strides[q][i];
    } else {
      dims.push(d);
      for (let q = 0; q < strides.length; q++) st[q].push(strides[q][i]);
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: st };
}
