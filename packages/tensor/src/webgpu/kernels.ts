/**
 * The primitive kernels in WGSL. Elementwise kernels take any strided views (broadcasting is a
 * stride of 0): dimensions contiguous for every operand are merged on the host, and the shader,
 * generated per rank, walks the rest from the parameter block. Reductions work on rows of a
 * contiguous [outer, inner] input, one row per invocation (short rows) or per workgroup.
 */
import type { BinaryKernel, KernelCall, TensorView, UnaryKernel } from '../backend.js';
import { BINARY_KERNELS, UNARY_KERNELS } from '../backend.js';
import type { DType } from '../dtype.js';
import { seedKey } from '../philox.js';
import { shapeSize } from '../shape.js';
import type { LaunchBuffer, WebGpuBackend, WebGpuKernel } from './backend.js';
import { matmulKernel } from './matmul.js';
import {
  type Binding,
  convert,
  declare,
  FLOAT_HELPERS,
  LINEAR_INDEX,
  loader,
  rowEntry,
  rowHelpers,
  storer,
  type WgslType,
} from './wgsl.js';

export const wgslType = (d: DType): WgslType => (d === 'int32' ? 'i32' : 'f32');

const f32Bits = new Float32Array(1);
const f32BitsI = new Int32Array(f32Bits.buffer);
/** The bits of Math.fround(x) as an i32 parameter word. */
export function floatWord(x: number): number {
  f32Bits[0] = x;
  return f32BitsI[0];
}

/**
 * Binding slots for operand views: one binding per distinct buffer (an in-place op reads and
 * writes one binding), read-write when any operand in `writes` uses it. Returns the buffers in
 * binding order, each operand's binding number, and a key fragment describing the aliasing.
 */
export function bindViews(
  gpu: WebGpuBackend,
  views: readonly TensorView[],
  writes: readonly number[],
  where: string,
): { buffers: LaunchBuffer[]; slot: number[]; bindings: Binding[]; key: string } {
  const buffers: LaunchBuffer[] = [];
  const slot: number[] = [];
  views.forEach((v, i) => {
    const buf = gpu.gpuOf(v, where);
    let s = buffers.findIndex((b) => b.buf === buf);
    if (s < 0) {
      buffers.push({ buf, write: false });
      s = buffers.length - 1;
    }
    if (writes.includes(i)) buffers[s].write = true;
    slot.push(s + 1);
  });
  const bindings = buffers.map((b, i) => ({ binding: i + 1, write: b.write }));
  return {
    buffers,
    slot,
    bindings,
    key: `${slot.join('')}${bindings.map((b) => (b.write ? 'w' : 'r')).join('')}`,
  };
}

/** Merges dimensions that are contiguous for every operand and drops size-1 ones. */
export function mergeDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let q = 0; q < strides.length && merge; q++) merge = st[q][last] === strides[q][i] * d;
    if (merge) {
      dims[last] *= d;
      for (let q = 0; q < strides.length; q++) st[q][last] = strides[q][i];
    } else {
      dims.push(d);
      for (let q = 0; q < strides.length; q++) st[q].push(strides[q][i]);
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: st };
}

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

function unaryKernel(op: UnaryKernel): WebGpuKernel {
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

function binaryKernel(op: BinaryKernel): WebGpuKernel {
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

const whereKernel: WebGpuKernel = (call, gpu) => {
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

const copyKernel: WebGpuKernel = (call, gpu) => {
  const [a] = call.inputs;
  elementwise(
    gpu,
    'copy',
    call.output,
    [a],
    convert('x0', wgslType(a.dtype), wgslType(call.output.dtype)),
  );
};

const fillKernel: WebGpuKernel = (call, gpu) => {
  const v = call.attrs.value as number;
  const int = call.output.dtype === 'int32';
  elementwise(gpu, 'fill', call.output, [], int ? 'E(0)' : 'Ef(0)', [int ? v | 0 : floatWord(v)]);
};

const arangeKernel: WebGpuKernel = (call, gpu) => {
  const start = call.attrs.start as number;
  const step = call.attrs.step as number;
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

// ---- random (Philox 4x32-10, the stream of src/philox.ts) ---------------------------------------

const PHILOX = /* wgsl */ `
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>(p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), a * b);
}
fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr; var k = key;
  for (var r = 0; r < 10; r++) {
    let p0 = mulhilo(0xd2511f53u, c.x);
    let p1 = mulhilo(0xcd9e8d57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
// Natural log with relative accuracy near 1 (Cephes logf), the same on every driver.
fn log_acc(v: f32) -> f32 {
  let fe = frexp(v);
  var x = fe.fract;
  var e = f32(fe.exp);
  if (x < 0.70710677) { e = e - 1.0; x = x + x - 1.0; } else { x = x - 1.0; }
  let z = x * x;
  var y = (((((((( 7.0376836292e-2 * x - 1.1514610310e-1) * x + 1.1676998740e-1) * x
    - 1.2420140846e-1) * x + 1.4249322787e-1) * x - 1.6668057665e-1) * x
    + 2.0000714765e-1) * x - 2.4999993993e-1) * x + 3.3333331174e-1) * x * z;
  y = y + -2.12194440e-4 * e;
  y = y + -0.5 * z;
  return x + y + 0.693359375 * e;
}
// cos(2 pi n / 2^24) for a 24-bit n, reduced exactly to [-pi/4, pi/4] (Cephes sinf/cosf).
fn cos_turns24(n: u32) -> f32 {
  let q = (n + 0x200000u) >> 22u;
  let r = i32(n) - i32(q << 22u);
  let x = f32(r) * 3.7450703e-7; // pi / 2^23
  let z = x * x;
  let s = x + x * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
  let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
  switch (q & 3u) {
    case 0u: { return c; }
    case 1u: { return -s; }
    case 2u: { return -c; }
    default: { return s; }
  }
}
`;

const randomKernel: WebGpuKernel = (call, gpu) => {
  const out = call.output;
  const n = shapeSize(out.shape);
  if (n === 0) return;
  const attrs = call.attrs as { seed: number; offset: number; dist: string; a: number; b: number };
  const [k0, k1] = seedKey(attrs.seed);
  const normal = attrs.dist === 'normal';
  const { buffers, slot, bindings } = bindViews(gpu, [out], [0], 'random');
  const wg = gpu.workgroupSize;
  const { grid, width } = gpu.grid(n, wg, 'random');
  const offLo = (attrs.offset % 4294967296) | 0;
  gpu.launch({
    key: `random:${normal}:${wg}`,
    buffers,
    grid,
    params: [width, n, out.offset, offLo, k0 | 0, k1 | 0, floatWord(attrs.a), floatWord(attrs.b)],
    code: () => `${declare(bindings)}
${PHILOX}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let key = vec2<u32>(u32(P[4]), u32(P[5]));
  let a = bitcast<f32>(P[6]);
  let b = bitcast<f32>(P[7]);
  var v: f32;
  ${
    normal
      ? `let w = philox(vec4<u32>(u32(P[3]) + u32(i), 0u, 0u, 0u), key);
  let u1 = f32((w.x >> 8u) + 1u) * 5.9604645e-8;
  v = a + b * (sqrt(-2.0 * log_acc(u1)) * cos_turns24(w.y >> 8u));`
      : `let w = philox(vec4<u32>(u32(P[3]) + u32(i / 4), 0u, 0u, 0u), key);
  let word = w[i % 4];
  v = a + (b - a) * (f32(word >> 8u) * 5.9604645e-8);`
  }
  b${slot[0]}[P[2] + i] = bitcast<u32>(v);
}`,
  });
};

// ---- reductions ---------------------------------------------------------------------------------

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

function reduceKernel(op: 'sum' | 'max' | 'min' | 'argmax'): WebGpuKernel {
  return (call, gpu) => {
    const [a] = call.inputs;
    const out = call.output;
    const inner = call.attrs.inner as number;
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

// ---- gather and scatter-add -------------------------------------------------------------------

const gatherKernel: WebGpuKernel = (call, gpu) => {
  const [table, indices] = call.inputs;
  const out = call.output;
  const V = table.shape[0];
  const R = table.shape[1];
  const N = indices.shape[0];
  const n = N * R;
  if (n === 0) return;
  const { buffers, slot, bindings, key } = bindViews(gpu, [out, table, indices], [0], 'gather');
  buffers.push({ buf: gpu.errorBuffer, write: true });
  const err = buffers.length;
  const wg = gpu.workgroupSize;
  const { grid, width } = gpu.grid(n, wg, 'gather');
  gpu.launch({
    key: `gather:${key}:${wg}`,
    buffers,
    grid,
    params: [width, n, R, V, out.offset, table.offset, indices.offset],
    code: () => `${declare([...bindings, { binding: err, write: true }])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let R = P[2];
  let p = i / R;
  let j = i - p * R;
  let row = bitcast<i32>(b${slot[2]}[P[6] + p]);
  if (row < 0 || row >= P[3]) {
    b${err}[0] = 1u; b${err}[1] = bitcast<u32>(row); b${err}[2] = u32(p);
    b${slot[0]}[P[4] + i] = 0u;
    return;
  }
  b${slot[0]}[P[4] + i] = b${slot[1]}[P[5] + row * R + j];
}`,
  });
};

/**
 * Deterministic scatter-add (no float atomics): a counting sort of the positions by target row
 * (integer atomics count, one invocation scans, each position finds its rank among equal
 * indices before it), then one invocation per output element adds its rows in position order.
 */
const scatterAddKernel: WebGpuKernel = (call, gpu) => {
  const [indices, src] = call.inputs;
  const out = call.output;
  const V = out.shape[0];
  const R = out.shape[1];
  const N = indices.shape[0];
  if (N === 0 || V === 0 || R === 0) return;
  const t = wgslType(out.dtype);
  const counts = gpu.alloc((V + 1) * 4);
  const starts = gpu.alloc((V + 1) * 4);
  const perm = gpu.alloc(N * 4);
  const wg = gpu.workgroupSize;
  try {
    const cnt = gpu.gpuOf(counts);
    const st = gpu.gpuOf(starts);
    const pm = gpu.gpuOf(perm);
    const idx = gpu.gpuOf(indices, 'scatterAdd');
    // 1. zero counts and count rows (flagging bad indices)
    const z = gpu.grid(V + 1, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-zero:${wg}`,
      buffers: [{ buf: cnt, write: true }],
      grid: z.grid,
      params: [z.width, V + 1],
      code: () => `${declare([{ binding: 1, write: true }])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i < P[1]) { b1[i] = 0u; }
}`,
    });
    const c = gpu.grid(N, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-count:${wg}`,
      buffers: [
        { buf: idx, write: false },
        { buf: cnt, write: true },
        { buf: gpu.errorBuffer, write: true },
      ],
      grid: c.grid,
      params: [c.width, N, indices.offset, V],
      code: () => `@group(0) @binding(0) var<storage, read> P: array<i32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> cnt: array<atomic<i32>>;
@group(0) @binding(3) var<storage, read_write> err: array<u32>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let p = ${LINEAR_INDEX};
  if (p >= P[1]) { return; }
  let row = idx[P[2] + p];
  if (row < 0 || row >= P[3]) { err[0] = 2u; err[1] = bitcast<u32>(row); err[2] = u32(p); return; }
  atomicAdd(&cnt[row], 1);
}`,
    });
    // 2. exclusive scan of the counts (one invocation: V steps)
    gpu.launch({
      key: 'scatter-scan',
      buffers: [
        { buf: cnt, write: false },
        { buf: st, write: true },
      ],
      grid: [1, 1, 1],
      params: [0, V],
      code: () => `${declare([
        { binding: 1, write: false },
        { binding: 2, write: true },
      ])}
@compute @workgroup_size(1)
fn main() {
  var s = 0u;
  for (var v = 0; v < P[1]; v++) { b2[v] = s; s = s + b1[v]; }
  b2[P[1]] = s;
}`,
    });
    // 3. each position's slot: start of its row + its rank among earlier equal indices
    gpu.launch({
      key: `scatter-place:${wg}`,
      buffers: [
        { buf: idx, write: false },
        { buf: st, write: false },
        { buf: pm, write: true },
      ],
      grid: c.grid,
      params: [c.width, N, indices.offset, V],
      code: () => `${declare([
        { binding: 1, write: false },
        { binding: 2, write: false },
        { binding: 3, write: true },
      ])}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let p = ${LINEAR_INDEX};
  if (p >= P[1]) { return; }
  let o = P[2];
  let row = bitcast<i32>(b1[o + p]);
  if (row < 0 || row >= P[3]) { return; }
  var rank = 0u;
  for (var q = 0; q < p; q++) { if (bitcast<i32>(b1[o + q]) == row) { rank = rank + 1u; } }
  b3[b2[row] + rank] = u32(p);
}`,
    });
    // 4. one invocation per output element adds its source rows in position order
    const views = [out, src];
    const bound = bindViews(gpu, views, [0], 'scatterAdd');
    const buffers = [...bound.buffers, { buf: st, write: false }, { buf: pm, write: false }];
    const nb = bound.buffers.length;
    const e = gpu.grid(V * R, wg, 'scatterAdd');
    gpu.launch({
      key: `scatter-add:${t}:${bound.key}:${wg}`,
      buffers,
      grid: e.grid,
      params: [e.width, V * R, R, out.offset, src.offset],
      code: () => `${declare([
        ...bound.bindings,
        { binding: nb + 1, write: false },
        { binding: nb + 2, write: false },
      ])}
${loader('lds', bound.slot[1], t)}
${loader('ldo', bound.slot[0], t)}
${storer('sto', bound.slot[0], t)}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = ${LINEAR_INDEX};
  if (i >= P[1]) { return; }
  let R = P[2];
  let v = i / R;
  let j = i - v * R;
  let s0 = i32(b${nb + 1}[v]);
  let s1 = i32(b${nb + 1}[v + 1]);
  if (s1 == s0) { return; }
  var acc = ldo(P[3] + i);
  for (var s = s0; s < s1; s++) {
    acc = acc + lds(P[4] + i32(b${nb + 2}[s]) * R + j);
  }
  sto(P[3] + i, acc);
}`,
    });
  } finally {
    gpu.free(counts);
    gpu.free(starts);
    gpu.free(perm);
  }
};

/** Every primitive kernel of the WebGPU backend, by name. */
export const primitiveKernels: Record<string, WebGpuKernel> = {
  ...Object.fromEntries(UNARY_KERNELS.map((k) => [k, unaryKernel(k)])),
  ...Object.fromEntries(BINARY_KERNELS.map((k) => [k, binaryKernel(k)])),
  sum: reduceKernel('sum'),
  max: reduceKernel('max'),
  min: reduceKernel('min'),
  argmax: reduceKernel('argmax'),
  where: whereKernel,
  copy: copyKernel,
  cast: copyKernel,
  fill: fillKernel,
  arange: arangeKernel,
  random: randomKernel,
  matmul: matmulKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};

export type { KernelCall };
