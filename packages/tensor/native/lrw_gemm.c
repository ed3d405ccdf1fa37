// lrw_gemm: a blocked float32 gemm for the lrw_blas addon, used where no OpenBLAS loads.
//
// The GotoBLAS/BLIS structure: C is cut into NC-column slabs and K into KC-deep slices; each
// KC x NC block of op(B) is packed once into NR-column micro-panels, each MC x KC block of op(A)
// into MR-row micro-panels, and a register-blocked MR x NR micro-kernel multiplies one A
// micro-panel (L2) by one B micro-panel (L1), accumulating in registers over the KC slice. The
// packing absorbs the transposition flags and leading dimensions, so the kernel sees one layout.
//
// Micro-kernels: 6 x 16 on AVX2 + FMA (12 ymm accumulators), compiled through a per-function
// target attribute and chosen at run time with __builtin_cpu_supports, so the addon runs on
// any x86-64; a portable 6 x 16 kernel in GCC/Clang vector extensions (SSE on x86-64, NEON on
// arm64, scalar elsewhere) everywhere else. Single-threaded. The order of every sum depends only
// on (M, N, K) and the kernel (KC slices in order, k ascending inside a slice), never on
// alignment, timing or the caller's thread: the same inputs give bit-identical outputs.
#include "lrw_gemm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define LRW_GEMM_X86 1
#include <immintrin.h>
#endif

enum {
  MR = 6,     // micro-tile rows (A micro-panel height)
  NR = 16,    // micro-tile columns (B micro-panel width): two 8-float vectors
  KC = 384,   // depth of a packed slice: a B micro-panel is KC x NR x 4 = 24 KiB (L1)
  MC = 48,    // rows of a packed A block (MR multiple): 72 KiB at KC = 384 (L2)
  NC = 2048,  // columns of a packed B block (NR multiple): 3 MiB at KC = 384 (L3)
};
// Chosen on a Zen 3 EPYC (32 KiB L1d, 512 KiB L2) against OpenBLAS 0.3.21 on one thread: KC in
// 192..512, MC in 24..192 and NC in 2048..4096 all land within 0.85-1.05x of it (noise ~10%).

// ---- Packing buffers: one pair per thread, grown on demand, freed when the thread exits. ----

struct workspace {
  float* a;
  size_t a_cap;
  float* b;
  size_t b_cap;
};

static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_key_ok = 0;

static void ws_free(void* p) {
  struct workspace* w = (struct workspace*)p;
  free(w->a);
  free(w->b);
  free(w);
}

static void ws_make_key(void) { ws_key_ok = pthread_key_create(&ws_key, ws_free) == 0; }

static struct workspace* workspace(void) {
  pthread_once(&ws_once, ws_make_key);
  if (!ws_key_ok) return NULL;
  struct workspace* w = (struct workspace*)pthread_getspecific(ws_key);
  if (w == NULL) {
    w = (struct workspace*)calloc(1, sizeof *w);
    if (w == NULL || pthread_setspecific(ws_key, w) != 0) {
      free(w);
      return NULL;
    }
  }
  return w;
}

// A 64-byte aligned buffer of at least n floats in *buf (capacity *cap), or NULL.
static float* reserve(float** buf, size_t* cap, size_t n) {
  if (*cap >= n) return *buf;
  size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
  float* p = (float*)aligned_alloc(64, bytes);
  if (p == NULL) return NULL;
  free(*buf);
  *buf = p;
  *cap = bytes / sizeof(float);
  return p;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// ---- Packing ----

// op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row micro-panels: panel q holds rows q MR.., stored
// k-major (MR values per k), rows past mc zero.
static void pack_a(int ta, const float* A, int64_t lda, int64_t i0, int64_t p0, int64_t mc,
                   int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t mr = min64(MR, mc - ir);
    float* d = dst + ir * kc;
    if (!ta) {  // element (i, k) at A[i lda + k]
      const float* s = A + (i0 + ir) * lda + p0;
      if (mr == MR) {
        for (int64_t k = 0; k < kc; k++) {
          for (int r = 0; r < MR; r++) d[k * MR + r] = s[r * lda + k];
        }
      } else {
        for (int64_t k = 0; k < kc; k++) {
          for (int r = 0; r < MR; r++) d[k * MR + r] = r < mr ? s[r * lda + k] : 0.0f;
        }
      }
    } else {  // element (i, k) at A[k lda + i]: MR contiguous values per k
      const float* s = A + p0 * lda + i0 + ir;
      for (int64_t k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++) d[k * MR + r] = r < mr ? s[k * lda + r] : 0.0f;
      }
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column micro-panels, each k-major (NR values per k),
// columns past nc zero.
static void pack_b(int tb, const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc,
                   int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = min64(NR, nc - jr);
    float* d = dst + jr * kc;
    if (!tb) {  // element (k, j) at B[k ldb + j]: NR contiguous values per k
      const float* s = B + p0 * ldb + j0 + jr;
      for (int64_t k = 0; k < kc; k++) {
        memcpy(d + k * NR, s + k * ldb, (size_t)nr * sizeof(float));
        for (int64_t c = nr; c < NR; c++) d[k * NR + c] = 0.0f;
      }
    } else {  // element (k, j) at B[j ldb + k]: one stream per column
      const float* s = B + (j0 + jr) * ldb + p0;
      for (int64_t c = 0; c < NR; c++) {
        if (c < nr) {
          const float* col = s + c * ldb;
          for (int64_t k = 0; k < kc; k++) d[k * NR + c] = col[k];
        } else {
          for (int64_t k = 0; k < kc; k++) d[k * NR + c] = 0.0f;
        }
      }
    }
  }
}

// ---- Micro-kernels: C tile (mr x nr of MR x NR) = alpha acc + beta C; beta 0 never reads C. ----

// A is read at a[r rs + k cs]: a packed micro-panel (rs 1, cs MR) or, for an op(A) stored
// row-major, A itself (rs lda, cs 1: six row streams, no packing). Rows r >= mr are read from row
// mr - 1 and discarded, so an unpacked edge strip never reads past A.
typedef void (*kernel_fn)(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b,
                          float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta);

static inline const float* a_row(const float* a, int64_t rs, int64_t r, int64_t mr) {
  return a + (r < mr ? r : mr - 1) * rs;
}

// An edge tile is computed on a full MR x NR copy of C's visible part, so edges use exactly
// the interior's arithmetic.
static void load_edge(const float* c, int64_t ldc, int64_t mr, int64_t nr, float beta,
                      float* tile) {
  memset(tile, 0, MR * NR * sizeof(float));
  if (beta == 0.0f) return;
  for (int64_t r = 0; r < mr; r++) memcpy(tile + r * NR, c + r * ldc, (size_t)nr * sizeof(float));
}

static void store_edge(float* c, int64_t ldc, int64_t mr, int64_t nr, const float* tile) {
  for (int64_t r = 0; r < mr; r++) memcpy(c + r * ldc, tile + r * NR, (size_t)nr * sizeof(float));
}

#ifdef LRW_GEMM_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline void store_row_avx2(float* c, __m256 acc0, __m256 acc1, __m256 va, float beta) {
  if (beta == 0.0f) {
    _mm256_storeu_ps(c, _mm256_mul_ps(va, acc0));
    _mm256_storeu_ps(c + 8, _mm256_mul_ps(va, acc1));
  } else if (beta == 1.0f) {
    _mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc0, _mm256_loadu_ps(c)));
    _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(va, acc1, _mm256_loadu_ps(c + 8)));
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    _mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc0, _mm256_mul_ps(vb, _mm256_loadu_ps(c))));
    _mm256_storeu_ps(c + 8,
                     _mm256_fmadd_ps(va, acc1, _mm256_mul_ps(vb, _mm256_loadu_ps(c + 8))));
  }
}

AVX2 static void kernel_avx2(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b,
                             float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha,
                             float beta) {
  const float* a0 = a_row(a, rs, 0, mr);
  const float* a1 = a_row(a, rs, 1, mr);
  const float* a2 = a_row(a, rs, 2, mr);
  const float* a3 = a_row(a, rs, 3, mr);
  const float* a4 = a_row(a, rs, 4, mr);
  const float* a5 = a_row(a, rs, 5, mr);
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t k = 0, ka = 0; k < kc; k++, ka += cs) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a0 + ka);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a1 + ka);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a2 + ka);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a3 + ka);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a4 + ka);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a5 + ka);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
    b += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  float tile[MR * NR] __attribute__((aligned(32)));
  const int full = mr == MR && nr == NR;
  float* t = c;
  int64_t ld = ldc;
  if (!full) {
    load_edge(c, ldc, mr, nr, beta, tile);
    t = tile;
    ld = NR;
  }
  store_row_avx2(t, c00, c01, va, beta);
  store_row_avx2(t + ld, c10, c11, va, beta);
  store_row_avx2(t + 2 * ld, c20, c21, va, beta);
  store_row_avx2(t + 3 * ld, c30, c31, va, beta);
  store_row_avx2(t + 4 * ld, c40, c41, va, beta);
  store_row_avx2(t + 5 * ld, c50, c51, va, beta);
  if (!full) store_edge(c, ldc, mr, nr, tile);
}

// pack_b for B^T (element (k, j) at B[j ldb + k]) with 8 x 8 register transposes: full
// 16-column panels, k in steps of 8; the rest through pack_b.
AVX2 static void pack_bt_avx2(const float* B, int64_t ldb, int64_t p0, int64_t j0, int64_t kc,
                              int64_t nc, float* dst) {
  const int64_t full = nc / NR * NR;
  const int64_t k8 = kc / 8 * 8;
  for (int64_t jr = 0; jr < full; jr += NR) {
    float* d = dst + jr * kc;
    for (int h = 0; h < NR; h += 8) {
      const float* s = B + (j0 + jr + h) * ldb + p0;
      for (int64_t k = 0; k < k8; k += 8) {
        __m256 r0 = _mm256_loadu_ps(s + k), r1 = _mm256_loadu_ps(s + ldb + k);
        __m256 r2 = _mm256_loadu_ps(s + 2 * ldb + k), r3 = _mm256_loadu_ps(s + 3 * ldb + k);
        __m256 r4 = _mm256_loadu_ps(s + 4 * ldb + k), r5 = _mm256_loadu_ps(s + 5 * ldb + k);
        __m256 r6 = _mm256_loadu_ps(s + 6 * ldb + k), r7 = _mm256_loadu_ps(s + 7 * ldb + k);
        const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float* o = d + k * NR + h;
        _mm256_store_ps(o + 0 * NR, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_store_ps(o + 1 * NR, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_store_ps(o + 2 * NR, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_store_ps(o + 3 * NR, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_store_ps(o + 4 * NR, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_store_ps(o + 5 * NR, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_store_ps(o + 6 * NR, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_store_ps(o + 7 * NR, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
      for (int64_t c = 0; c < 8; c++) {
        for (int64_t k = k8; k < kc; k++) d[k * NR + h + c] = s[c * ldb + k];
      }
    }
  }
  if (full < nc) pack_b(1, B, ldb, p0, j0 + full, kc, nc - full, dst + full * kc);
}

static int cpu_has_avx2_fma(void) {
  static int cached = -1;  // a benign race: every thread computes the same value
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return cached;
}
#else
static int cpu_has_avx2_fma(void) { return 0; }
#endif

// Portable: 4-float vectors (GCC/Clang vector extensions), the 16 columns in two halves of 8 so
// the 12 accumulators fit 16 SSE registers.
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float* p) {
  v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store4(float* p, v4f v) { memcpy(p, &v, sizeof v); }

static void kernel_portable(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* b,
                            float* c, int64_t ldc, int64_t mr, int64_t nr, float alpha,
                            float beta) {
  const float* rows[MR];
  for (int r = 0; r < MR; r++) rows[r] = a_row(a, rs, r, mr);
  float tile[MR * NR];
  const int full = mr == MR && nr == NR;
  float* t = c;
  int64_t ld = ldc;
  if (!full) {
    load_edge(c, ldc, mr, nr, beta, tile);
    t = tile;
    ld = NR;
  }
  for (int h = 0; h < NR; h += 8) {
    v4f acc[MR][2];
    memset(acc, 0, sizeof acc);
    const float* bp = b + h;
    for (int64_t k = 0, ka = 0; k < kc; k++, ka += cs) {
      const v4f b0 = load4(bp), b1 = load4(bp + 4);
      for (int r = 0; r < MR; r++) {
        const float x = rows[r][ka];
        const v4f ar = {x, x, x, x};
        acc[r][0] += ar * b0;
        acc[r][1] += ar * b1;
      }
      bp += NR;
    }
    const v4f va = {alpha, alpha, alpha, alpha};
    const v4f vb = {beta, beta, beta, beta};
    for (int r = 0; r < MR; r++) {
      float* row = t + r * ld + h;
      for (int q = 0; q < 2; q++) {
        v4f out = va * acc[r][q];
        if (beta != 0.0f) out += beta == 1.0f ? load4(row + 4 * q) : vb * load4(row + 4 * q);
        store4(row + 4 * q, out);
      }
    }
  }
  if (!full) store_edge(c, ldc, mr, nr, tile);
}

const char* lrw_gemm_isa_name(void) { return cpu_has_avx2_fma() ? "avx2-fma" : "portable"; }

// ---- The blocked product ----

int lrw_sgemm(enum lrw_gemm_isa isa, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
              float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return 0;
  if (K <= 0 || alpha == 0.0f) {  // no product: C = beta C (beta 0 overwrites NaN too)
    for (int64_t i = 0; i < M; i++) {
      float* row = C + i * ldc;
      for (int64_t j = 0; j < N; j++) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return 0;
  }
  const int avx2 = isa == LRW_GEMM_BEST && cpu_has_avx2_fma();
  kernel_fn kernel = kernel_portable;
#ifdef LRW_GEMM_X86
  if (avx2) kernel = kernel_avx2;
#endif
  // op(A) stored row-major (no trans_a) is read in place: six row streams of one strip are as
  // cache-friendly as a packed micro-panel, and skipping the (scalar, gathering) pack matters
  // for narrow products (attention's [T, T] x [T, head dim]). A^T's k steps are lda apart (a
  // cache line each): read in place only while a strip's K is short (measured: faster up to
  // K ~ 256, slower for long K), else packed.
  // The portable kernel (4-lane vectors, no FMA) runs faster on packed A everywhere.
  const int pack_a_needed = !avx2 || (trans_a && K > 256);
  const int64_t rs_a = pack_a_needed ? 1 : trans_a ? 1 : lda;
  const int64_t cs_a = pack_a_needed ? MR : trans_a ? lda : 1;
  struct workspace* w = workspace();
  if (w == NULL) return -1;
  const int64_t kc_max = min64(K, KC);
  float* pa =
      pack_a_needed ? reserve(&w->a, &w->a_cap, (size_t)(round_up(min64(M, MC), MR) * kc_max))
                    : NULL;
  float* pb = reserve(&w->b, &w->b_cap, (size_t)(kc_max * round_up(min64(N, NC), NR)));
  if ((pack_a_needed && pa == NULL) || pb == NULL) return -1;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = min64(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = min64(KC, K - pc);
      const float beta_here = pc == 0 ? beta : 1.0f;  // later slices accumulate
#ifdef LRW_GEMM_X86
      if (avx2 && trans_b)
        pack_bt_avx2(B, ldb, pc, jc, kc, nc, pb);
      else
#endif
        pack_b(trans_b, B, ldb, pc, jc, kc, nc, pb);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = min64(MC, M - ic);
        if (pack_a_needed) pack_a(trans_a, A, lda, ic, pc, mc, kc, pa);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = min64(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const float* a = pack_a_needed ? pa + ir * kc
                             : trans_a     ? A + pc * lda + ic + ir
                                           : A + (ic + ir) * lda + pc;
            kernel(kc, a, rs_a, cs_a, pb + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc,
                   min64(MR, mc - ir), nr, alpha, beta_here);
          }
        }
      }
    }
  }
  return 0;
}
