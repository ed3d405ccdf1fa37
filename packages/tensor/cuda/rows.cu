// Row kernels of the fused routines: softmax / log-softmax along any axis, per-token
// cross-entropy (forward and backward, the vocabulary head's per-chunk pass too), layer / RMS
// normalization (forward, dx, and the weight/bias gradients as a deterministic two-stage
// column sum), and the scaled, masked softmax of materialized attention. Each row kernel comes
// as `_w` (a warp per row, rows below 1024 elements) and `_b` (the block, 256 threads, per row).
#include "common.cuh"

// ---- softmax / log-softmax: row r of x viewed as [outer, L, inner] ----------------------------
struct SoftmaxParams {
  u64 in0, in1, out;  // forward: x, -, y; backward: y, g, dx
  i64 rows, L, inner, off0, off1, offOut;
  i64 log;
};

template <int LANES>
LRW_DEVICE void softmax_fwd(const SoftmaxParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int L = (int)p.L, inner = (int)p.inner;
  const i64 o = row / inner;
  const i64 base = o * L * inner + (row - o * inner);
  const float* x = (const float*)p.in0 + p.off0 + base;
  float* y = (float*)p.out + p.offOut + base;
  float m = lrw_neg_inf();
  for (int j = lane; j < L; j += LANES) m = pick_max(m, x[(i64)j * inner]);
  m = row_max<LANES>(m, scratch);
  float s = 0.0f;
  for (int j = lane; j < L; j += LANES) s += expf(x[(i64)j * inner] - m);
  s = row_sum<LANES>(s, scratch);
  const float ls = m + logf(s), inv = 1.0f / s;
  for (int j = lane; j < L; j += LANES) {
    const float v = x[(i64)j * inner];
    y[(i64)j * inner] = p.log ? v - ls : expf(v - m) * inv;
  }
}

// softmax: dx = y (g - sum(g y)); log-softmax: dx = g - exp(y) sum(g).
template <int LANES>
LRW_DEVICE void softmax_bwd(const SoftmaxParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int L = (int)p.L, inner = (int)p.inner;
  const i64 o = row / inner;
  const i64 base = o * L * inner + (row - o * inner);
  const float* y = (const float*)p.in0 + p.off0 + base;
  const float* g = (const float*)p.in1 + p.off1 + base;
  float* dx = (float*)p.out + p.offOut + base;
  float s = 0.0f;
  for (int j = lane; j < L; j += LANES) {
    const i64 k = (i64)j * inner;
    s += p.log ? g[k] : g[k] * y[k];
  }
  s = row_sum<LANES>(s, scratch);
  for (int j = lane; j < L; j += LANES) {
    const i64 k = (i64)j * inner;
    dx[k] = p.log ? g[k] - expf(y[k]) * s : y[k] * (g[k] - s);
  }
}

LRW_KERNEL(lrw_softmax_fwd_w, SoftmaxParams) { softmax_fwd<32>(p); }
LRW_KERNEL(lrw_softmax_fwd_b, SoftmaxParams) { softmax_fwd<256>(p); }
LRW_KERNEL(lrw_softmax_bwd_w, SoftmaxParams) { softmax_bwd<32>(p); }
LRW_KERNEL(lrw_softmax_bwd_b, SoftmaxParams) { softmax_bwd<256>(p); }

// ---- cross-entropy per token ----------------------------------------------------------------
struct CeParams {
  u64 logits, targets, loss, lse, mask, g, dlogits, err;
  i64 rows, V;
  i64 logitsOff, targetsOff, lossOff, lseOff, maskOff, gOff, dlogitsOff;
  i64 ignoreIndex, hasMask, maskDtype;
};

// Whether token `row` counts: target != ignoreIndex and (no mask or mask != 0).
LRW_DEVICE bool ce_active(const CeParams& p, i64 row, int t) {
  if (t == (int)p.ignoreIndex) return false;
  return !p.hasMask || ld_f(p.mask, (int)p.maskDtype, (int)(p.maskOff + row)) != 0.0f;
}

// loss = lse - logits[t] at active rows (0 elsewhere); lse = log-sum-exp of the row.
template <int LANES>
LRW_DEVICE void ce_fwd(const CeParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int V = (int)p.V;
  const float* x = (const float*)p.logits + p.logitsOff + row * V;
  float m = lrw_neg_inf();
  for (int j = lane; j < V; j += LANES) m = pick_max(m, x[j]);
  m = row_max<LANES>(m, scratch);
  float s = 0.0f;
  for (int j = lane; j < V; j += LANES) s += expf(x[j] - m);
  s = row_sum<LANES>(s, scratch);
  if (lane == 0) {
    const float ls = m + logf(s);
    const int t = ((const int*)p.targets)[p.targetsOff + row];
    float l = 0.0f;
    if (ce_active(p, row, t)) {
      if (t < 0 || t >= V) flag_error(p.err, 3, t, (int)row);
      else l = ls - x[t];
    }
    ((float*)p.loss)[p.lossOff + row] = l;
    ((float*)p.lse)[p.lseOff + row] = ls;
  }
}

// dlogits = g (softmax - onehot(t)) at active rows, else 0; dlogits may be the logits buffer.
template <int LANES>
LRW_DEVICE void ce_bwd(const CeParams& p) {
  ROW_SETUP(LANES)
  if (row >= p.rows) return;
  const int V = (int)p.V;
  const float* x = (const float*)p.logits + p.logitsOff + row * V;
  float* dl = (float*)p.dlogits + p.dlogitsOff + row * V;
  const int t = ((const int*)p.targets)[p.targetsOff + row];
  const float gv = ce_active(p, row, t) ? ((const float*)p.g)[p.gOff + row] : 0.0f;
  const float ls = ((const float*)p.lse)[p.lseOff + row];
  for (int j = lane; j < V; j += LANES) dl[j] = gv * (expf(x[j] - ls) - (j == t ? 1.0f : 0.0f));
}

LRW_KERNEL(lrw_ce_fwd_w, CeParams) { ce_fwd<32>(p); }
LRW_KERNEL(lrw_ce_fwd_b, CeParams) { ce_fwd<256>(p); }
LRW_KERNEL(lrw_ce_bwd_w, CeParams) { ce_bwd<32>(p); }
LRW_KERNEL(lrw_ce_bwd_b, CeParams) { ce_bwd<256>(p); }

// ---- layer / RMS normalization over the last axis ---------------------------------------------
struct NormParams {
  u64 x, y, stats, w, b, g, dx;
  i64 rows, C;
  i64 xOff, yOff, statsOff, wOff, bOff, gOff, dxOff;
  i64 hasW, hasB, rms;
  double eps;
};

// y = (x - mean) rstd [* w] [+ b]; stats[row] = (mean, rstd) (mean 0 for RMSNorm).
template <int LANES>
LRW_DEVICE void norm_fwd(const NormParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int C = (int)p.C;
  const float* x = (const float*)p.x + p.xOff + row * C;
  float part = 0.0f;
  if (!p.rms)
    for (int j = lane; j < C; j += LANES) part += x[j];
  const float mean = p.rms ? 0.0f : row_sum<LANES>(part, scratch) / (float)C;
  float part2 = 0.0f;
  for (int j = lane; j < C; j += LANES) {
    const float d = x[j] - mean;
    part2 += d * d;
  }
  const float rstd = 1.0f / sqrtf(row_sum<LANES>(part2, scratch) / (float)C + (float)p.eps);
  if (lane == 0) {
    ((float*)p.stats)[p.statsOff + 2 * row] = mean;
    ((float*)p.stats)[p.statsOff + 2 * row + 1] = rstd;
  }
  const float* w = (const float*)p.w + p.wOff;
  const float* b = (const float*)p.b + p.bOff;
  float* y = (float*)p.y + p.yOff + row * C;
  for (int j = lane; j < C; j += LANES) {
    float v = (x[j] - mean) * rstd;
    if (p.hasW) v *= w[j];
    if (p.hasB) v += b[j];
    y[j] = v;
  }
}

// dx = rstd (d - mean(d) - xhat mean(d xhat)), d = g [* w] (mean(d) taken as 0 for RMSNorm).
template <int LANES>
LRW_DEVICE void norm_dx(const NormParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int C = (int)p.C;
  const float* x = (const float*)p.x + p.xOff + row * C;
  const float* g = (const float*)p.g + p.gOff + row * C;
  const float* w = (const float*)p.w + p.wOff;
  const float mean = ((const float*)p.stats)[p.statsOff + 2 * row];
  const float rstd = ((const float*)p.stats)[p.statsOff + 2 * row + 1];
  float sumD = 0.0f, sumDX = 0.0f;
  for (int j = lane; j < C; j += LANES) {
    const float xh = (x[j] - mean) * rstd;
    const float d = p.hasW ? g[j] * w[j] : g[j];
    sumD += d;
    sumDX += d * xh;
  }
  const float mD = p.rms ? 0.0f : row_sum<LANES>(sumD, scratch) / (float)C;
  const float mDX = row_sum<LANES>(sumDX, scratch) / (float)C;
  float* dx = (float*)p.dx + p.dxOff + row * C;
  for (int j = lane; j < C; j += LANES) {
    const float xh = (x[j] - mean) * rstd;
    const float d = p.hasW ? g[j] * w[j] : g[j];
    dx[j] = rstd * (d - mD - xh * mDX);
  }
}

LRW_KERNEL(lrw_norm_fwd_w, NormParams) { norm_fwd<32>(p); }
LRW_KERNEL(lrw_norm_fwd_b, NormParams) { norm_fwd<256>(p); }
LRW_KERNEL(lrw_norm_dx_w, NormParams) { norm_dx<32>(p); }
LRW_KERNEL(lrw_norm_dx_b, NormParams) { norm_dx<256>(p); }

// dw = sum over rows of g xhat, db = sum of g: stage 1 sums chunks of `chunkRows` rows per
// (chunk, column) into partial[2][chunks][C]; stage 2 adds the chunks of each column in order.
struct NormGradParams {
  u64 x, g, stats, partial, dw, db;
  i64 rows, C, xOff, gOff, statsOff;
  i64 chunkRows, chunks;
  i64 hasDw, hasDb;
};

LRW_KERNEL(lrw_norm_wgrad_partial, NormGradParams) {
  const int C = (int)p.C;
  const u32 n = (u32)p.chunks * (u32)C;
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int chunk = (int)(i / (u32)C), j = (int)(i - (u32)chunk * (u32)C);
    const i64 r0 = (i64)chunk * p.chunkRows;
    const i64 r1 = r0 + p.chunkRows < p.rows ? r0 + p.chunkRows : p.rows;
    float sw = 0.0f, sb = 0.0f;
    for (i64 r = r0; r < r1; r++) {
      const float gv = ((const float*)p.g)[p.gOff + r * C + j];
      const float* st = (const float*)p.stats + p.statsOff + 2 * r;
      sw += gv * ((((const float*)p.x)[p.xOff + r * C + j] - st[0]) * st[1]);
      sb += gv;
    }
    ((float*)p.partial)[i] = sw;
    ((float*)p.partial)[n + i] = sb;
  }
}

LRW_KERNEL(lrw_norm_wgrad_final, NormGradParams) {
  const int C = (int)p.C, chunks = (int)p.chunks;
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= C) return;
  const float* part = (const float*)p.partial;
  const i64 n = (i64)chunks * C;
  float sw = 0.0f, sb = 0.0f;
  for (int c = 0; c < chunks; c++) {
    sw += part[(i64)c * C + j];
    sb += part[n + (i64)c * C + j];
  }
  if (p.hasDw) ((float*)p.dw)[j] = sw;
  if (p.hasDb) ((float*)p.db)[j] = sb;
}

// ---- materialized attention: the scaled, masked softmax of the scores, in place -----------------
struct AttnRowParams {
  u64 s, p;  // forward: scores (in place); backward: dS (in place) and P
  i64 rows, S, T, causal;
  double scale;
};

// Key j is visible to query i when j <= i (top-left aligned): masked entries become 0.
template <int LANES>
LRW_DEVICE void attn_softmax(const AttnRowParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int S = (int)p.S;
  const int n = p.causal ? lrw_imin(S, (int)(row % p.T) + 1) : S;
  const float scale = (float)p.scale;
  float* x = (float*)p.s + row * S;
  float m = lrw_neg_inf();
  for (int j = lane; j < n; j += LANES) m = pick_max(m, x[j] * scale);
  m = row_max<LANES>(m, scratch);
  float s = 0.0f;
  for (int j = lane; j < n; j += LANES) s += expf(x[j] * scale - m);
  s = row_sum<LANES>(s, scratch);
  const float inv = 1.0f / s;
  for (int j = lane; j < S; j += LANES) x[j] = j < n ? expf(x[j] * scale - m) * inv : 0.0f;
}

// dS = scale P (dP - rowsum(dP P)), in place over dP.
template <int LANES>
LRW_DEVICE void attn_softmax_bwd(const AttnRowParams& p) {
  __shared__ float scratch[8];
  ROW_SETUP(LANES)
  if (LANES == 32 && row >= p.rows) return;
  const int S = (int)p.S;
  float* ds = (float*)p.s + row * S;
  const float* pr = (const float*)p.p + row * S;
  float dot = 0.0f;
  for (int j = lane; j < S; j += LANES) dot += ds[j] * pr[j];
  dot = row_sum<LANES>(dot, scratch);
  const float scale = (float)p.scale;
  for (int j = lane; j < S; j += LANES) ds[j] = scale * pr[j] * (ds[j] - dot);
}

LRW_KERNEL(lrw_attn_softmax_w, AttnRowParams) { attn_softmax<32>(p); }
LRW_KERNEL(lrw_attn_softmax_b, AttnRowParams) { attn_softmax<256>(p); }
LRW_KERNEL(lrw_attn_softmax_bwd_w, AttnRowParams) { attn_softmax_bwd<32>(p); }
LRW_KERNEL(lrw_attn_softmax_bwd_b, AttnRowParams) { attn_softmax_bwd<256>(p); }
