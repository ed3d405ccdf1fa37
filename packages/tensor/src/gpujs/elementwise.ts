/**
 * The elementwise kernel generator every pointwise primitive and routine uses: one gpu.js
 * kernel per (expression, rank, operand count, coverage), walking the output buffer's elements
 * and reading strided inputs (broadcasting is a stride of 0).
 */
import type { TensorView } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { GpuJsBackend, KernelSpec } from './backend.js';
import { coversBuffer, walkDims } from './glsl.js';

/**
 * Runs `expr` (gpu.js JavaScript over `v0`, `v1`, ... the inputs' values, `s0`, `s1`, ... the
 * `scalars`, and `e`, the element's position from the view's start: its linear index when the
 * output is contiguous) at every element of `out`. `name` keys the compiled kernel together
 * with the expression. Elements of the output buffer outside the view keep their values.
 */
export function elementwise(
  gpu: GpuJsBackend,
  name: string,
  out: TensorView,
  inputs: readonly TensorView[],
  expr: string,
  scalars: readonly number[] = [],
): void {
  const n = shapeSize(out.shape);
  if (n === 0) return;
  const texs = inputs.map((v) => gpu.texOf(v, name));
  const ob = gpu.outOf(out, name);
  const walk = walkDims(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  const R = walk.shape.length;
  const full = coversBuffer(out, ob.elements, walk);
  const args: [string, 'Texture' | 'Float'][] = [];
  const values: unknown[] = [];
  if (!full) {
    args.push(['prev', 'Texture']);
    values.push(ob.tex.tex);
  }
  inputs.forEach((_, k) => {
    args.push([`x${k}`, 'Texture']);
    values.push(texs[k]);
  });
  const num = (a: string, v: number) => {
    args.push([a, 'Float']);
    values.push(v);
  };
  num('oo', out.offset);
  for (let q = 0; q < R; q++) num(`d${q}`, walk.shape[q]);
  for (let q = 0; q < R; q++) num(`os${q}`, walk.strides[0][q]);
  inputs.forEach((v, k) => {
    num(`io${k}`, v.offset);
    for (let q = 0; q < R; q++) num(`is${k}_${q}`, walk.strides[k + 1][q]);
  });
  for (let q = 0; q < scalars.length; q++) num(`s${q}`, scalars[q]);
  const spec: KernelSpec = {
    key: `ew:${name}:${R}:${full ? 'full' : 'part'}:${inputs.length}:${scalars.length}:${expr}`,
    args,
    source: () => {
      const out: string[] = ['const i = this.thread.x;', 'const e = i - oo;', 'let r = e;'];
      if (!full) out.push('if (r < 0) { return prev[i]; }');
      for (let q = 0; q < R; q++) {
        out.push(`const c${q} = idiv(r, os${q});`, `r = r - c${q} * os${q};`);
        if (!full) out.push(`if (c${q} >= d${q}) { return prev[i]; }`);
      }
      if (!full) out.push('if (r > 0) { return prev[i]; }');
      inputs.forEach((_, k) => {
        const idx = [`io${k}`, ...walk.shape.map((_, q) => `c${q} * is${k}_${q}`)].join(' + ');
        out.push(`const v${k} = x${k}[${idx}];`);
      });
      out.push(`return ${expr};`);
      return `function (${args.map((a) => a[0]).join(', ')}) {\n  ${out.join('\n  ')}\n}`;
    },
  };
  gpu.runInto(ob, spec, values);
}

/**
 * Writes host values into `out` (a view of `values.length` elements): straight into the
 * texture when the view is its whole buffer, else through a scratch buffer and a copy kernel.
 */
export function hostToView(gpu: GpuJsBackend, out: TensorView, values: Float32Array): void {
  const n = values.length;
  if (n === 0) return;
  const ob = gpu.outOf(out, 'write');
  const walk = walkDims(out.shape, [out.strides]);
  if (coversBuffer(out, ob.elements, walk)) {
    gpu.write(ob, out.dtype === 'int32' ? Int32Array.from(values) : values);
    return;
  }
  const tmp = gpu.alloc(n * 4);
  try {
    gpu.write(tmp, values);
    const src: TensorView = {
      buf: tmp,
      dtype: 'float32',
      shape: out.shape,
      strides: contiguous(out.shape),
      offset: 0,
    };
    elementwise(gpu, 'copy', out, [src], out.dtype === 'int32' ? 'truncJs(v0)' : 'v0');
  } finally {
    gpu.free(tmp);
  }
}

/** Row-major strides of `shape`. */
export function contiguous(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

/**
 * Runs `spec` producing `out`'s elements in row-major order from thread 0 (a contiguous result):
 * into `out`'s buffer directly when the view is that whole buffer, else into a temporary that
 * is then copied into the view.
 */
export function intoView(
  gpu: GpuJsBackend,
  out: TensorView,
  spec: KernelSpec,
  values: readonly unknown[],
): void {
  const n = shapeSize(out.shape);
  if (n === 0) return;
  const ob = gpu.outOf(out, spec.key);
  if (coversBuffer(out, ob.elements, walkDims(out.shape, [out.strides]))) {
    gpu.runInto(ob, spec, values);
    return;
  }
  const tmp = gpu.alloc(n * 4);
  try {
    const tv: TensorView = {
      buf: tmp,
      dtype: out.dtype,
      shape: out.shape,
      strides: contiguous(out.shape),
      offset: 0,
    };
    gpu.runInto(gpu.outOf(tv), spec, values);
    elementwise(gpu, 'copy', out, [tv], 'v0');
  } finally {
    gpu.free(tmp);
  }
}
