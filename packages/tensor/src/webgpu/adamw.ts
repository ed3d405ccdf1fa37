/**
 * AdamW in one WGSL pass: the `adamwStep` routine of the WebGPU backend. One invocation per
 * element reads param, grad, m and v once and writes param, m and v, instead of the ~11 in-place
 * kernels (and their temporaries) of the composed path. The formula and the float32 order of
 * operations are the wasm SIMD kernel's (assembly/elementwise.ts):
 *
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p decay - (stepSize m) / (sqrt(v) invBc2Sqrt + eps)
 *
 * with decay = 1 - lr wd, stepSize = lr / (1 - beta1^t), invBc2Sqrt = 1 / sqrt(1 - beta2^t) and
 * 1 - beta1, 1 - beta2 computed in float64 by `adamwStep` (ops/adamw.ts), which checks shapes,
 * dtypes and contiguity before it calls the routine.
 */
import type { AdamWRoutineAttrs } from '../ops/adamw.js';
import type { Routine } from '../routine.js';
import type { Tensor } from '../tensor.js';
import type { WebGpuBackend } from './backend.js';
import { bindViews, floatWord } from './bindings.js';
import { declare, LINEAR_INDEX, loader, storer } from './wgsl.js';

/** Inputs [param, grad, m, v] (contiguous float32, one shape); updates param, m, v in place. */
export const adamwRoutine: Routine<AdamWRoutineAttrs> & { path: 'webgpu' } = {
  path: 'webgpu',
  forward(inputs: readonly Tensor[], attrs: AdamWRoutineAttrs): Tensor {
    const [param, grad, m, v] = inputs as [Tensor, Tensor, Tensor, Tensor];
    const gpu = param.backend as WebGpuBackend;
    const n = param.size;
    if (n > 0) {
      const views = [param.view(), grad.view(), m.view(), v.view()];
      // param, m and v are written; a buffer shared by two operands is bound once.
      const bound = bindViews(gpu, views, [0, 2, 3], 'adamwStep');
      const wg = gpu.workgroupSize;
      const { grid, width } = gpu.grid(n, wg, 'adamwStep');
      const [sp, sg, sm, sv] = bound.slot as [number, number, number, number];
      gpu.launch({
        key: `adamw:${bound.key}:${wg}`,
        buffers: bound.buffers,
        grid,
        params: [
          width,
          n,
          ...views.map((x) => x.offset),
          floatWord(attrs.decay),
          floatWord(attrs.beta1),
          floatWord(attrs.beta2),
          floatWord(attrs.oneMinusBeta1),
          floatWord(attrs.oneMinusBeta2),
          floatWord(attrs.stepSize),
          floatWord(attrs.invBc2Sqrt),
          floatWord(attrs.eps),
        ],
        code: () => `${declare(bound.bindings)}
${loader('ldP', sp, 'f32')}
${storer('stP', sp, 'f32')}
${loader('ldG', sg, 'f32')}
${loader('ldM', sm, 'f32')}
${storer('stM', sm, 'f32')}
${loader('ldV', sv, 'f32')}
${storer('stV', sv, 'f32')}
fn F(k: i32) -> f32 { return bitcast<f32>(P[6 + k]); }
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let ip = P[2] + i;
  let gi = ldG(P[3] + i);
  let im = P[4] + i;
  let iv = P[5] + i;
  let mi = F(1) * ldM(im) + F(3) * gi;
  let vi = F(2) * ldV(iv) + F(4) * (gi * gi);
  let denom = sqrt(vi) * F(6) + F(7);
  stM(im, mi);
  stV(iv, vi);
  stP(ip, ldP(ip) * F(0) - (F(5) * mi) / denom);
}`,
      });
    }
    // Routines return a tensor; this one is an alias of the updated param (the caller frees it).
    return param.alias();
  },
};
