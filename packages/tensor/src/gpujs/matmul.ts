/**
 * Batched matmul with strided (transposed, broadcast) operands. When N is a multiple of 4 each
 * thread computes a 1x4 tile (four neighbouring outputs of one row, one RGBA texel): A's element
 * is fetched once per k for four products, a quarter of the A fetches of one output per thread.
 */
import type { TensorView } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { GpuJsKernelFn, KernelSpec } from './backend.js';
import { intoView } from './elementwise.js';
import { walkDims } from './glsl.js';

export const matmulKernel: GpuJsKernelFn = (call, gpu) => {
  const [a, b] = call.inputs as [TensorView, TensorView];
  const out = call.output;
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N = out.shape[r - 1];
  const K = a.shape[a.shape.length - 1];
  if (shapeSize(out.shape) === 0) return;
  const batch = out.shape.slice(0, r - 2);
  const aB = a.strides.slice(0, a.strides.length - 2);
  const bB = b.strides.slice(0, b.strides.length - 2);
  const oB = out.strides.slice(0, r - 2);
  const walk = walkDims(batch, [oB, aB, bB]);
  const nb = batch.length === 0 || shapeSize(batch) === 1 ? 0 : walk.shape.length;
  const names: string[] = [];
  const values: unknown[] = [];
  const num = (n: string, v: number) => {
    names.push(n);
    values.push(v);
  };
  names.push('a', 'b');
  values.push(gpu.texOf(a, 'matmul'), gpu.texOf(b, 'matmul'));
  num('ao', a.offset);
  num('bo', b.offset);
  num('M', M);
  num('N', N);
  num('K', K);
  num('asm', a.strides[a.strides.length - 2]);
  num('ask', a.strides[a.strides.length - 1]);
  num('bsk', b.strides[b.strides.length - 2]);
  num('bsn', b.strides[b.strides.length - 1]);
  for (let q = 0; q < nb; q++) {
    num(`bd${q}`, walk.shape[q]);
    num(`as${q}`, walk.strides[1][q]);
    num(`bs${q}`, walk.strides[2][q]);
  }
  const vec4 = N % 4 === 0;
  gpu.checkLoop(K, 'matmul');
  const ob = gpu.outOf(out, 'matmul');
  const covers = out.offset === 0 && shapeSize(out.shape) === ob.elements;
  const decompose = (first: string) => {
    const lines = [
      `let r = ${first};`,
      'const q0 = idiv(r, N);',
      'const n = r - q0 * N;',
      'r = q0;',
      'const q1 = idiv(r, M);',
      'const m = r - q1 * M;',
      'r = q1;',
      'let aBase = ao + m * asm;',
      'let bBase = bo + n * bsn;',
    ];
    for (let q = nb - 1; q >= 0; q--) {
      lines.push(
        `const p${q} = idiv(r, bd${q});`,
        `const c${q} = r - p${q} * bd${q};`,
        `r = p${q};`,
        `aBase += c${q} * as${q};`,
        `bBase += c${q} * bs${q};`,
      );
    }
    return lines;
  };
  const args = names.map((n, i) => [n, i < 2 ? 'Texture' : 'Float'] as const);
  if (vec4 && covers) {
    const spec: KernelSpec = {
      key: `matmul4:${nb}`,
      vec4: true,
      args,
      source: () => `function (${names.join(', ')}) {
  ${decompose('this.thread.x * 4').join('\n  ')}
  let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0;
  for (let k = 0; k < K; k++) {
    const x = a[aBase + k * ask];
    const bk = bBase + k * bsk;
    s0 += x * b[bk];
    s1 += x * b[bk + bsn];
    s2 += x * b[bk + 2 * bsn];
    s3 += x * b[bk + 3 * bsn];
  }
  return [s0, s1, s2, s3];
}`,
    };
    gpu.runInto(ob, spec, values);
    return;
  }
  const spec: KernelSpec = {
    key: `matmul:${nb}`,
    args,
    source: () => `function (${names.join(', ')}) {
  ${decompose('this.thread.x').join('\n  ')}
  let s = 0;
  for (let k = 0; k < K; k++) { s += a[aBase + k * ask] * b[bBase + k * bsk]; }
  return s;
}`,
  };
  intoView(gpu, out, spec, values);
};
