// Blockwise (FlashAttention-style) scaled dot-product attention in float32: the [T, S] scores
// never exist in device memory. Forward: a block of 64 query rows (a thread per row) walks the
// key/value tiles (32 keys, staged in shared memory) with an online softmax (running max and
// sum, the output rescaled when the max grows); tiles above the causal diagonal are skipped.
// It writes the output and each row's log-sum-exp. Backward (FlashAttention-2): `dq` recomputes
// each row's probabilities from the log-sum-exp (a thread per query row, also writing
// D_i = rowsum(dO_i O_i)), and `dkdv` walks the query tiles for a block of 64 keys (a thread
// per key): dV_j += P_ij dO_i, dS_ij = P_ij (dO_i . V_j - D_i), dK_j += scale dS_ij Q_i,
// dQ_i += scale dS_ij K_j. No atomics: every output row has one writer, so it is deterministic.
//
// q [..., T, d], k [..., S, d], v [..., S, dv] with batch axes broadcast (stride 0) and rows of
// unit stride at any row stride (heads read in place from a fused qkv). o, lse, dO, D, dq, dk
// and dv are contiguous over the full batch. DM (32, 64, 128) bounds d and dv: per-thread
// accumulators live in registers (loops over DM are unrolled with a guard against d / dv).
#include "common.cuh"

#define ATT_BR 64  // query rows per block (forward, dq) and keys per block (dkdv)
#define ATT_BC 32  // keys per tile (forward, dq) and queries per tile (dkdv)

struct AttnParams {
  u64 q, k, v, o, lse, dO, D, dq, dk, dv;
  i64 T, S, d, dvDim;
  i64 batchRank;
  i64 batchShape[4];
  i64 qStride[4], kStride[4], vStride[4];
  i64 qOff, kOff, vOff;
  i64 ldq, ldk, ldv;
  i64 causal;
  double scale;
};

// Element offsets of head h's matrices of q, k, v (batch index decomposed row-major).
LRW_DEVICE void head_offsets(const AttnParams& p, int h, i64& qo, i64& ko, i64& vo) {
  qo = p.qOff;
  ko = p.kOff;
  vo = p.vOff;
  int rest = h;
#pragma unroll
  for (int a = 3; a >= 0; a--) {
    if (a < (int)p.batchRank) {
      const int c = rest % (int)p.batchShape[a];
      rest /= (int)p.batchShape[a];
      qo += c * p.qStride[a];
      ko += c * p.kStride[a];
      vo += c * p.vStride[a];
    }
  }
}

// rows [r0, r0 + n) of a matrix with row stride ld into smem rows of `width` (+pad) floats.
LRW_DEVICE void load_rows(float* dst, int pitch, const float* src, i64 ld, int r0, int n, int limit, int width) {
  for (int e = threadIdx.x; e < n * width; e += blockDim.x) {
    const int r = e / width, c = e - r * width;
    dst[r * pitch + c] = r0 + r < limit ? src[(i64)(r0 + r) * ld + c] : 0.0f;
  }
}

template <int DM>
LRW_DEVICE void attn_fwd(const AttnParams& p) {
  LRW_DYNAMIC_SMEM(float, sm);
  const int T = (int)p.T, S = (int)p.S, d = (int)p.d, dv = (int)p.dvDim;
  const int h = blockIdx.y, tid = threadIdx.x, i0 = blockIdx.x * ATT_BR, i = i0 + tid;
  const bool causal = p.causal != 0;
  const float scale = (float)p.scale;
  i64 qo, ko, vo;
  head_offsets(p, h, qo, ko, vo);
  float* Qs = sm;                         // ATT_BR x (d + 1)
  float* Ks = Qs + ATT_BR * (d + 1);      // ATT_BC x d
  float* Vs = Ks + ATT_BC * d;            // ATT_BC x dv
  load_rows(Qs, d + 1, (const float*)p.q + qo, p.ldq, i0, ATT_BR, T, d);
  float o[DM];
#pragma unroll
  for (int c = 0; c < DM; c++) o[c] = 0.0f;
  float m = lrw_neg_inf(), l = 0.0f;
  const int kEnd = causal ? lrw_imin(S, i0 + ATT_BR) : S;
  const float* qrow = Qs + tid * (d + 1);
  for (int j0 = 0; j0 < kEnd; j0 += ATT_BC) {
    __syncthreads();
    load_rows(Ks, d, (const float*)p.k + ko, p.ldk, j0, ATT_BC, S, d);
    load_rows(Vs, dv, (const float*)p.v + vo, p.ldv, j0, ATT_BC, S, dv);
    __syncthreads();
    if (i >= T) continue;
    float s[ATT_BC];
    float mt = m;
#pragma unroll
    for (int jj = 0; jj < ATT_BC; jj++) {
      const int j = j0 + jj;
      float acc = 0.0f;
      for (int c = 0; c < d; c++) acc += qrow[c] * Ks[jj * d + c];
      s[jj] = (j < S && (!causal || j <= i)) ? acc * scale : lrw_neg_inf();
      mt = pick_max(mt, s[jj]);
    }
    if (mt == lrw_neg_inf()) continue;  // no visible key yet
    const float alpha = expf(m - mt);   // 0 on the first visible tile
    l *= alpha;
#pragma unroll
    for (int c = 0; c < DM; c++) o[c] *= alpha;
#pragma unroll
    for (int jj = 0; jj < ATT_BC; jj++) {
      const float pj = expf(s[jj] - mt);
      l += pj;
#pragma unroll
      for (int c = 0; c < DM; c++)
        if (c < dv) o[c] += pj * Vs[jj * dv + c];
    }
    m = mt;
  }
  if (i < T) {
    const float inv = 1.0f / l;
    float* out = (float*)p.o + ((i64)h * T + i) * dv;
#pragma unroll
    for (int c = 0; c < DM; c++)
      if (c < dv) out[c] = o[c] * inv;
    ((float*)p.lse)[(i64)h * T + i] = m + logf(l);
  }
}

template <int DM>
LRW_DEVICE void attn_dq(const AttnParams& p) {
  LRW_DYNAMIC_SMEM(float, sm);
  const int T = (int)p.T, S = (int)p.S, d = (int)p.d, dv = (int)p.dvDim;
  const int h = blockIdx.y, tid = threadIdx.x, i0 = blockIdx.x * ATT_BR, i = i0 + tid;
  const bool causal = p.causal != 0;
  const float scale = (float)p.scale;
  i64 qo, ko, vo;
  head_offsets(p, h, qo, ko, vo);
  float* Qs = sm;                          // ATT_BR x (d + 1)
  float* Gs = Qs + ATT_BR * (d + 1);       // ATT_BR x (dv + 1): dO rows
  float* Ks = Gs + ATT_BR * (dv + 1);      // ATT_BC x d
  float* Vs = Ks + ATT_BC * d;             // ATT_BC x dv
  const i64 rowBase = (i64)h * T;
  load_rows(Qs, d + 1, (const float*)p.q + qo, p.ldq, i0, ATT_BR, T, d);
  load_rows(Gs, dv + 1, (const float*)p.dO + rowBase * dv, dv, i0, ATT_BR, T, dv);
  __syncthreads();
  const float* qrow = Qs + tid * (d + 1);
  const float* grow = Gs + tid * (dv + 1);
  float Di = 0.0f, lse = 0.0f;
  if (i < T) {
    const float* orow = (const float*)p.o + (rowBase + i) * dv;
    for (int c = 0; c < dv; c++) Di += grow[c] * orow[c];
    lse = ((const float*)p.lse)[rowBase + i];
    ((float*)p.D)[rowBase + i] = Di;
  }
  float dq[DM];
#pragma unroll
  for (int c = 0; c < DM; c++) dq[c] = 0.0f;
  const int kEnd = causal ? lrw_imin(S, i0 + ATT_BR) : S;
  for (int j0 = 0; j0 < kEnd; j0 += ATT_BC) {
    __syncthreads();
    load_rows(Ks, d, (const float*)p.k + ko, p.ldk, j0, ATT_BC, S, d);
    load_rows(Vs, dv, (const float*)p.v + vo, p.ldv, j0, ATT_BC, S, dv);
    __syncthreads();
    if (i >= T) continue;
    for (int jj = 0; jj < ATT_BC; jj++) {
      const int j = j0 + jj;
      if (!(j < S && (!causal || j <= i))) continue;
      float sc = 0.0f, dp = 0.0f;
      for (int c = 0; c < d; c++) sc += qrow[c] * Ks[jj * d + c];
      for (int c = 0; c < dv; c++) dp += grow[c] * Vs[jj * dv + c];
      const float pr = expf(sc * scale - lse);
      const float ds = pr * (dp - Di);
#pragma unroll
      for (int c = 0; c < DM; c++)
        if (c < d) dq[c] += ds * Ks[jj * d + c];
    }
  }
  if (i < T) {
    float* out = (float*)p.dq + (rowBase + i) * d;
#pragma unroll
    for (int c = 0; c < DM; c++)
      if (c < d) out[c] = scale * dq[c];
  }
}

template <int DM>
LRW_DEVICE void attn_dkdv(const AttnParams& p) {
  LRW_DYNAMIC_SMEM(float, sm);
  const int T = (int)p.T, S = (int)p.S, d = (int)p.d, dv = (int)p.dvDim;
  const int h = blockIdx.y, tid = threadIdx.x, j0 = blockIdx.x * ATT_BR, j = j0 + tid;
  const bool causal = p.causal != 0;
  const float scale = (float)p.scale;
  i64 qo, ko, vo;
  head_offsets(p, h, qo, ko, vo);
  float* Ks = sm;                          // ATT_BR x (d + 1)
  float* Vs = Ks + ATT_BR * (d + 1);       // ATT_BR x (dv + 1)
  float* Qs = Vs + ATT_BR * (dv + 1);      // ATT_BC x d
  float* Gs = Qs + ATT_BC * d;             // ATT_BC x dv
  float* Ls = Gs + ATT_BC * dv;            // ATT_BC
  float* Ds = Ls + ATT_BC;                 // ATT_BC
  const i64 rowBase = (i64)h * T;
  load_rows(Ks, d + 1, (const float*)p.k + ko, p.ldk, j0, ATT_BR, S, d);
  load_rows(Vs, dv + 1, (const float*)p.v + vo, p.ldv, j0, ATT_BR, S, dv);
  const float* krow = Ks + tid * (d + 1);
  const float* vrow = Vs + tid * (dv + 1);
  float dk[DM], dvv[DM];
#pragma unroll
  for (int c = 0; c < DM; c++) {
    dk[c] = 0.0f;
    dvv[c] = 0.0f;
  }
  // With the causal mask, queries before this key block see none of its keys.
  const int qStart = causal ? (j0 / ATT_BC) * ATT_BC : 0;
  for (int q0 = qStart; q0 < T; q0 += ATT_BC) {
    __syncthreads();
    load_rows(Qs, d, (const float*)p.q + qo, p.ldq, q0, ATT_BC, T, d);
    load_rows(Gs, dv, (const float*)p.dO + rowBase * dv, dv, q0, ATT_BC, T, dv);
    for (int e = tid; e < ATT_BC; e += blockDim.x) {
      Ls[e] = q0 + e < T ? ((const float*)p.lse)[rowBase + q0 + e] : 0.0f;
      Ds[e] = q0 + e < T ? ((const float*)p.D)[rowBase + q0 + e] : 0.0f;
    }
    __syncthreads();
    if (j >= S) continue;
    for (int ii = 0; ii < ATT_BC; ii++) {
      const int i = q0 + ii;
      if (!(i < T && (!causal || j <= i))) continue;
      float sc = 0.0f, dp = 0.0f;
      for (int c = 0; c < d; c++) sc += krow[c] * Qs[ii * d + c];
      for (int c = 0; c < dv; c++) dp += vrow[c] * Gs[ii * dv + c];
      const float pr = expf(sc * scale - Ls[ii]);
      const float ds = pr * (dp - Ds[ii]);
#pragma unroll
      for (int c = 0; c < DM; c++) {
        if (c < dv) dvv[c] += pr * Gs[ii * dv + c];
        if (c < d) dk[c] += ds * Qs[ii * d + c];
      }
    }
  }
  if (j < S) {
    float* ok = (float*)p.dk + ((i64)h * S + j) * d;
    float* ov = (float*)p.dv + ((i64)h * S + j) * dv;
#pragma unroll
    for (int c = 0; c < DM; c++) {
      if (c < d) ok[c] = scale * dk[c];
      if (c < dv) ov[c] = dvv[c];
    }
  }
}

LRW_KERNEL(lrw_attn_fwd_32, AttnParams) { attn_fwd<32>(p); }
LRW_KERNEL(lrw_attn_fwd_64, AttnParams) { attn_fwd<64>(p); }
LRW_KERNEL(lrw_attn_fwd_128, AttnParams) { attn_fwd<128>(p); }
LRW_KERNEL(lrw_attn_dq_32, AttnParams) { attn_dq<32>(p); }
LRW_KERNEL(lrw_attn_dq_64, AttnParams) { attn_dq<64>(p); }
LRW_KERNEL(lrw_attn_dq_128, AttnParams) { attn_dq<128>(p); }
LRW_KERNEL(lrw_attn_dkdv_32, AttnParams) { attn_dkdv<32>(p); }
LRW_KERNEL(lrw_attn_dkdv_64, AttnParams) { attn_dkdv<64>(p); }
LRW_KERNEL(lrw_attn_dkdv_128, AttnParams) { attn_dkdv<128>(p); }
