/**
 * Reductions in WGSL on rows of a contiguous [outer, inner] input: one row per invocation (short
 * rows) or per workgroup (rows of WIDE_ROW elements or more, a tree reduction in workgroup
 * memory). `rowLanes` and `rowGrid` are shared with the row routines (softmax, norms, ...).
 */
import type { ReduceKernel } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { WebGpuBackend, WebGpuKernel } from './backend.js';
import { bindViews, wgslType } from './bindings.js';
import { convert, declare, FLOAT_HELPERS, loader, rowEntry, rowHelpers, storer } from './wgsl.js';

/** With `rowLanes` > 1, rows at least this long get a workgroup each. */
export const WIDE_ROW = 1024;

/**
 * Invocations per row of a row kernel: 1 (one invocation per row, the default), or the
 * backend's `rowLanes` option for rows of WIDE_ROW elements or more (a workgroup per row with a
 * tree reduction in workgroup memory).
 */
export function rowLanes(gpu: WebGpuBackend, length: number): number {
  const lanes = gpu.rowLanes;
  return lanes > 1 && length >= WIDE_ROW ? Math.min(lanes, gpu.workgroupSize) : 1;
}

/** Launch geometry of a row kernel over `rows` rows of `lanes` invocations each. */
export function rowGrid(gpu: WebGpuBackend, rows: number, lanes: number, where: string) {
  const wg = gpu.workgroupSize;
  return lanes === 1 ? gpu.grid(rows, wg, where) : gpu.grid(rows, 1, where);
}

export function reduceKernel(op: ReduceKernel): WebGpuKernel<ReduceKernel> {
  return (call, gpu) => {
    const [a] = call.inputs;
    const out = call.output;
    const inner = call.attrs.inner;
    const outer = shapeSize(out.shape);
    if (outer === 0) return;
    const t = wgslType(a.dtype);
    const to = wgslType(out.dtype);
    const lanes = t === 'f32' ? rowLanes(gpu, inner) : 1;
    const { buffers, slot, bindings, key } = bindViews(gpu, [out, a], [0], op);
    const { grid, width } = rowGrid(gpu, outer, lanes, op);
    const wg = gpu.workgroupSize;
    const lowest = t === 'f32' ? 'neg_inf()' : '-2147483647 - 1';
    const highest = t === 'f32' ? 'pos_inf()' : '2147483647';
    const isNan = t === 'f32' ? 'is_nan(v)' : 'false';
    let init: string;
    let step: string;
    let finish: string;
    let reduced: string;
    if (op === 'sum') {
      init = `var acc: ${t} = ${t === 'f32' ? '0.0' : '0'};`;
      step = 'acc = acc + v;';
      reduced = lanes > 1 ? 'red_sum(acc, lane)' : 'acc';
      finish = convert('res', t, to);
    } else if (op === 'max' || op === 'min') {
      const cmp = op === 'max' ? '>' : '<';
      init = `var acc: ${t} = ${op === 'max' ? lowest : highest};`;
      step = `if (v ${cmp} acc || ${isNan}) { acc = v; }`;
      reduced = lanes > 1 ? `red_${op}(acc, lane)` : 'acc';
      finish = convert('res', t, to);
    } else {
      init = `var acc: ${t} = ${lowest}; var best: i32 = 2147483647;`;
      step = 'if (v > acc) { acc = v; best = j; }';
      reduced = lanes > 1 ? 'red_argmax(acc, best, lane)' : 'best';
      finish = convert('select(res, 0, res == 2147483647)', 'i32', to);
    }
    return launchReduce(reduced);

    function launchReduce(argIdx: string): void {
      gpu.launch({
        key: `reduce:${op}:${t}${to}:${lanes}:${key}:${wg}`,
        buffers,
        grid,
        params: [width, outer, inner, a.offset, out.offset],
        code: () => `${declare(bindings)}
${FLOAT_HELPERS}
${rowHelpers(lanes)}
${loader('ldx', slot[1], t)}
${storer('sto', slot[0], to)}
${rowEntry(lanes, wg)}
  let inner = P[2];
  let base = P[3] + row * inner;
  ${init}
  for (var j = lane; j < inner; j = j + LANES) {
    let v = ldx(base + j);
    ${step}
  }
  let res = ${argIdx};
  if (lane == 0) { sto(P[4] + row, ${finish}); }
}`,
      });
    }
  };
}
