// Strided elementwise kernels: unary, binary, where, copy/cast, fill, arange. Operands are
// views (element offset + strides per axis, stride 0 = broadcast) of float32 or int32 buffers;
// the host merges axes that are contiguous for every operand first (src/cuda/kernels.ts), so a
// contiguous op arrives with rank 1 and the index loop below does no division at all.
#include "common.cuh"

#define EW_MAX_RANK 8
#define EW_MAX_OPS 4

struct EwParams {
  u64 ptr[EW_MAX_OPS];              // operand 0 is the output
  i64 n;                            // elements of the output
  i64 rank;                         // merged rank, 1..EW_MAX_RANK
  i64 shape[EW_MAX_RANK];
  i64 stride[EW_MAX_OPS][EW_MAX_RANK];
  i64 offset[EW_MAX_OPS];
  i64 dtype[EW_MAX_OPS];
  i64 op;                           // index into UNARY_KERNELS / BINARY_KERNELS
  double scalar[2];                 // fill value; arange start, step
};

// Element offsets of linear output index i for operands 0..NOPS-1. The loops are unrolled over
// the maximum rank so every struct field is addressed with a constant (no local-memory copy).
template <int NOPS>
LRW_DEVICE void ew_offsets(const EwParams& p, u32 i, int* off) {
  const int rank = (int)p.rank;
#pragma unroll
  for (int k = 0; k < NOPS; k++) off[k] = (int)p.offset[k];
  u32 r = i;
#pragma unroll
  for (int d = EW_MAX_RANK - 1; d >= 1; d--) {
    if (d < rank) {
      const u32 s = (u32)p.shape[d];
      const u32 c = r % s;
      r /= s;
#pragma unroll
      for (int k = 0; k < NOPS; k++) off[k] += (int)c * (int)p.stride[k][d];
    }
  }
#pragma unroll
  for (int k = 0; k < NOPS; k++) off[k] += (int)r * (int)p.stride[k][0];
}

#define EW_LOOP for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < (u32)p.n; i += gridDim.x * blockDim.x)

// ---- unary ---------------------------------------------------------------------------------
// Op order: neg exp log sqrt recip tanh sin cos abs sign (UNARY_KERNELS in src/backend.ts).
LRW_DEVICE float unary_f(int op, float x) {
  switch (op) {
    case 0: return -x;
    case 1: return expf(x);
    case 2: return logf(x);
    case 3: return sqrtf(x);
    case 4: return 1.0f / x;
    case 5: return tanhf(x);
    case 6: return sinf(x);
    case 7: return cosf(x);
    case 8: return fabsf(x);
    default: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;  // keeps -0 and NaN (Math.sign)
  }
}

LRW_KERNEL(lrw_unary, EwParams) {
  const int op = (int)p.op, dto = (int)p.dtype[0], dti = (int)p.dtype[1];
  EW_LOOP {
    int off[2];
    ew_offsets<2>(p, i, off);
    if (dti == DT_I32 && (op == 0 || op == 8 || op == 9)) {
      const int x = ((const int*)p.ptr[1])[off[1]];
      // Two's-complement wrap (as ToInt32 of the JavaScript result) without signed overflow.
      const int y = op == 0 ? (int)(0u - (u32)x) : op == 8 ? (x < 0 ? (int)(0u - (u32)x) : x)
                                                          : (x > 0) - (x < 0);
      st_i(p.ptr[0], dto, off[0], y);
    } else {
      st_f(p.ptr[0], dto, off[0], unary_f(op, ld_f(p.ptr[1], dti, off[1])));
    }
  }
}

// ---- binary --------------------------------------------------------------------------------
// Op order: add sub mul div maximum minimum pow lt le gt ge eq ne (BINARY_KERNELS).
LRW_DEVICE float pow_js(float x, float y) {
  // JavaScript's ** where C's powf differs: 1 ** NaN, (+-1) ** +-Infinity are NaN there.
  if (y == 0.0f) return 1.0f;
  if (lrw_isnan(y)) return lrw_nan();
  if (fabsf(x) == 1.0f && fabsf(y) == lrw_pos_inf()) return lrw_nan();
  return powf(x, y);
}

LRW_DEVICE float binary_f(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return (a >= b || lrw_isnan(a)) ? a : b;
    case 5: return (a <= b || lrw_isnan(a)) ? a : b;
    case 6: return pow_js(a, b);
    case 7: return a < b ? 1.0f : 0.0f;
    case 8: return a <= b ? 1.0f : 0.0f;
    case 9: return a > b ? 1.0f : 0.0f;
    case 10: return a >= b ? 1.0f : 0.0f;
    case 11: return a == b ? 1.0f : 0.0f;
    default: return a != b ? 1.0f : 0.0f;
  }
}

LRW_DEVICE int binary_i(int op, int a, int b) {
  switch (op) {
    case 0: return (int)((u32)a + (u32)b);
    case 1: return (int)((u32)a - (u32)b);
    case 2: return (int)((u32)a * (u32)b);
    case 3:  // truncating division; x / 0 -> 0 (ToInt32 of +-Infinity or NaN)
      if (b == 0) return 0;
      if (b == -1) return (int)(0u - (u32)a);
      return a / b;
    case 4: return a > b ? a : b;
    case 5: return a < b ? a : b;
    case 7: return a < b;
    case 8: return a <= b;
    case 9: return a > b;
    case 10: return a >= b;
    case 11: return a == b;
    default: return a != b;
  }
}

LRW_KERNEL(lrw_binary, EwParams) {
  const int op = (int)p.op, dto = (int)p.dtype[0];
  const bool ints = p.dtype[1] == DT_I32 && p.dtype[2] == DT_I32 && op != 6;
  EW_LOOP {
    int off[3];
    ew_offsets<3>(p, i, off);
    if (ints) {
      const int a = ((const int*)p.ptr[1])[off[1]], b = ((const int*)p.ptr[2])[off[2]];
      st_i(p.ptr[0], dto, off[0], binary_i(op, a, b));
    } else {
      const float a = ld_f(p.ptr[1], (int)p.dtype[1], off[1]);
      const float b = ld_f(p.ptr[2], (int)p.dtype[2], off[2]);
      st_f(p.ptr[0], dto, off[0], binary_f(op, a, b));
    }
  }
}

// ---- where, copy / cast --------------------------------------------------------------------
LRW_KERNEL(lrw_where, EwParams) {
  const int dto = (int)p.dtype[0];
  EW_LOOP {
    int off[4];
    ew_offsets<4>(p, i, off);
    const bool c = p.dtype[1] == DT_I32 ? ((const int*)p.ptr[1])[off[1]] != 0
                                        : ((const float*)p.ptr[1])[off[1]] != 0.0f;
    const int k = c ? 2 : 3;
    const u64 src = c ? p.ptr[2] : p.ptr[3];
    const int dts = (int)(c ? p.dtype[2] : p.dtype[3]);
    if (dts == dto) ((u32*)p.ptr[0])[off[0]] = ((const u32*)src)[off[k]];
    else if (dto == DT_I32) st_i(p.ptr[0], dto, off[0], ld_i(src, dts, off[k]));
    else st_f(p.ptr[0], dto, off[0], ld_f(src, dts, off[k]));
  }
}

// Same dtype: the 32-bit words as they are; float -> int32 truncates toward zero.
LRW_KERNEL(lrw_copy, EwParams) {
  const int dto = (int)p.dtype[0], dti = (int)p.dtype[1];
  EW_LOOP {
    int off[2];
    ew_offsets<2>(p, i, off);
    if (dto == dti) ((u32*)p.ptr[0])[off[0]] = ((const u32*)p.ptr[1])[off[1]];
    else if (dto == DT_I32) st_i(p.ptr[0], dto, off[0], ld_i(p.ptr[1], dti, off[1]));
    else st_f(p.ptr[0], dto, off[0], ld_f(p.ptr[1], dti, off[1]));
  }
}

// ---- fill, arange --------------------------------------------------------------------------
// ToInt32 of a double: truncate, wrap modulo 2^32; NaN and infinities give 0.
LRW_DEVICE int to_int32(double v) {
  if (!(v == v) || v - v != 0.0) return 0;
  const double t = v < 0.0 ? -floor(-v) : floor(v);
  const double m = t - 4294967296.0 * floor(t / 4294967296.0);
  return (int)(u32)(u64)m;
}

LRW_KERNEL(lrw_fill, EwParams) {
  const int dto = (int)p.dtype[0];
  const float vf = (float)p.scalar[0];
  const int vi = to_int32(p.scalar[0]);
  EW_LOOP {
    int off[1];
    ew_offsets<1>(p, i, off);
    if (dto == DT_I32) ((int*)p.ptr[0])[off[0]] = vi;
    else ((float*)p.ptr[0])[off[0]] = vf;
  }
}

// out[i] = start + i * step in float64 (as the CPU), rounded to the output dtype.
LRW_KERNEL(lrw_arange, EwParams) {
  const int dto = (int)p.dtype[0];
  EW_LOOP {
    int off[1];
    ew_offsets<1>(p, i, off);
    const double v = p.scalar[0] + (double)i * p.scalar[1];
    if (dto == DT_I32) ((int*)p.ptr[0])[off[0]] = to_int32(v);
    else ((float*)p.ptr[0])[off[0]] = (float)v;
  }
}
