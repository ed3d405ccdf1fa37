/**
 * The primitive kernels on CUDA: host-side planning (merged strided views, launch geometry,
 * parameter structs in the field order of cuda/*.cu) for the kernels of cuda/elementwise.cu,
 * reduce.cu, index.cu and random.cu; matmul through cuBLAS (gemm-plan.ts).
 */
import type { KernelCall, ReduceKernel, TensorView } from '../backend.js';
import { BINARY_KERNELS, UNARY_KERNELS } from '../backend.js';
import type { DType } from '../dtype.js';
import { UnsupportedOpError } from '../errors.js';
import { seedKey } from '../philox.js';
import { shapeSize } from '../shape.js';
import type { CudaBackend, CudaKernel } from './backend.js';
import { mergeBatch, planGemm } from './gemm-plan.js';
import type { Args } from './params.js';

/** dtype codes of the kernels (DT_F32, DT_I32 in cuda/common.cuh). */
export function dtypeCode(d: DType): number {
  if (d === 'float32') return 0;
  if (d === 'int32') return 1;
  throw new TypeError(`cuda kernels store float32 and int32, not ${d}`);
}

export const EW_MAX_RANK = 8;

/** Merged shape and strides of an elementwise launch (axes contiguous for every operand fused). */
export function mergeViews(
  out: TensorView,
  views: readonly TensorView[],
): { shape: number[]; strides: number[][] } {
  const merged = mergeBatch(
    out.shape,
    views.map((v) => v.strides),
  );
  if (merged.shape.length === 0) return { shape: [1], strides: views.map(() => [0]) };
  return merged;
}

/**
 * Writes an EwParams struct: ptr[4], n, rank, shape[8], stride[4][8], offset[4], dtype[4], op,
 * scalar[2]. `views[0]` is the output.
 */
export function packElementwise(
  a: Args,
  cuda: CudaBackend,
  views: readonly TensorView[],
  op: number,
  scalars: readonly [number, number] = [0, 0],
  where = 'elementwise',
): void {
  const out = views[0]!;
  const { shape, strides } = mergeViews(out, views);
  if (shape.length > EW_MAX_RANK) {
    throw new RangeError(
      `${where}: the operands' layout needs ${shape.length} strided axes; the CUDA kernels take at most ${EW_MAX_RANK} (make an operand contiguous first)`,
    );
  }
  a.ints(
    views.map((v) => cuda.ptr(v, where)),
    4,
  );
  a.i(shapeSize(out.shape)).i(shape.length).ints(shape, EW_MAX_RANK, 1);
  for (let k = 0; k < 4; k++) a.ints(strides[k] ?? [], EW_MAX_RANK);
  a.ints(
    views.map((v) => v.offset),
    4,
  );
  a.ints(
    views.map((v) => dtypeCode(v.dtype)),
    4,
  );
  a.i(op).f(scalars[0]).f(scalars[1]);
}

function elementwise(
  cuda: CudaBackend,
  kernel: string,
  views: readonly TensorView[],
  op = 0,
  scalars?: [number, number],
): void {
  const n = shapeSize(views[0]!.shape);
  cuda.launch1d(kernel, n, (a) => packElementwise(a, cuda, views, op, scalars, kernel));
}

const unaryKernel =
  (op: number): CudaKernel =>
  (call, cuda) =>
    elementwise(cuda, 'lrw_unary', [call.output, call.inputs[0]!], op);

const binaryKernel =
  (op: number): CudaKernel =>
  (call, cuda) =>
    elementwise(cuda, 'lrw_binary', [call.output, call.inputs[0]!, call.inputs[1]!], op);

const whereKernel: CudaKernel = (call, cuda) =>
  elementwise(cuda, 'lrw_where', [call.output, ...call.inputs]);
const copyKernel: CudaKernel = (call, cuda) =>
  elementwise(cuda, 'lrw_copy', [call.output, call.inputs[0]!]);
const fillKernel: CudaKernel<'fill'> = (call, cuda) =>
  elementwise(cuda, 'lrw_fill', [call.output], 0, [call.attrs.value, 0]);
const arangeKernel: CudaKernel<'arange'> = (call, cuda) =>
  elementwise(cuda, 'lrw_arange', [call.output], 0, [call.attrs.start, call.attrs.step]);

// ---- reductions -------------------------------------------------------------------------------

const REDUCE_OPS = { sum: 0, max: 1, min: 2, argmax: 3 } as const;

function reduceKernel(op: keyof typeof REDUCE_OPS): CudaKernel<ReduceKernel> {
  return (call, cuda) => {
    const [x] = call.inputs as [TensorView];
    const out = call.output;
    const inner = call.attrs.inner;
    const rows = shapeSize(out.shape);
    // ReduceParams: out, in, rows, inner, inOffset, outOffset, op, dtypeIn, dtypeOut
    cuda.launchRows('lrw_reduce', rows, inner, (a) =>
      a
        .i(cuda.ptr(out, op))
        .i(cuda.ptr(x, op))
        .i(rows)
        .i(inner)
        .i(x.offset)
        .i(out.offset)
        .i(REDUCE_OPS[op])
        .i(dtypeCode(x.dtype))
        .i(dtypeCode(out.dtype)),
    );
  };
}

// ---- random (Philox 4x32-10, the stream of src/philox.ts) ---------------------------------------

const randomKernel: CudaKernel = (call, cuda) => {
  const out = call.output;
  const n = shapeSize(out.shape);
  const attrs = call.attrs as { seed: number; offset: number; dist: string; a: number; b: number };
  const [k0, k1] = seedKey(attrs.seed);
  const normal = attrs.dist === 'normal';
  const counters = normal ? n : Math.ceil(n / 4);
  // RandomParams: out, n, outOffset, offset, k0, k1, normal, dtype, a, b
  cuda.launch1d('lrw_random', counters, (a) =>
    a
      .i(cuda.ptr(out, 'random'))
      .i(n)
      .i(out.offset)
      .i(attrs.offset)
      .i(k0)
      .i(k1)
      .i(normal ? 1 : 0)
      .i(dtypeCode(out.dtype))
      .f(attrs.a)
      .f(attrs.b),
  );
};

// ---- gather and scatter-add -----------------------------------------------------------------------

const gatherKernel: CudaKernel = (call, cuda) => {
  const [table, indices] = call.inputs as [TensorView, TensorView];
  const out = call.output;
  const V = table.shape[0]!;
  const R = table.shape[1]!;
  const N = indices.shape[0]!;
  // GatherParams: out, table, idx, err, n, R, V, outOffset, tableOffset, idxOffset
  cuda.launch1d('lrw_gather', N * R, (a) =>
    a
      .i(cuda.ptr(out, 'gather'))
      .i(cuda.ptr(table, 'gather'))
      .i(cuda.ptr(indices, 'gather'))
      .i(cuda.errorFlag)
      .i(N * R)
      .i(R)
      .i(V)
      .i(out.offset)
      .i(table.offset)
      .i(indices.offset),
  );
};

const scatterAddKernel: CudaKernel = (call, cuda) => {
  const [indices, src] = call.inputs as [TensorView, TensorView];
  const out = call.output;
  const V = out.shape[0]!;
  const R = out.shape[1]!;
  const N = indices.shape[0]!;
  if (N === 0 || V === 0 || R === 0) return;
  if (V * R >= 2 ** 31 || N >= 2 ** 31)
    throw new RangeError('scatterAdd: more than 2^31 - 1 elements in one launch');
  const counts = cuda.alloc((V + 1) * 4);
  const starts = cuda.alloc((V + 1) * 4);
  const perm = cuda.alloc(N * 4);
  try {
    cuda.memset32(cuda.ptr(counts), 0, V + 1);
    // ScatterParams: out, src, idx, counts, starts, perm, err, N, V, R, outOffset, srcOffset, idxOffset, dtype
    const pack = (a: Args) =>
      a
        .i(cuda.ptr(out, 'scatterAdd'))
        .i(cuda.ptr(src, 'scatterAdd'))
        .i(cuda.ptr(indices, 'scatterAdd'))
        .i(cuda.ptr(counts))
        .i(cuda.ptr(starts))
        .i(cuda.ptr(perm))
        .i(cuda.errorFlag)
        .i(N)
        .i(V)
        .i(R)
        .i(out.offset)
        .i(src.offset)
        .i(indices.offset)
        .i(dtypeCode(out.dtype));
    const blocks = Math.ceil(N / 256);
    cuda.launch('lrw_scatter_count', [blocks, 1, 1], 256, pack);
    cuda.launch('lrw_scatter_scan', [1, 1, 1], 1024, pack);
    cuda.launch('lrw_scatter_place', [blocks, 1, 1], 256, pack);
    cuda.launch1d('lrw_scatter_add', V * R, pack);
  } finally {
    // Stream order: later users of these blocks run after the launches above.
    cuda.free(counts);
    cuda.free(starts);
    cuda.free(perm);
  }
};

// ---- matmul (cuBLAS) ------------------------------------------------------------------------------

/** out = a x b with cuBLAS (`accumulate`: out += a x b); copies an operand cuBLAS cannot read. */
export function gemm(
  cuda: CudaBackend,
  a: TensorView,
  b: TensorView,
  out: TensorView,
  accumulate = false,
): void {
  for (const v of [a, b, out]) {
    if (v.dtype !== 'float32') {
      throw new UnsupportedOpError(
        'matmul',
        v.dtype,
        cuda.name,
        'cuBLAS products are float32 (cast int32 operands first)',
      );
    }
  }
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = a.shape[r - 1]!;
  if (M === 0 || N === 0 || shapeSize(out.shape) === 0) return;
  if (K === 0) {
    if (!accumulate) elementwise(cuda, 'lrw_fill', [out], 0, [0, 0]);
    return;
  }
  const plan = planGemm(a, b, out);
  if ('needsCopy' in plan) {
    const copies: { view: TensorView; buf: ReturnType<CudaBackend['alloc']> }[] = [];
    const dense = (v: TensorView): TensorView => {
      const buf = cuda.alloc(shapeSize(v.shape) * 4);
      const strides: number[] = [];
      let s = 1;
      for (let i = v.shape.length - 1; i >= 0; i--) {
        strides.unshift(s);
        s *= v.shape[i]!;
      }
      const view: TensorView = { buf, dtype: v.dtype, shape: v.shape, strides, offset: 0 };
      elementwise(cuda, 'lrw_copy', [view, v]);
      copies.push({ view, buf });
      return view;
    };
    try {
      gemm(
        cuda,
        plan.needsCopy.includes('a') ? dense(a) : a,
        plan.needsCopy.includes('b') ? dense(b) : b,
        out,
        accumulate,
      );
    } finally {
      for (const c of copies) cuda.free(c.buf);
    }
    return;
  }
  const pa = cuda.ptr(a, 'matmul');
  const pb = cuda.ptr(b, 'matmul');
  const pc = cuda.ptr(out, 'matmul');
  // The planned call's first operand is row-major b, its second row-major a.
  for (const c of plan.calls) cuda.cublas.gemm(c, pb, pa, pc, accumulate);
  cuda.launches += plan.calls.length;
  cuda.launchCounts.set(
    'cublasSgemmStridedBatched',
    (cuda.launchCounts.get('cublasSgemmStridedBatched') ?? 0) + plan.calls.length,
  );
}

const matmulKernel: CudaKernel = (call, cuda) =>
  gemm(cuda, call.inputs[0]!, call.inputs[1]!, call.output);

/** Every primitive kernel of the CUDA backend, by name. */
export const primitiveKernels: Record<string, CudaKernel> = {
  ...Object.fromEntries(UNARY_KERNELS.map((k, i) => [k, unaryKernel(i)])),
  ...Object.fromEntries(BINARY_KERNELS.map((k, i) => [k, binaryKernel(i)])),
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
