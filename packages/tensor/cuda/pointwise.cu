// Pointwise routines on contiguous float32 data: GELU (tanh approximation) and SiLU, forward
// and backward, and the one-pass AdamW update.
#include "common.cuh"

struct PointwiseParams {
  u64 x, g, y;  // forward: x -> y; backward: x, g -> y = dx
  i64 n, xOff, gOff, yOff;
  i64 op;  // 0 gelu, 1 gelu backward, 2 silu, 3 silu backward
};

LRW_KERNEL(lrw_pointwise, PointwiseParams) {
  const int op = (int)p.op;
  const float* x = (const float*)p.x + p.xOff;
  const float* g = (const float*)p.g + p.gOff;
  float* y = (float*)p.y + p.yOff;
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < (u32)p.n; i += gridDim.x * blockDim.x) {
    const float v = x[i];
    float r;
    if (op < 2) {
      const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
      const float t = tanhf(u);
      r = op == 0 ? 0.5f * v * (1.0f + t)
                  : g[i] * (0.5f * (1.0f + t) +
                            0.5f * v * (1.0f - t * t) * 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * v * v));
    } else {
      const float s = 1.0f / (1.0f + expf(-v));
      r = op == 2 ? v * s : g[i] * (s * (1.0f + v * (1.0f - s)));
    }
    y[i] = r;
  }
}

// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
// param = param decay - (stepSize m) / (sqrt(v) invBc2Sqrt + eps), constants rounded to float32
// (the float32 order of operations of the CPU and WebGPU paths).
struct AdamWParams {
  u64 param, grad, m, v;
  i64 n, pOff, gOff, mOff, vOff;
  double decay, beta1, beta2, oneMinusBeta1, oneMinusBeta2, stepSize, invBc2Sqrt, eps;
};

LRW_KERNEL(lrw_adamw, AdamWParams) {
  const float decay = (float)p.decay, b1 = (float)p.beta1, b2 = (float)p.beta2;
  const float omb1 = (float)p.oneMinusBeta1, omb2 = (float)p.oneMinusBeta2;
  const float stepSize = (float)p.stepSize, invBc2 = (float)p.invBc2Sqrt, eps = (float)p.eps;
  float* pa = (float*)p.param + p.pOff;
  const float* ga = (const float*)p.grad + p.gOff;
  float* ma = (float*)p.m + p.mOff;
  float* va = (float*)p.v + p.vOff;
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < (u32)p.n; i += gridDim.x * blockDim.x) {
    const float gi = ga[i];
    const float mi = b1 * ma[i] + omb1 * gi;
    const float vi = b2 * va[i] + omb2 * (gi * gi);
    const float denom = sqrtf(vi) * invBc2 + eps;
    ma[i] = mi;
    va[i] = vi;
    pa[i] = pa[i] * decay - (stepSize * mi) / denom;
  }
}
