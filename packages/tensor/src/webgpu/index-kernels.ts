/** Row gather and deterministic scatter-add in WGSL (out-of-range indices flag a device error). */
import type { WebGpuKernel } from './backend.js';
import { bindViews, wgslType } from './bindings.js';
import { declare, LINEAR_INDEX, loader, storer } from './wgsl.js';

export const gatherKernel: WebGpuKernel = (call, gpu) => {
  const [table, indices] = call.inputs;
  const out = call.output;
  const V = table.shape[0];
  const R = table.shape[1];
  const N = indices.shape[0];
  const n = N * R;
  if (n === 0) return;
  const { buffers, slot, bindings, key } = bindViews(gpu, [out, table, indices], [0], 'gather');
  buffers.push({ buf: gpu.errorBuffer, write: true });
  const err = buffers.length;
  const wg = gpu.workgroupSize;
  const { grid, width } = gpu.grid(n, wg, 'gather');
  gpu.launch({
    key: `gather:${key}:${wg}`,
    buffers,
    grid,
    params: [width, n, R, V, out.offset, table.offset, indices.offset],
    code: () => `${declare([...bindings, { binding: err, write: true }])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let R = P[2];
  let p = i / R;
  let j = i - p * R;
  let row = bitcast<i32>(b${slot[2]}[P[6] + p]);
  if (row < 0 || row >= P[3]) {
    b${err}[0] = 1u; b${err}[1] = bitcast<u32>(row); b${err}[2] = u32(p);
    b${slot[0]}[P[4] + i] = 0u;
    return;
  }
  b${slot[0]}[P[4] + i] = b${slot[1]}[P[5] + row * R + j];
}`,
  });
};

/**
 * Deterministic scatter-add (no float atomics): a counting sort of the positions by target row
 * (integer atomics count, one invocation scans, each position finds its rank among equal
 * indices before it), then one invocation per output element adds its rows in position order.
 */
export const scatterAddKernel: WebGpuKernel = (call, gpu) => {
  const [indices, src] = call.inputs;
  const out = call.output;
  const V = out.shape[0];
  const R = out.shape[1];
  const N = indices.shape[0];
  if (N === 0 || V === 0 || R === 0) return;
  const t = wgslType(out.dtype);
  const counts = gpu.alloc((V + 1) * 4);
  const starts = gpu.alloc((V + 1) * 4);
  const perm = gpu.alloc(N * 4);
  const wg = gpu.workgroupSize;
  try {
    const cnt = gpu.gpuOf(counts);
    const st = gpu.gpuOf(starts);
    const pm = gpu.gpuOf(perm);
    const idx = gpu.gpuOf(indices, 'scatterAdd');
    // 1. zero counts and count rows (flagging bad indices)
    const z = gpu.grid(V + 1, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-zero:${wg}`,
      buffers: [{ buf: cnt, write: true }],
      grid: z.grid,
      params: [z.width, V + 1],
      code: () => `${declare([{ binding: 1, write: true }])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i < P[1]) { b1[i] = 0u; }
}`,
    });
    const c = gpu.grid(N, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-count:${wg}`,
      buffers: [
        { buf: idx, write: false },
        { buf: cnt, write: true },
        { buf: gpu.errorBuffer, write: true },
      ],
      grid: c.grid,
      params: [c.width, N, indices.offset, V],
      code: () => `@group(0) @binding(0) var<storage, read> P: array<i32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> cnt: array<atomic<i32>>;
@group(0) @binding(3) var<storage, read_write> err: array<u32>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let p = ${LINEAR_INDEX};
  if (p >= P[1]) { return; }
  let row = idx[P[2] + p];
  if (row < 0 || row >= P[3]) { err[0] = 2u; err[1] = bitcast<u32>(row); err[2] = u32(p); return; }
  atomicAdd(&cnt[row], 1);
}`,
    });
    // 2. exclusive scan of the counts (one invocation: V steps)
    gpu.launch({
      key: 'scatter-scan',
      buffers: [
        { buf: cnt, write: false },
        { buf: st, write: true },
      ],
      grid: [1, 1, 1],
      params: [0, V],
      code: () => `${declare([
        { binding: 1, write: false },
        { binding: 2, write: true },
      ])}
@compute @workgroup_size(1)
fn main() {
  var s = 0u;
  for (var v = 0; v < P[1]; v++) { b2[v] = s; s = s + b1[v]; }
  b2[P[1]] = s;
}`,
    });
    // 3. each position's slot: start of its row + its rank among earlier equal indices
    gpu.launch({
      key: `scatter-place:${wg}`,
      buffers: [
        { buf: idx, write: false },
        { buf: st, write: false },
        { buf: pm, write: true },
      ],
      grid: c.grid,
      params: [c.width, N, indices.offset, V],
      code: () => `${declare([
        { binding: 1, write: false },
        { binding: 2, write: false },
        { binding: 3, write: true },
      ])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let p = ${LINEAR_INDEX};
  if (p >= P[1]) { return; }
  let o = P[2];
  let row = bitcast<i32>(b1[o + p]);
  if (row < 0 || row >= P[3]) { return; }
  var rank = 0u;
  for (var q = 0; q < p; q++) { if (bitcast<i32>(b1[o + q]) == row) { rank = rank + 1u; } }
  b3[b2[row] + rank] = u32(p);
}`,
    });
    // 4. one invocation per output element adds its source rows in position order
    const views = [out, src];
    const bound = bindViews(gpu, views, [0], 'scatterAdd');
    const buffers = [...bound.buffers, { buf: st, write: false }, { buf: pm, write: false }];
    const nb = bound.buffers.length;
    const e = gpu.grid(V * R, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-add:${t}:${bound.key}:${wg}`,
      buffers,
      grid: e.grid,
      params: [e.width, V * R, R, out.offset, src.offset],
      code: () => `${declare([
        ...bound.bindings,
        { binding: nb + 1, write: false },
        { binding: nb + 2, write: false },
      ])}
${loader('lds', bound.slot[1], t)}
${loader('ldo', bound.slot[0], t)}
${storer('sto', bound.slot[0], t)}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let R = P[2];
  let v = i / R;
  let j = i - v * R;
  let s0 = i32(b${nb + 1}[v]);
  let s1 = i32(b${nb + 1}[v + 1]);
  if (s1 == s0) { return; }
  var acc = ldo(P[3] + i);
  for (var s = s0; s < s1; s++) {
    acc = acc + lds(P[4] + i32(b${nb + 2}[s]) * R + j);
  }
  sto(P[3] + i, acc);
}`,
    });
  } finally {
    gpu.free(counts);
    gpu.free(starts);
    gpu.free(perm);
  }
};
