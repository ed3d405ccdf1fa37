// lrw_gemm: a blocked single-precision gemm in C (see lrw_gemm.c), for machines with a C compiler
// but no OpenBLAS. Row-major, the CBLAS contract without the order argument.
#ifndef LRW_GEMM_H
#define LRW_GEMM_H
#include <stdint.h>

/** Which micro-kernel a call runs: the best this CPU has, or the portable one everywhere. */
enum lrw_gemm_isa { LRW_GEMM_BEST = 0, LRW_GEMM_PORTABLE = 1 };

/** The instruction set `LRW_GEMM_BEST` runs on: "avx2-fma" or "portable". */
const char* lrw_gemm_isa_name(void);

/**
 * C[M, N] = alpha op(A)[M, K] op(B)[K, N] + beta C, row-major: op(A) is A stored [M, lda] or,
 * with trans_a, A^T of A stored [K, lda]; likewise B. beta = 0 overwrites C without reading it.
 * Single-threaded; the summation order depends only on (M, N, K) and the kernel, so the same
 * inputs give bit-identical outputs on every call. Returns 0, or -1 when a packing buffer could
 * not be allocated (C is then untouched).
 */
int lrw_sgemm(enum lrw_gemm_isa isa, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
              float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc);
#endif
