/**
 * The primitive kernels as gpu.js kernels. Pointwise ops go through the elementwise generator;
 * reductions run one output element per row; gather and scatter-add are gathers (a fragment
 * shader writes only its own element), scatter-add through a stable counting sort of the rows.
 * `random` draws the Philox stream on the host (src/philox.ts) and uploads it: GLSL ES 1.0 (the
 * WebGL1 of headless-gl) has no 32-bit unsigned integers to run Philox in.
 */
import type { BinaryKernel, KernelCall, ReduceKernel, UnaryKernel } from '../backend.js';
import { BINARY_KERNELS, UNARY_KERNELS } from '../backend.js';
import { philoxFill } from '../philox.js';
import { shapeSize } from '../shape.js';
import type { GpuJsBackend, GpuJsKernelFn } from './backend.js';
import { elementwise, hostToView, intoView } from './elementwise.js';
import { matmulKernel } from './matmul.js';

const isInt = (v: { dtype: string }) => v.dtype === 'int32';

/** Wraps a float expression for an int32 output (truncation toward zero, as typed arrays do). */
const toOut = (expr: string, out: { dtype: string }) => (isInt(out) ? `truncJs(${expr})` : expr);

function unaryExpr(op: UnaryKernel): string {
  switch (op) {
    case 'neg':
      return '-v0';
    case 'exp':
      return 'Math.exp(v0)';
    case 'log':
      return 'Math.log(v0)';
    case 'sqrt':
      return 'Math.sqrt(v0)';
    case 'recip':
      return '1 / v0';
    case 'tanh':
      return 'tanhSafe(v0)';
    case 'sin':
      return 'sinAcc(v0)';
    case 'cos':
      return 'cosAcc(v0)';
    case 'abs':
      return 'Math.abs(v0)';
    case 'sign':
      return 'signJs(v0)';
  }
}

function binaryExpr(op: BinaryKernel, int: boolean): string {
  switch (op) {
    case 'add':
      return 'v0 + v1';
    case 'sub':
      return 'v0 - v1';
    case 'mul':
      return 'v0 * v1';
    case 'div':
      return int ? 'idivJs(v0, v1)' : 'v0 / v1';
    case 'maximum':
      return 'maxJs(v0, v1)';
    case 'minimum':
      return 'minJs(v0, v1)';
    case 'pow':
      return 'powJs(v0, v1)';
    case 'lt':
      return 'cmpLt(v0, v1)';
    case 'le':
      return 'cmpLe(v0, v1)';
    case 'gt':
      return 'cmpLt(v1, v0)';
    case 'ge':
      return 'cmpLe(v1, v0)';
    case 'eq':
      return 'cmpEq(v0, v1)';
    case 'ne':
      return '1 - cmpEq(v0, v1)';
  }
}

const unaryKernel =
  (op: UnaryKernel): GpuJsKernelFn =>
  (call, gpu) =>
    elementwise(gpu, op, call.output, call.inputs, toOut(unaryExpr(op), call.output));

const binaryKernel =
  (op: BinaryKernel): GpuJsKernelFn =>
  (call, gpu) => {
    const int = isInt(call.inputs[0]) && isInt(call.inputs[1]);
    elementwise(gpu, op, call.output, call.inputs, toOut(binaryExpr(op, int), call.output));
  };

const whereKernel: GpuJsKernelFn = (call, gpu) =>
  elementwise(gpu, 'where', call.output, call.inputs, toOut('selectJs(v0, v1, v2)', call.output));

const copyKernel: GpuJsKernelFn = (call, gpu) =>
  elementwise(gpu, 'copy', call.output, call.inputs, toOut('v0', call.output));

const fillKernel: GpuJsKernelFn<'fill'> = (call, gpu) => {
  const v = call.attrs.value;
  elementwise(gpu, 'fill', call.output, [], 's0', [isInt(call.output) ? Math.trunc(v) : v]);
};

const arangeKernel: GpuJsKernelFn<'arange'> = (call, gpu) => {
  const { start, step } = call.attrs;
  elementwise(gpu, 'arange', call.output, [], toOut('s0 + e * s1', call.output), [start, step]);
};

const randomKernel: GpuJsKernelFn<'random'> = (call, gpu) => {
  const n = shapeSize(call.output.shape);
  const values = new Float32Array(n);
  philoxFill(values, n, call.attrs);
  hostToView(gpu, call.output, values);
};

// ---- reductions over the trailing `inner` elements of a contiguous [outer, inner] input --------

const REDUCE_BODY: Record<ReduceKernel, string> = {
  sum: 'let acc = 0; for (let j = 0; j < inner; j++) { acc += x[base + j]; } return acc;',
  max: 'let acc = -3.4e38; let nan = 0; for (let j = 0; j < inner; j++) { const v = x[base + j]; nan = Math.max(nan, isNan(v)); acc = Math.max(acc, v); } return nanOr(nan, acc);',
  min: 'let acc = 3.4e38; let nan = 0; for (let j = 0; j < inner; j++) { const v = x[base + j]; nan = Math.max(nan, isNan(v)); acc = Math.min(acc, v); } return nanOr(nan, acc);',
  argmax:
    'let acc = x[base]; let best = 0; for (let j = 1; j < inner; j++) { const v = x[base + j]; if (v > acc) { acc = v; best = j; } } return best;',
};

function reduceKernel(op: ReduceKernel): GpuJsKernelFn<ReduceKernel> {
  return (call, gpu) => {
    const [a] = call.inputs;
    const inner = call.attrs.inner;
    const outer = shapeSize(call.output.shape);
    if (outer === 0) return;
    gpu.checkLoop(inner, op);
    let body = REDUCE_BODY[op];
    if (inner === 0)
      body =
        op === 'sum' || op === 'argmax' ? 'return 0;' : `return ${op === 'max' ? '-' : ''}1 / 0;`;
    intoView(
      gpu,
      call.output,
      {
        key: `reduce:${op}:${inner === 0}`,
        args: [
          ['x', 'Texture'],
          ['xo', 'Float'],
          ['inner', 'Float'],
        ],
        source: () =>
          `function (x, xo, inner) {\n  const base = xo + this.thread.x * inner;\n  ${toOut(body, { dtype: 'float32' })}\n}`,
      },
      [gpu.texOf(a, op), a.offset, inner],
    );
  };
}

// ---- gather and scatter-add ---------------------------------------------------------------------

const gatherKernel: GpuJsKernelFn = (call, gpu) => {
  const [table, indices] = call.inputs;
  const R = table.shape[1];
  intoView(
    gpu,
    call.output,
    {
      key: 'gather',
      args: [
        ['t', 'Texture'],
        ['ix', 'Texture'],
        ['to', 'Float'],
        ['io', 'Float'],
        ['R', 'Float'],
      ],
      source: () => `function (t, ix, to, io, R) {
  const i = this.thread.x;
  const p = idiv(i, R);
  const j = i - p * R;
  const row = ix[io + p];
  return t[to + row * R + j];
}`,
    },
    [gpu.texOf(table, 'gather'), gpu.texOf(indices, 'gather'), table.offset, indices.offset, R],
  );
};

/**
 * Deterministic scatter-add without atomics (WebGL has none): a stable counting sort of the
 * positions by target row (start of each row's run, each position's slot, the inverse
 * permutation), then every output element adds its rows' sources in position order.
 * O(N^2 + V N + V R) work for N indices into V rows of R.
 */
const scatterAddKernel: GpuJsKernelFn = (call, gpu) => {
  const [indices] = call.inputs;
  const out = call.output;
  const V = out.shape[0];
  const R = out.shape[1];
  const N = indices.shape[0];
  if (N === 0 || V === 0 || R === 0) return;
  gpu.checkLoop(N, 'scatterAdd');
  const ix = gpu.texOf(indices, 'scatterAdd');
  const io = indices.offset;
  const view = (buf: ReturnType<GpuJsBackend['alloc']>, n: number) => ({
    buf,
    dtype: 'float32' as const,
    shape: [n],
    strides: [1],
    offset: 0,
  });
  const starts = gpu.alloc((V + 1) * 4);
  const pos = gpu.alloc(N * 4);
  const perm = gpu.alloc(N * 4);
  try {
    gpu.runInto(
      gpu.outOf(view(starts, V + 1)),
      {
        key: 'scatter-starts',
        args: [
          ['ix', 'Texture'],
          ['io', 'Float'],
          ['N', 'Float'],
        ],
        source: () => `function (ix, io, N) {
  const v = this.thread.x;
  let c = 0;
  for (let q = 0; q < N; q++) { c += cmpLt(ix[io + q], v); }
  return c;
}`,
      },
      [ix, io, N],
    );
    gpu.runInto(
      gpu.outOf(view(pos, N)),
      {
        key: 'scatter-pos',
        args: [
          ['ix', 'Texture'],
          ['io', 'Float'],
          ['N', 'Float'],
        ],
        source: () => `function (ix, io, N) {
  const p = this.thread.x;
  const x = ix[io + p];
  let c = 0;
  for (let q = 0; q < N; q++) {
    const y = ix[io + q];
    c += Math.max(cmpLt(y, x), cmpEq(y, x) * cmpLt(q, p));
  }
  return c;
}`,
      },
      [ix, io, N],
    );
    const posTex = gpu.texOf(view(pos, N));
    gpu.runInto(
      gpu.outOf(view(perm, N)),
      {
        key: 'scatter-perm',
        args: [
          ['pos', 'Texture'],
          ['N', 'Float'],
        ],
        source: () => `function (pos, N) {
  const s = this.thread.x;
  let r = 0;
  for (let p = 0; p < N; p++) { r += p * cmpEq(pos[p], s); }
  return r;
}`,
      },
      [posTex, N],
    );
    elementwiseScatter(gpu, call, starts, perm, R);
  } finally {
    gpu.free(starts);
    gpu.free(pos);
    gpu.free(perm);
  }
};

/** Step 4 of scatter-add: out[v, j] += src[perm[s], j] for s in the run of row v. */
function elementwiseScatter(
  gpu: GpuJsBackend,
  call: KernelCall,
  starts: ReturnType<GpuJsBackend['alloc']>,
  perm: ReturnType<GpuJsBackend['alloc']>,
  R: number,
): void {
  const [, src] = call.inputs;
  const out = call.output;
  const flat = (buf: typeof starts) => ({
    buf,
    dtype: 'float32' as const,
    shape: [1],
    strides: [1],
    offset: 0,
  });
  // Read `out` as an input at the same view: elements outside it keep their values.
  const outIn = gpu.texOf(out, 'scatterAdd');
  intoView(
    gpu,
    out,
    {
      key: 'scatter-add',
      args: [
        ['o', 'Texture'],
        ['src', 'Texture'],
        ['st', 'Texture'],
        ['pm', 'Texture'],
        ['oo', 'Float'],
        ['so', 'Float'],
        ['R', 'Float'],
      ],
      source: () => `function (o, src, st, pm, oo, so, R) {
  const i = this.thread.x;
  const v = idiv(i, R);
  const j = i - v * R;
  const s0 = st[v];
  const cnt = st[v + 1] - s0;
  let acc = o[oo + i];
  for (let t = 0; t < cnt; t++) { acc += src[so + pm[s0 + t] * R + j]; }
  return acc;
}`,
    },
    [
      outIn,
      gpu.texOf(src, 'scatterAdd'),
      gpu.texOf(flat(starts)),
      gpu.texOf(flat(perm)),
      out.offset,
      src.offset,
      R,
    ],
  );
}

/** Every primitive kernel of the gpu.js backend, by name. */
export const primitiveKernels: Record<string, GpuJsKernelFn> = {
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
