// Gather rows and deterministic scatter-add of rows. Scatter-add adds into each target row in
// position order (as the CPU reference), with no float atomics: a counting sort of the
// positions by target row (integer atomics count, one block scans, each position finds its
// rank among the equal indices before it), then a thread per output element adds its rows.
// Bad indices set the device error flag (codes in src/cuda/kernels.ts).
#include "common.cuh"

struct GatherParams {
  u64 out, table, idx, err;
  i64 n;  // N * R
  i64 R, V, outOffset, tableOffset, idxOffset;
};

LRW_KERNEL(lrw_gather, GatherParams) {
  const int R = (int)p.R;
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < (u32)p.n; i += gridDim.x * blockDim.x) {
    const int pos = (int)(i / (u32)R), j = (int)(i - (u32)pos * (u32)R);
    const int row = ((const int*)p.idx)[p.idxOffset + pos];
    u32* out = (u32*)p.out + p.outOffset;
    if (row < 0 || row >= (int)p.V) {
      flag_error(p.err, 1, row, pos);
      out[i] = 0u;
    } else {
      out[i] = ((const u32*)p.table)[p.tableOffset + (i64)row * R + j];
    }
  }
}

struct ScatterParams {
  u64 out, src, idx, counts, starts, perm, err;
  i64 N, V, R, outOffset, srcOffset, idxOffset;
  i64 dtype;
};

// 1. counts[row] += 1 per position (counts zeroed by the host).
LRW_KERNEL(lrw_scatter_count, ScatterParams) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= (int)p.N) return;
  const int row = ((const int*)p.idx)[p.idxOffset + pos];
  if (row < 0 || row >= (int)p.V) {
    flag_error(p.err, 2, row, pos);
    return;
  }
  atomicAdd((int*)p.counts + row, 1);
}

// 2. starts = exclusive scan of counts (V + 1 entries); one block of 1024 threads.
LRW_KERNEL(lrw_scatter_scan, ScatterParams) {
  __shared__ int s[1024];
  const int t = threadIdx.x, V = (int)p.V;
  const int* counts = (const int*)p.counts;
  int* starts = (int*)p.starts;
  int carry = 0;
  for (int base = 0; base < V; base += 1024) {
    const int v = base + t < V ? counts[base + t] : 0;
    s[t] = v;
    __syncthreads();
    for (int o = 1; o < 1024; o <<= 1) {
      const int add = t >= o ? s[t - o] : 0;
      __syncthreads();
      s[t] += add;
      __syncthreads();
    }
    if (base + t < V) starts[base + t] = carry + s[t] - v;
    carry += s[1023];
    __syncthreads();
  }
  if (t == 0) starts[V] = carry;
}

// 3. perm[starts[row] + rank] = pos, rank = earlier positions with the same row; positions
// are read in tiles of the block size through shared memory.
LRW_KERNEL(lrw_scatter_place, ScatterParams) {
  __shared__ int tile[256];
  const int N = (int)p.N;
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  const int* idx = (const int*)p.idx + p.idxOffset;
  const int row = pos < N ? idx[pos] : -1;
  const bool ok = pos < N && row >= 0 && row < (int)p.V;
  int rank = 0;
  const int last = lrw_imin(N, (int)(blockIdx.x + 1) * (int)blockDim.x);
  for (int t0 = 0; t0 < last; t0 += 256) {
    __syncthreads();
    if (t0 + (int)threadIdx.x < N) tile[threadIdx.x] = idx[t0 + threadIdx.x];
    __syncthreads();
    const int end = lrw_imin(256, pos - t0);
    for (int j = 0; j < end; j++) rank += tile[j] == row;
  }
  if (ok) ((int*)p.perm)[((const int*)p.starts)[row] + rank] = pos;
}

// 4. out[v, j] += src[perm[s], j] for s in starts[v] .. starts[v + 1], in position order.
LRW_KERNEL(lrw_scatter_add, ScatterParams) {
  const int R = (int)p.R;
  const u32 n = (u32)p.V * (u32)R;
  const int* starts = (const int*)p.starts;
  const int* perm = (const int*)p.perm;
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int v = (int)(i / (u32)R), j = (int)(i - (u32)v * (u32)R);
    const int s0 = starts[v], s1 = starts[v + 1];
    if (s0 == s1) continue;
    if (p.dtype == DT_I32) {
      int* out = (int*)p.out + p.outOffset;
      u32 acc = (u32)out[i];
      for (int s = s0; s < s1; s++) acc += (u32)((const int*)p.src)[p.srcOffset + (i64)perm[s] * R + j];
      out[i] = (int)acc;
    } else {
      float* out = (float*)p.out + p.outOffset;
      float acc = out[i];
      for (int s = s0; s < s1; s++) acc += ((const float*)p.src)[p.srcOffset + (i64)perm[s] * R + j];
      out[i] = acc;
    }
  }
}
