/**
 * Elementwise WGSL kernels over any strided views (broadcasting is a stride of 0): dimensions
 * contiguous for every operand are merged on the host, and the shader, generated per rank, walks
 * the rest from the parameter block. Unary, binary, where, copy/cast, fill and arange.
 */
import type { BinaryKernel, TensorView, UnaryKernel } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { WebGpuBackend, WebGpuKernel } from './backend.js';
import { bindViews, floatWord, mergeDims, wgslType } from './bindings.js';
import {
  convert,
  declare,
  FLOAT_HELPERS,
  LINEAR_INDEX,
  loader,
  storer,
  type WgslType,
} from './wgsl.js';

/**
 * Runs `expr` (a WGSL expression of the output type over `x0`, `x1`, ... the loaded inputs, `i`
 * the linear output index, and `E(k)` = extra parameter word k) at every element of `out`.
 */
export function elementwise(
  gpu: WebGpuBackend,
  name: string,
  out: TensorView,
  inputs: readonly TensorView[],
  expr: string,
  extra: readonly number[] = [],
  helpers = '',
): void {
  const n = shapeSize(out.shape);
  if (n === 0) return;
  const views = [out, ...inputs];
  const merged = mergeDims(
    out.shape,
    views.map((v) => v.strides),
  );
  const R = merged.shape.length;
  const { buffers, slot, bindings, key } = bindViews(gpu, views, [0], name);
  const wg = gpu.workgroupSize;
  const { grid, width } = gpu.grid(n, wg, name);
  const params: number[] = [width, n, ...merged.shape];
  for (let k = 0; k < views.length; k++) params.push(views[k].offset, ...merged.strides[k]);
  const extraBase = params.length;
  params.push(...extra);
  const types = views.map((v) => wgslType(v.dtype));
  const fullKey = `ew:${name}:${types.join('')}:${R}:${key}:${wg}:${extraBase}`;
  gpu.launch({
    key: fullKey,
    buffers,
    params,
    grid,
    code: () => {
      const off = (k: number) => 2 + R + k * (R + 1);
      const lines: string[] = [declare(bindings), FLOAT_HELPERS, helpers];
      lines.push(storer('st0', slot[0], types[0]));
      for (let k = 1; k < views.length; k++) lines.push(loader(`ld${k}`, slot[k], types[k]));
      lines.push(`fn E(k: i32) -> i32 { return P[${extraBase} + k]; }`);
      lines.push(`fn Ef(k: i32) -> f32 { return bitcast<f32>(P[${extraBase} + k]); }`);
      lines.push(`@compute @workgroup_size(${wg})`);
      lines.push('fn main(@builtin(global_invocation_id) g: vec3u) {');
      lines.push(`  let i = ${LINEAR_INDEX};`);
      lines.push('  if (i >= P[1]) { return; }');
      lines.push('  var r = i;');
      for (let k = 0; k < views.length; k++) lines.push(`  var o${k} = P[${off(k)}];`);
      for (let d = R - 1; d >= 1; d--) {
        lines.push(`  { let s = P[${2 + d}]; let c = r % s; r = r / s;`);
        for (let k = 0; k < views.length; k++) lines.push(`    o${k} += c * P[${off(k) + 1 + d}];`);
        lines.push('  }');
      }
      for (let k = 0; k < views.length; k++) lines.push(`  o${k} += r * P[${off(k) + 1}];`);
      for (let k = 1; k < views.length; k++) lines.push(`  let x${k - 1} = ld${k}(o${k});`);
      lines.push(`  st0(o0, ${expr});`);
      lines.push('}');
      return lines.join('\n');
    },
  });
}

// ---- unary and binary ---------------------------------------------------------------------------

export function unaryKernel(op: UnaryKernel): WebGpuKernel {
  return (call, gpu) => {
    const [a] = call.inputs;
    const out = call.output;
    const ti = wgslType(a.dtype);
    const to = wgslType(out.dtype);
    let expr: string;
    if (ti === 'i32' && (op === 'neg' || op === 'abs' || op === 'sign')) {
      expr = convert(op === 'neg' ? '-x0' : `${op}(x0)`, 'i32', to);
    } else {
      const x = ti === 'i32' ? 'f32(x0)' : 'x0';
      expr = convert(unaryExpr(op, x), 'f32', to);
    }
    elementwise(gpu, op, out, [a], expr);
  };
}

function unaryExpr(op: UnaryKernel, x: string): string {
  switch (op) {
    case 'neg':
      return `-${x}`;
    case 'exp':
      return `exp_safe(${x})`;
    case 'log':
      return `log(${x})`;
    case 'sqrt':
      return `sqrt(${x})`;
    case 'recip':
      return `(1.0 / ${x})`;
    case 'tanh':
      return `tanh_safe(${x})`;
    case 'sin':
      return `sin_acc(${x})`;
    case 'cos':
      return `cos_acc(${x})`;
    case 'abs':
      return `abs(${x})`;
    case 'sign':
      return `select(sign(${x}), ${x}, is_nan(${x}))`;
  }
}

function binaryExpr(op: BinaryKernel, t: WgslType, a: string, b: string): [string, WgslType] {
  const cmp = (o: string): [string, WgslType] => [`select(0, 1, ${a} ${o} ${b})`, 'i32'];
  switch (op) {
    case 'add':
      return [`(${a} + ${b})`, t];
    case 'sub':
      return [`(${a} - ${b})`, t];
    case 'mul':
      return [`(${a} * ${b})`, t];
    case 'div':
      return t === 'i32' ? [`select(${a} / ${b}, 0, ${b} == 0)`, t] : [`(${a} / ${b})`, t];
    case 'maximum':
      return t === 'i32'
        ? [`max(${a}, ${b})`, t]
        : [`select(${b}, ${a}, ${a} >= ${b} || is_nan(${a}))`, t];
    case 'minimum':
      return t === 'i32'
        ? [`min(${a}, ${b})`, t]
        : [`select(${b}, ${a}, ${a} <= ${b} || is_nan(${a}))`, t];
    case 'pow':
      return t === 'i32' ? [`i32(pow_js(f32(${a}), f32(${b})))`, t] : [`pow_js(${a}, ${b})`, t];
    case 'lt':
      return cmp('<');
    case 'le':
      return cmp('<=');
    case 'gt':
      return cmp('>');
    case 'ge':
      return cmp('>=');
    case 'eq':
      return cmp('==');
    case 'ne':
      return cmp('!=');
  }
}

export function binaryKernel(op: BinaryKernel): WebGpuKernel {
  return (call, gpu) => {
    const [a, b] = call.inputs;
    const out = call.output;
    const t = wgslType(a.dtype);
    const bx = convert('x1', wgslType(b.dtype), t);
    const [expr, rt] = binaryExpr(op, t, 'x0', bx);
    elementwise(gpu, op, out, [a, b], convert(expr, rt, wgslType(out.dtype)));
  };
}

// ---- where, copy, cast, fill, arange ------------------------------------------------------------

export const whereKernel: WebGpuKernel = (call, gpu) => {
  const [c, a, b] = call.inputs;
  const to = wgslType(call.output.dtype);
  const zero = wgslType(c.dtype) === 'i32' ? '0' : '0.0';
  elementwise(
    gpu,
    'where',
    call.output,
    [c, a, b],
    `select(${convert('x2', wgslType(b.dtype), to)}, ${convert('x1', wgslType(a.dtype), to)}, x0 != ${zero})`,
  );
};

export const copyKernel: WebGpuKernel = (call, gpu) => {
  const [a] = call.inputs;
  elementwise(
    gpu,
    'copy',
    call.output,
    [a],
    convert('x0', wgslType(a.dtype), wgslType(call.output.dtype)),
  );
};

export const fillKernel: WebGpuKernel<'fill'> = (call, gpu) => {
  const v = call.attrs.value;
  const int = call.output.dtype === 'int32';
  elementwise(gpu, 'fill', call.output, [], int ? 'E(0)' : 'Ef(0)', [int ? v | 0 : floatWord(v)]);
};

export const arangeKernel: WebGpuKernel<'arange'> = (call, gpu) => {
  const { start, step } = call.attrs;
  const int = call.output.dtype === 'int32';
  if (int && Number.isInteger(start) && Number.isInteger(step)) {
    elementwise(gpu, 'arange-int', call.output, [], 'E(0) + i * E(1)', [start | 0, step | 0]);
    return;
  }
  elementwise(
    gpu,
    'arange',
    call.output,
    [],
    convert('(Ef(0) + f32(i) * Ef(1))', 'f32', int ? 'i32' : 'f32'),
    [floatWord(start), floatWord(step)],
  );
};
