// Philox 4x32-10 random numbers: the stream of src/philox.ts bit for bit (uniform), and the
// same Box-Muller formula in float64 (normal). Uniform: element i is word i % 4 of counter
// offset + floor(i / 4) (a thread per counter); normal: counter offset + i, words 0 and 1.
#include "common.cuh"

struct RandomParams {
  u64 out;
  i64 n, outOffset;
  i64 offset;   // first counter
  i64 k0, k1;   // key words
  i64 normal;   // 0 uniform, 1 normal
  i64 dtype;
  double a, b;  // uniform: low, high; normal: mean, std
};

LRW_DEVICE void philox4x32_10(u32 c[4], u32 k0, u32 k1) {
  for (int r = 0; r < 10; r++) {
    const u32 hi0 = __umulhi(0xd2511f53u, c[0]), lo0 = 0xd2511f53u * c[0];
    const u32 hi1 = __umulhi(0xcd9e8d57u, c[2]), lo1 = 0xcd9e8d57u * c[2];
    const u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
}

LRW_DEVICE void store_random(const RandomParams& p, i64 i, double v) {
  if (p.dtype == DT_I32) {
    const double t = v < 0.0 ? -floor(-v) : floor(v);
    ((int*)p.out)[p.outOffset + i] = (int)(i64)t;
  } else {
    ((float*)p.out)[p.outOffset + i] = (float)v;
  }
}

LRW_KERNEL(lrw_random, RandomParams) {
  const i64 n = p.n;
  const i64 counters = p.normal ? n : (n + 3) / 4;
  const double two_neg_24 = 5.9604644775390625e-8;
  for (i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x; t < counters; t += (i64)gridDim.x * blockDim.x) {
    u32 c[4] = {(u32)(u64)(p.offset + t), 0u, 0u, 0u};
    philox4x32_10(c, (u32)p.k0, (u32)p.k1);
    if (p.normal) {
      const double u1 = (double)((c[0] >> 8) + 1u) * two_neg_24;
      const double u2 = (double)(c[1] >> 8) * two_neg_24;
      store_random(p, t, p.a + p.b * sqrt(-2.0 * log(u1)) * cos(2.0 * 3.141592653589793 * u2));
    } else {
      const double span = p.b - p.a;
      for (int j = 0; j < 4; j++) {
        const i64 i = 4 * t + j;
        if (i < n) store_random(p, i, p.a + span * ((double)(c[j] >> 8) * two_neg_24));
      }
    }
  }
}
