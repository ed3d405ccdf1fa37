/**
 * One AdamW step in place on a parameter and its moment tensors (torch.optim.AdamW: decoupled
 * weight decay, bias-corrected moments). On a backend with an `adamwStep` routine it is that
 * routine (the fast CPU backend: one pass of the wasm SIMD kernel over the four buffers; WebGPU:
 * one WGSL pass); elsewhere (reference CPU, strided views) it is the same formula composed of
 * in-place tensor ops.
 */

import { OpContext } from '../autograd.js';
import { noGrad, tidy } from '../engine.js';
import { routineOf } from '../routine.js';
import { formatShape, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkInplace } from './inplace.js';

/** Hyper-parameters of one step; `step` is the 1-based step count t (bias corrections 1 - beta^t). */
export interface AdamWHyper {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  step: number;
}

/**
 * Which implementation `adamwStep` used (for tests and benchmarks): 'wasm' (the fast CPU
 * backend's SIMD pass), 'webgpu' (the WebGPU backend's one-pass WGSL routine), 'routine' (another
 * backend's `adamwStep` routine) or 'composed' (in-place tensor ops, any backend).
 */
export type AdamWPath = 'wasm' | 'webgpu' | 'routine' | 'composed';

/**
 * The attributes a backend's `adamwStep` routine receives (`routineOf(backend, 'adamwStep')`): the
 * update's float32 constants, derived in float64 from the hyper-parameters by `adamwStep`. The
 * routine's `forward([param, grad, m, v], attrs, ctx)` gets four contiguous float32 tensors of one
 * shape on its backend, updates param, m and v in place:
 *
 *   m = beta1 m + oneMinusBeta1 g;  v = beta2 v + oneMinusBeta2 g^2
 *   param = param decay - (stepSize m) / (sqrt(v) invBc2Sqrt + eps)
 *
 * and returns an alias of `param` (routines return a tensor; `adamwStep` disposes it). A `path`
 * property on the routine object names it in `adamwStep`'s result (default 'routine').
 */
export interface AdamWRoutineAttrs {
  /** 1 - lr weightDecay. */
  decay: number;
  beta1: number;
  beta2: number;
  /** 1 - beta1 and 1 - beta2 in float64 (in float32, 1 - f32(0.999) is off by 1.3e-5). */
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  invBc2Sqrt: number;
  eps: number;
}

/**
 * param <- param (1 - lr wd) - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), with
 * m <- beta1 m + (1 - beta1) g and v <- beta2 v + (1 - beta2) g^2 updated in place first.
 * Defaults: beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.01 (PyTorch's). All four tensors are
 * float32 of one shape on one backend; `param` must not be part of a graph (call it after
 * backward, outside any recording; it runs under `noGrad` itself). Returns the path taken.
 */
export function adamwStep(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  hyper: AdamWHyper,
): AdamWPath {
  const beta1 = hyper.beta1 ?? 0.9;
  const beta2 = hyper.beta2 ?? 0.999;
  const eps = hyper.eps ?? 1e-8;
  const weightDecay = hyper.weightDecay ?? 0.01;
  const { lr, step } = hyper;
  if (!(Number.isInteger(step) && step >= 1)) {
    throw new RangeError(`adamwStep: step = ${step} must be an integer >= 1 (1-based)`);
  }
  for (const [k, x] of [
    ['beta1', beta1],
    ['beta2', beta2],
  ] as const) {
    if (!(x >= 0 && x < 1)) throw new RangeError(`adamwStep: ${k} = ${x} must lie in [0, 1)`);
  }
  if (!(lr >= 0) || !(eps > 0) || !(weightDecay >= 0)) {
    throw new RangeError(
      `adamwStep: lr = ${lr}, eps = ${eps}, weightDecay = ${weightDecay} need lr >= 0, eps > 0, weightDecay >= 0`,
    );
  }
  const names = ['param', 'grad', 'm', 'v'] as const;
  const ts = [param, grad, m, v];
  ts.forEach((t, i) => {
    t.assertAlive('adamwStep');
    if (
      t.dtype !== 'float32' ||
      !shapesEqual(t.shape, param.shape) ||
      t.backend !== param.backend
    ) {
      throw new TypeError(
        `adamwStep: ${names[i]} is ${t.dtype} ${formatShape(t.shape)} on '${t.backend.name}'; ` +
          `expected float32 ${formatShape(param.shape)} on '${param.backend.name}' like param`,
      );
    }
  });
  noGrad(() => {
    for (const t of [param, m, v]) checkInplace(t, 'adamwStep');
  });

  const contiguous = ts.every((t) => t.isContiguous);
  const routine = contiguous ? routineOf(param.backend, 'adamwStep') : undefined;
  if (routine) {
    const attrs: AdamWRoutineAttrs = {
      decay: 1 - lr * weightDecay,
      beta1,
      beta2,
      oneMinusBeta1: 1 - beta1,
      oneMinusBeta2: 1 - beta2,
      stepSize: lr / (1 - beta1 ** step),
      invBc2Sqrt: 1 / Math.sqrt(1 - beta2 ** step),
      eps,
    };
    noGrad(() =>
      routine.forward(ts, attrs, new OpContext('adamwStep', attrs, ts, false)).dispose(),
    );
    for (const t of [param, m, v]) t.storage.version++;
    return (routine as { path?: AdamWPath }).path ?? 'routine';
  }
  noGrad(() =>
    tidy(() => {
      m.mul_(beta1).add_(grad, 1 - beta1);
      v.mul_(beta2).add_(grad.square(), 1 - beta2);
      const denom = v
        .sqrt()
        .mul(1 / Math.sqrt(1 - beta2 ** step))
        .add(eps);
      param.mul_(1 - lr * weightDecay).sub_(m.div(denom), lr / (1 - beta1 ** step));
    }),
  );
  return 'composed';
}
