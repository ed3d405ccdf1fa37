// lrw_rows: float32 row kernels of a training step in native SIMD, beside the BLAS in the
// lrw_blas addon: the vocabulary head's log-sum-exp and softmax gradient, GELU (tanh form)
// forward and backward, blockwise attention's score-tile steps. Same formulas as the wasm kernels (assembly/exp-kernels.ts), eight
// lanes with FMA instead of four without.
//
// The vector code is compiled for AVX2 + FMA through function target attributes (the addon
// itself is built for the baseline x86-64, no -march=native) and chosen at run time with
// __builtin_cpu_supports: `lrw_rows_available()` is 0 on other CPUs and architectures, and the
// JavaScript side then keeps the wasm kernels (the portable path).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lrw_rows.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LRW_X86 1
#define AVX2 __attribute__((target("avx2,fma")))
#else
#define LRW_X86 0
#endif

const char* lrw_rows_isa(void) {
#if LRW_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2-fma";
#endif
  return "";
}

int lrw_rows_available(void) {
  static int known = -1;
  if (known < 0) known = lrw_rows_isa()[0] != 0;
  return known;
}

#if LRW_X86

// Cephes expf as in the wasm kernels: x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-6
// polynomial (~1 ulp), times 2^n built in the exponent bits; inputs clamped to [-87.3, 88.3]
// so the result is finite and normal; exp(NaN) is NaN.
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

AVX2 static inline __m256 exp8(__m256 x) {
  // x second: maxps/minps return their second operand where either is NaN, so a NaN stays NaN
  // (as wasm's f32x4.min/max propagate it) instead of clamping to a finite value.
  x = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
  __m256 p = _mm256_set1_ps(P0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
  const __m256 e =
      _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i scale = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(e, _mm256_castsi256_ps(scale));
}

// The last n (< 8) lanes of a row: masked loads and stores (lanes past n read as 0, never
// touched in memory).
AVX2 static inline __m256i tail_mask(int64_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lanes);
}

AVX2 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 static inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 static void lse_rows_avx2(const float* logits, int64_t rows, int64_t V, float* out) {
  const int64_t V16 = V & ~(int64_t)15, V8 = V & ~(int64_t)7;
  for (int64_t r = 0; r < rows; r++) {
    const float* x = logits + r * V;
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int64_t i = 0;
    for (; i < V16; i += 16) {
      m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
      m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
    }
    float mx = hmax8(_mm256_max_ps(m0, m1));
    for (; i < V; i++) mx = x[i] > mx ? x[i] : mx;
    const __m256 vm = _mm256_set1_ps(mx);
    double total = 0;
    i = 0;
    // Float32 partial sums over blocks of 512 elements, added up in float64.
    while (i < V16) {
      const int64_t end = i + 512 < V16 ? i + 512 : V16;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0;
      for (; i < end; i += 16) {
        a0 = _mm256_add_ps(a0, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
        a1 = _mm256_add_ps(a1, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm)));
      }
      total += (double)hsum8(_mm256_add_ps(a0, a1));
    }
    if (i < V8) {
      total += (double)hsum8(exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
      i += 8;
    }
    if (i < V) {
      const __m256i k = tail_mask(V - i);
      const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vm));
      total += (double)hsum8(_mm256_and_ps(e, _mm256_castsi256_ps(k)));
    }
    out[r] = (float)((double)mx + log(total));
  }
}

AVX2 static void softmax_grad_rows_avx2(float* logits, int64_t rows, int64_t V, const float* z,
                                        const float* g) {
  const int64_t V8 = V & ~(int64_t)7;
  for (int64_t r = 0; r < rows; r++) {
    float* x = logits + r * V;
    const float gr = g[r];
    if (gr == 0) {
      memset(x, 0, (size_t)V * sizeof(float));
      continue;
    }
    const __m256 vz = _mm256_set1_ps(z[r]), vg = _mm256_set1_ps(gr);
    int64_t i = 0;
    for (; i < V8; i += 8) {
      _mm256_storeu_ps(x + i, _mm256_mul_ps(vg, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vz))));
    }
    if (i < V) {
      const __m256i k = tail_mask(V - i);
      const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vz));
      _mm256_maskstore_ps(x + i, k, _mm256_mul_ps(vg, e));
    }
  }
}

// GELU, tanh form, as in the wasm kernels: y = x s, s = 1 / (1 + e), e = exp(-2u),
// u = c (x + a x^3); gelu'(x) = s + 2 x s (e s) c (1 + 3 a x^2).
#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

AVX2 static inline __m256 gelu_exp8(__m256 v) {
  const __m256 v2 = _mm256_mul_ps(v, v);
  const __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(GELU_A), v2), v, v);
  return exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f * GELU_C), inner));
}

AVX2 static inline __m256 gelu8(__m256 v) {
  return _mm256_div_ps(v, _mm256_add_ps(gelu_exp8(v), _mm256_set1_ps(1.0f)));
}

AVX2 static inline __m256 gelu_grad8(__m256 v) {
  const __m256 e = gelu_exp8(v);
  const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
  const __m256 du = _mm256_mul_ps(
      _mm256_set1_ps(2.0f * GELU_C),
      _mm256_fmadd_ps(_mm256_set1_ps(3.0f * GELU_A), _mm256_mul_ps(v, v), _mm256_set1_ps(1.0f)));
  return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(v, s), _mm256_mul_ps(e, s)), du, s);
}

AVX2 static void gelu_avx2(const float* x, float* y, int64_t n) {
  const int64_t n8 = n & ~(int64_t)7;
  int64_t i = 0;
  for (; i < n8; i += 8) _mm256_storeu_ps(y + i, gelu8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i k = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, k, gelu8(_mm256_maskload_ps(x + i, k)));
  }
}

AVX2 static void gelu_backward_avx2(const float* x, const float* g, float* dx, int64_t n) {
  const int64_t n8 = n & ~(int64_t)7;
  int64_t i = 0;
  for (; i < n8; i += 8) {
    _mm256_storeu_ps(dx + i,
                     _mm256_mul_ps(_mm256_loadu_ps(g + i), gelu_grad8(_mm256_loadu_ps(x + i))));
  }
  if (i < n) {
    const __m256i k = tail_mask(n - i);
    const __m256 d = gelu_grad8(_mm256_maskload_ps(x + i, k));
    _mm256_maskstore_ps(dx + i, k, _mm256_mul_ps(_mm256_maskload_ps(g + i, k), d));
  }
}

// Blockwise attention score tiles (src/cpu/blockwise-attention.ts; the wasm versions are in
// assembly/exp-kernels.ts). S [rows, cols] holds raw scores; row i sees columns c < vis(i) =
// cols, or with causal, clamp(diag + i + 1, 0, cols); masked columns come out 0.
static inline int64_t visible_cols(int64_t i, int64_t cols, int causal, int64_t diag) {
  if (!causal) return cols;
  const int64_t v = diag + i + 1;
  return v < 0 ? 0 : v > cols ? cols : v;
}

AVX2 static inline float exp1(float x) { return _mm256_cvtss_f32(exp8(_mm256_set1_ps(x))); }

AVX2 static void attn_softmax_tile_avx2(float* s, int64_t rows, int64_t cols, float scale,
                                        int causal, int64_t diag, float* m, float* l,
                                        float* alpha) {
  const __m256 vs = _mm256_set1_ps(scale);
  for (int64_t i = 0; i < rows; i++) {
    float* x = s + i * cols;
    const int64_t vis = visible_cols(i, cols, causal, diag);
    if (vis <= 0) {
      memset(x, 0, (size_t)cols * sizeof(float));
      alpha[i] = 1;
      continue;
    }
    const int64_t n8 = vis & ~(int64_t)7;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t c = 0;
    for (; c < n8; c += 8) {
      const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + c), vs);
      _mm256_storeu_ps(x + c, v);
      vmax = _mm256_max_ps(vmax, v);
    }
    float mx = hmax8(vmax);
    for (; c < vis; c++) {
      const float v = x[c] * scale;
      x[c] = v;
      mx = v > mx ? v : mx;
    }
    const float mOld = m[i];
    mx = mOld > mx ? mOld : mx;
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 acc = _mm256_setzero_ps();
    c = 0;
    for (; c < n8; c += 8) {
      const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + c), vm));
      _mm256_storeu_ps(x + c, e);
      acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum8(acc);
    if (c < vis) {
      const __m256i k = tail_mask(vis - c);
      const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + c, k), vm)),
                                      _mm256_castsi256_ps(k));
      _mm256_maskstore_ps(x + c, k, e);
      sum += hsum8(e);
    }
    if (vis < cols) memset(x + vis, 0, (size_t)(cols - vis) * sizeof(float));
    const float a = mOld == -INFINITY ? 0.0f : exp1(mOld - mx);
    l[i] = l[i] * a + sum;
    m[i] = mx;
    alpha[i] = a;
  }
}

AVX2 static void attn_prob_tile_avx2(float* s, int64_t rows, int64_t cols, float scale,
                                     int causal, int64_t diag, const float* lse) {
  const __m256 vs = _mm256_set1_ps(scale);
  for (int64_t i = 0; i < rows; i++) {
    float* x = s + i * cols;
    const int64_t vis = visible_cols(i, cols, causal, diag);
    const __m256 vz = _mm256_set1_ps(lse[i]);
    const int64_t n8 = vis & ~(int64_t)7;
    int64_t c = 0;
    for (; c < n8; c += 8) {
      _mm256_storeu_ps(x + c, exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + c), vs, vz)));
    }
    if (c < vis) {
      const __m256i k = tail_mask(vis - c);
      _mm256_maskstore_ps(x + c, k, exp8(_mm256_fmsub_ps(_mm256_maskload_ps(x + c, k), vs, vz)));
    }
    if (vis < cols && vis >= 0) memset(x + vis, 0, (size_t)(cols - vis) * sizeof(float));
  }
}

AVX2 static void attn_score_grad_tile_avx2(const float* p, float* ds, int64_t rows, int64_t cols,
                                           float scale, const float* d) {
  const __m256 vs = _mm256_set1_ps(scale);
  const int64_t n8 = cols & ~(int64_t)7;
  for (int64_t i = 0; i < rows; i++) {
    const float* pr = p + i * cols;
    float* dr = ds + i * cols;
    const __m256 vd = _mm256_set1_ps(d[i]);
    int64_t c = 0;
    for (; c < n8; c += 8) {
      const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(pr + c), vs),
                                     _mm256_sub_ps(_mm256_loadu_ps(dr + c), vd));
      _mm256_storeu_ps(dr + c, v);
    }
    for (; c < cols; c++) dr[c] = scale * pr[c] * (dr[c] - d[i]);
  }
}

#endif  // LRW_X86

// The dispatchers: callers check lrw_rows_available() first (the JavaScript side offers these
// kernels only then), so the non-SIMD branches are unreachable and return without writing.
int lrw_lse_rows(const float* logits, int64_t rows, int64_t V, float* out) {
#if LRW_X86
  if (lrw_rows_available()) {
    lse_rows_avx2(logits, rows, V, out);
    return 1;
  }
#endif
  (void)logits, (void)rows, (void)V, (void)out;
  return 0;
}

int lrw_softmax_grad_rows(float* logits, int64_t rows, int64_t V, const float* z, const float* g) {
#if LRW_X86
  if (lrw_rows_available()) {
    softmax_grad_rows_avx2(logits, rows, V, z, g);
    return 1;
  }
#endif
  (void)logits, (void)rows, (void)V, (void)z, (void)g;
  return 0;
}

int lrw_gelu(const float* x, float* y, int64_t n) {
#if LRW_X86
  if (lrw_rows_available()) {
    gelu_avx2(x, y, n);
    return 1;
  }
#endif
  (void)x, (void)y, (void)n;
  return 0;
}

int lrw_gelu_backward(const float* x, const float* g, float* dx, int64_t n) {
#if LRW_X86
  if (lrw_rows_available()) {
    gelu_backward_avx2(x, g, dx, n);
    return 1;
  }
#endif
  (void)x, (void)g, (void)dx, (void)n;
  return 0;
}

int lrw_attn_softmax_tile(float* s, int64_t rows, int64_t cols, float scale, int causal,
                          int64_t diag, float* m, float* l, float* alpha) {
#if LRW_X86
  if (lrw_rows_available()) {
    attn_softmax_tile_avx2(s, rows, cols, scale, causal, diag, m, l, alpha);
    return 1;
  }
#endif
  (void)s, (void)rows, (void)cols, (void)scale, (void)causal, (void)diag, (void)m, (void)l,
      (void)alpha;
  return 0;
}

int lrw_attn_prob_tile(float* s, int64_t rows, int64_t cols, float scale, int causal, int64_t diag,
                       const float* lse) {
#if LRW_X86
  if (lrw_rows_available()) {
    attn_prob_tile_avx2(s, rows, cols, scale, causal, diag, lse);
    return 1;
  }
#endif
  (void)s, (void)rows, (void)cols, (void)scale, (void)causal, (void)diag, (void)lse;
  return 0;
}

int lrw_attn_score_grad_tile(const float* p, float* ds, int64_t rows, int64_t cols, float scale,
                             const float* d) {
#if LRW_X86
  if (lrw_rows_available()) {
    attn_score_grad_tile_avx2(p, ds, rows, cols, scale, d);
    return 1;
  }
#endif
  (void)p, (void)ds, (void)rows, (void)cols, (void)scale, (void)d;
  return 0;
}
