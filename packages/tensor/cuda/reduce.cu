// Reductions over the trailing `inner` elements of a contiguous [rows, inner] input: sum, max,
// min (NaN propagates) and argmax (first index of the maximum; NaN never picked; 0 when nothing
// exceeds -Infinity), as the CPU reference defines them. A warp per row (rows up to 1024) or
// the block per row; partial results combine in a fixed order, so results are deterministic.
// float32 inputs accumulate in float32, int32 inputs in float64 (exact below 2^53).
#include "common.cuh"

struct ReduceParams {
  u64 out, in;
  i64 rows, inner, inOffset, outOffset;
  i64 op;  // 0 sum, 1 max, 2 min, 3 argmax
  i64 dtypeIn, dtypeOut;
};

template <typename T>
LRW_DEVICE T combine(int op, T a, T b) {
  if (op == 0) return a + b;
  if (op == 1) return (b > a || b != b) ? b : a;
  return (b < a || b != b) ? b : a;
}

template <int LANES, typename T>
LRW_DEVICE T reduce_lanes(int op, T v, T* scratch, T identity) {
  for (int o = 16; o > 0; o >>= 1) v = combine<T>(op, v, __shfl_xor_sync(LRW_FULL_MASK, v, o));
  if (LANES == 32) return v;
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  __syncthreads();
  if (l == 0) scratch[w] = v;
  __syncthreads();
  v = l < LANES / 32 ? scratch[l] : identity;
  for (int o = 16; o > 0; o >>= 1) v = combine<T>(op, v, __shfl_xor_sync(LRW_FULL_MASK, v, o));
  return v;
}

// (value, index) pairs: the larger value, then the smaller index. A total order (values are
// never NaN here), so every lane ends with the same pair.
template <int LANES, typename T>
LRW_DEVICE int argmax_lanes(T v, int idx, T* scratch, int* scratch_i, T lowest) {
  for (int o = 16; o > 0; o >>= 1) {
    const T pv = __shfl_xor_sync(LRW_FULL_MASK, v, o);
    const int pi = __shfl_xor_sync(LRW_FULL_MASK, idx, o);
    if (pv > v || (pv == v && pi < idx)) { v = pv; idx = pi; }
  }
  if (LANES == 32) return idx;
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  __syncthreads();
  if (l == 0) { scratch[w] = v; scratch_i[w] = idx; }
  __syncthreads();
  v = l < LANES / 32 ? scratch[l] : lowest;
  idx = l < LANES / 32 ? scratch_i[l] : 0x7fffffff;
  for (int o = 16; o > 0; o >>= 1) {
    const T pv = __shfl_xor_sync(LRW_FULL_MASK, v, o);
    const int pi = __shfl_xor_sync(LRW_FULL_MASK, idx, o);
    if (pv > v || (pv == v && pi < idx)) { v = pv; idx = pi; }
  }
  return idx;
}

template <int LANES, typename T>
LRW_DEVICE void reduce_row(const ReduceParams& p, T* scratch, int* scratch_i) {
  ROW_SETUP(LANES)
  const bool live = row < p.rows;
  if (LANES == 32 && !live) return;
  const int op = (int)p.op, inner = (int)p.inner, dti = (int)p.dtypeIn;
  const int base = (int)p.inOffset + (int)row * inner;
  T pos_inf, neg_inf;
  if (sizeof(T) == 4) { pos_inf = (T)lrw_pos_inf(); neg_inf = (T)lrw_neg_inf(); }
  else { pos_inf = (T)1e308 * (T)10; neg_inf = -pos_inf; }
  if (op == 3) {
    T best = neg_inf;
    int at = 0x7fffffff;
    for (int j = lane; j < inner; j += LANES) {
      const T v = dti == DT_I32 ? (T)((const int*)p.in)[base + j] : (T)((const float*)p.in)[base + j];
      if (v > best) { best = v; at = j; }
    }
    at = argmax_lanes<LANES, T>(best, at, scratch, scratch_i, neg_inf);
    if (lane == 0 && live) st_i(p.out, (int)p.dtypeOut, (int)p.outOffset + (int)row, at == 0x7fffffff ? 0 : at);
    return;
  }
  const T identity = op == 0 ? (T)0 : op == 1 ? neg_inf : pos_inf;
  T acc = identity;
  for (int j = lane; j < inner; j += LANES) {
    const T v = dti == DT_I32 ? (T)((const int*)p.in)[base + j] : (T)((const float*)p.in)[base + j];
    acc = combine<T>(op, acc, v);
  }
  acc = reduce_lanes<LANES, T>(op, acc, scratch, identity);
  if (lane == 0 && live) {
    if (p.dtypeOut == DT_I32) ((int*)p.out)[p.outOffset + row] = (int)(i64)acc;
    else ((float*)p.out)[p.outOffset + row] = (float)acc;
  }
}

template <int LANES>
LRW_DEVICE void reduce_kernel(const ReduceParams& p) {
  __shared__ float scratch_f[8];
  __shared__ double scratch_d[8];
  __shared__ int scratch_i[8];
  if (p.dtypeIn == DT_I32) reduce_row<LANES, double>(p, scratch_d, scratch_i);
  else reduce_row<LANES, float>(p, scratch_f, scratch_i);
}

LRW_KERNEL(lrw_reduce_w, ReduceParams) { reduce_kernel<32>(p); }
LRW_KERNEL(lrw_reduce_b, ReduceParams) { reduce_kernel<256>(p); }
