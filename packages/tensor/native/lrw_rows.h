// Row kernels of lrw_rows.c (see there). Each returns 1 when it ran, 0 where this CPU lacks the
// SIMD they are built for (lrw_rows_available() == 0; nothing is written then).
#ifndef LRW_ROWS_H
#define LRW_ROWS_H
#include <stdint.h>

/** The instruction set the kernels run on ("avx2-fma"), "" where none. */
const char* lrw_rows_isa(void);
int lrw_rows_available(void);
/** out[r] = log(sum_v exp(logits[r, v])), rows of V floats. */
int lrw_lse_rows(const float* logits, int64_t rows, int64_t V, float* out);
/** In place: logits[r, v] = g[r] exp(logits[r, v] - z[r]); rows with g[r] = 0 become 0. */
int lrw_softmax_grad_rows(float* logits, int64_t rows, int64_t V, const float* z, const float* g);
/** y = gelu(x) (tanh form), n floats. */
int lrw_gelu(const float* x, float* y, int64_t n);
/** dx = g gelu'(x), n floats. */
int lrw_gelu_backward(const float* x, const float* g, float* dx, int64_t n);
/** Blockwise attention's online-softmax step on a score tile (see lrw_rows.c). */
int lrw_attn_softmax_tile(float* s, int64_t rows, int64_t cols, float scale, int causal,
                          int64_t diag, float* m, float* l, float* alpha);
/** S = exp(scale S - lse[i]) on the visible columns, else 0. */
int lrw_attn_prob_tile(float* s, int64_t rows, int64_t cols, float scale, int causal, int64_t diag,
                       const float* lse);
/** dS = scale P (dS - d[i]) in place. */
int lrw_attn_score_grad_tile(const float* p, float* ds, int64_t rows, int64_t cols, float scale,
                             const float* d);
#endif
