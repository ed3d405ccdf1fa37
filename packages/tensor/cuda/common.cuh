// Shared definitions of the CUDA kernels of @lrw/tensor's cuda backend.
//
// Every kernel takes ONE parameter, a struct passed by value whose fields are all 8 bytes wide
// (u64 device pointers, i64 integers, f64 scalars), so the host packs it as a flat array of
// 64-bit words in field order (src/cuda/params.ts) and launches through cuLaunchKernel's `extra`
// buffer. The sources include no headers, so NVRTC compiles them as they are, and they build as
// host C++ against cuda/emulator/emu.h (LRW_EMULATE), which runs them on the CPU in tests.
#pragma once

typedef unsigned int u32;
typedef int i32;
typedef long long i64;
typedef unsigned long long u64;

#ifndef LRW_EMULATE
#define LRW_KERNEL(name, P) extern "C" __global__ void name(const P p)
#define LRW_DYNAMIC_SMEM(T, name) extern __shared__ T name[]
#define LRW_DEVICE __device__ __forceinline__
#endif

#define LRW_FULL_MASK 0xffffffffu
#define DT_F32 0
#define DT_I32 1

LRW_DEVICE float lrw_pos_inf() { return __int_as_float(0x7f800000); }
LRW_DEVICE float lrw_neg_inf() { return __int_as_float((int)0xff800000u); }
LRW_DEVICE float lrw_nan() { return __int_as_float(0x7fc00000); }
// NaN test on the bits (fast-math style folding of x != x cannot touch it).
LRW_DEVICE bool lrw_isnan(float x) { return (__float_as_uint(x) & 0x7fffffffu) > 0x7f800000u; }
LRW_DEVICE int lrw_imin(int a, int b) { return a < b ? a : b; }
LRW_DEVICE int lrw_imax(int a, int b) { return a > b ? a : b; }

// Loads and stores of one element of a float32 or int32 buffer as float / int.
LRW_DEVICE float ld_f(u64 base, int dt, int i) {
  return dt == DT_I32 ? (float)((const int*)base)[i] : ((const float*)base)[i];
}
LRW_DEVICE int ld_i(u64 base, int dt, int i) {
  return dt == DT_I32 ? ((const int*)base)[i] : (int)((const float*)base)[i];
}
// float -> int32 truncates toward zero (as Int32Array stores of Math.trunc), NaN -> 0.
LRW_DEVICE int f2i(float v) { return lrw_isnan(v) ? 0 : (int)v; }
LRW_DEVICE void st_f(u64 base, int dt, int i, float v) {
  if (dt == DT_I32) ((int*)base)[i] = f2i(v);
  else ((float*)base)[i] = v;
}
LRW_DEVICE void st_i(u64 base, int dt, int i, int v) {
  if (dt == DT_I32) ((int*)base)[i] = v;
  else ((float*)base)[i] = (float)v;
}

// Sums over a warp: the butterfly leaves the same value in every lane (float addition is
// commutative, so mirrored pairs round alike): deterministic for a fixed lane layout.
LRW_DEVICE float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(LRW_FULL_MASK, v, o);
  return v;
}
// Max (or min) with NaN propagation: a NaN anywhere wins.
LRW_DEVICE float pick_max(float a, float b) { return (b > a || lrw_isnan(b)) ? b : a; }
LRW_DEVICE float pick_min(float a, float b) { return (b < a || lrw_isnan(b)) ? b : a; }
LRW_DEVICE float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = pick_max(v, __shfl_xor_sync(LRW_FULL_MASK, v, o));
  return v;
}
LRW_DEVICE float warp_min(float v) {
  for (int o = 16; o > 0; o >>= 1) v = pick_min(v, __shfl_xor_sync(LRW_FULL_MASK, v, o));
  return v;
}

// Row reductions for row kernels. LANES = 32: a warp per row (no barrier); LANES = 256: the
// block (256 threads) per row, warps combined through `scratch` (8 floats of shared memory).
// Every thread of the row must call them (no early return before).
template <int LANES>
LRW_DEVICE float row_sum(float v, float* scratch) {
  v = warp_sum(v);
  if (LANES == 32) return v;
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  __syncthreads();
  if (l == 0) scratch[w] = v;
  __syncthreads();
  v = l < LANES / 32 ? scratch[l] : 0.0f;
  return warp_sum(v);
}
template <int LANES>
LRW_DEVICE float row_max(float v, float* scratch) {
  v = warp_max(v);
  if (LANES == 32) return v;
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  __syncthreads();
  if (l == 0) scratch[w] = v;
  __syncthreads();
  v = l < LANES / 32 ? scratch[l] : lrw_neg_inf();
  return warp_max(v);
}
template <int LANES>
LRW_DEVICE float row_min(float v, float* scratch) {
  v = warp_min(v);
  if (LANES == 32) return v;
  const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  __syncthreads();
  if (l == 0) scratch[w] = v;
  __syncthreads();
  v = l < LANES / 32 ? scratch[l] : lrw_pos_inf();
  return warp_min(v);
}

// Position of the row handled by this thread in a row kernel: `row` and `lane`.
#define ROW_SETUP(LANES)                                                   \
  const int lane = LANES == 32 ? (threadIdx.x & 31) : threadIdx.x;        \
  const i64 row = LANES == 32 ? (i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5) \
                              : (i64)blockIdx.x;

// Device-side error flag (codes in src/cuda/kernels.ts): the first error wins.
LRW_DEVICE void flag_error(u64 err, int code, int value, int pos) {
  int* e = (int*)err;
  if (atomicCAS(e, 0, code) == 0) {
    e[1] = value;
    e[2] = pos;
  }
}
