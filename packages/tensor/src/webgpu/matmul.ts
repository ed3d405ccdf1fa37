/**
 * Batched matmul `[...batch, M, K] x [...batch, K, N] -> [...batch, M, N]` for any operand
 * strides (transposes are swapped strides, broadcast batches stride 0). Each invocation owns a
 * 4x4 tile of C in registers. When M, N, K and every offset/stride of the 4-wide axes are
 * multiples of 4, operands are read as vec4 words along their contiguous axis: row-major A
 * (`x W`), column-major A (`A^T g`), row-major B, or column-major B (`x W^T`, `q k^T`); otherwise
 * a strided kernel with the same tiling reads scalars with clamped indices.
 */
import type { KernelCall } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { LaunchBuffer, WebGpuBackend } from './backend.js';
import { mergeDims } from './bindings.js';
import { declare } from './wgsl.js';

type Layout = 'row' | 'col';

const TILE_WG = 8;

function fastLayout(
  sInner: number,
  sOuter: number,
  offsets: number[],
  batchStrides: number[],
): Layout | null {
  const ok4 = (x: number) => x % 4 === 0;
  if (!offsets.every(ok4) || !batchStrides.every(ok4)) return null;
  if (sInner === 1 && ok4(sOuter)) return 'row';
  if (sOuter === 1 && ok4(sInner)) return 'col';
  return null;
}

export function matmulKernel(call: KernelCall, gpu: WebGpuBackend): void {
  const [a, b] = call.inputs;
  const out = call.output;
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N = out.shape[r - 1];
  const K = a.shape[r - 1];
  if (M === 0 || N === 0) return;
  const batchShape = out.shape.slice(0, r - 2);
  const merged = mergeDims(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2)]);
  const RB = batchShape.length === 0 ? 0 : merged.shape.length;
  const bShape = RB ? merged.shape : [];
  const [aB, bB] = RB ? merged.strides : [[], []];
  const batches = shapeSize(batchShape);
  const asM = a.strides[r - 2];
  const asK = a.strides[r - 1];
  const bsK = b.strides[r - 2];
  const bsN = b.strides[r - 1];
  // A is "row" when its K axis is contiguous (inner = K axis), "col" when its M axis is.
  const aLay = M % 4 === 0 && K % 4 === 0 ? fastLayout(asK, asM, [a.offset], aB) : null;
  // B is "row" when its N axis is contiguous, "col" when its K axis is.
  const bLay = N % 4 === 0 && K % 4 === 0 ? fastLayout(bsN, bsK, [b.offset], bB) : null;
  const fast = aLay !== null && bLay !== null && K > 0;
  const buffers: LaunchBuffer[] = [
    { buf: gpu.gpuOf(a, 'matmul'), write: false, vec4: fast },
    { buf: gpu.gpuOf(b, 'matmul'), write: false, vec4: fast },
    { buf: gpu.gpuOf(out, 'matmul'), write: true },
  ];
  const maxZ = gpu.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.ceil(N / 4 / TILE_WG);
  const gy = Math.ceil(M / 4 / TILE_WG);
  if (gx > maxZ || gy > maxZ) {
    throw new RangeError(
      `matmul: ${M}x${N} output needs ${gy}x${gx} workgroups, more than maxComputeWorkgroupsPerDimension (${maxZ}); split the product`,
    );
  }
  const key = `matmul:${fast ? `${aLay}${bLay}` : 'strided'}:${RB}`;
  for (let base = 0; base < batches; base += maxZ) {
    const nz = Math.min(maxZ, batches - base);
    gpu.launch({
      key,
      buffers,
      grid: [gx, gy, nz],
      params: [
        M,
        N,
        K,
        a.offset,
        asM,
        asK,
        b.offset,
        bsK,
        bsN,
        out.offset,
        base,
        ...bShape,
        ...aB,
        ...bB,
      ],
      code: () => matmulSource(fast ? aLay : null, fast ? bLay : null, RB),
    });
  }
}

function matmulSource(aLay: Layout | null, bLay: Layout | null, RB: number): string {
  const fast = aLay !== null && bLay !== null;
  const lines: string[] = [
    declare([
      { binding: 1, write: false, vec4: fast },
      { binding: 2, write: false, vec4: fast },
      { binding: 3, write: true },
    ]),
    `@compute @workgroup_size(${TILE_WG}, ${TILE_WG}, 1)`,
    'fn main(@builtin(global_invocation_id) g: vec3u) {',
    '  let M = P[0]; let N = P[1]; let K = P[2];',
    '  let col0 = i32(g.x) * 4; let row0 = i32(g.y) * 4;',
    '  if (row0 >= M || col0 >= N) { return; }',
    '  let bi = i32(g.z) + P[10];',
    '  var ao = P[3]; var bo = P[6];',
  ];
  if (RB > 0) {
    lines.push('  var rem = bi;');
    for (let d = RB - 1; d >= 0; d--) {
      const s = `P[${11 + d}]`;
      lines.push(
        d > 0
          ? `  { let c = rem % ${s}; rem = rem / ${s}; ao += c * P[${11 + RB + d}]; bo += c * P[${11 + 2 * RB + d}]; }`
          : `  ao += rem * P[${11 + RB}]; bo += rem * P[${11 + 2 * RB}];`,
      );
    }
  }
  lines.push('  let asM = P[4]; let asK = P[5]; let bsK = P[7]; let bsN = P[8];');
  lines.push(
    '  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);',
  );
  if (fast) {
    lines.push('  for (var k = 0; k < K; k = k + 4) {');
    const comp = ['x', 'y', 'z', 'w'];
    // A block values A(r, kk) as scalar expressions.
    let A: (r: number, kk: number) => string;
    if (aLay === 'row') {
      for (let q = 0; q < 4; q++)
        lines.push(`    let a${q} = bitcast<vec4<f32>>(b1[(ao + (row0 + ${q}) * asM + k) / 4]);`);
      A = (rr, kk) => `a${rr}.${comp[kk]}`;
    } else {
      for (let q = 0; q < 4; q++)
        lines.push(`    let a${q} = bitcast<vec4<f32>>(b1[(ao + (k + ${q}) * asK + row0) / 4]);`);
      A = (rr, kk) => `a${kk}.${comp[rr]}`;
    }
    // B rows over N at k + kk as vec4 expressions.
    if (bLay === 'row') {
      for (let q = 0; q < 4; q++)
        lines.push(`    let r${q} = bitcast<vec4<f32>>(b2[(bo + (k + ${q}) * bsK + col0) / 4]);`);
    } else {
      for (let q = 0; q < 4; q++)
        lines.push(`    let t${q} = bitcast<vec4<f32>>(b2[(bo + (col0 + ${q}) * bsN + k) / 4]);`);
      for (let q = 0; q < 4; q++)
        lines.push(
          `    let r${q} = vec4<f32>(t0.${comp[q]}, t1.${comp[q]}, t2.${comp[q]}, t3.${comp[q]});`,
        );
    }
    for (let rr = 0; rr < 4; rr++) {
      lines.push(
        `    c${rr} = c${rr} + ${A(rr, 0)} * r0 + ${A(rr, 1)} * r1 + ${A(rr, 2)} * r2 + ${A(rr, 3)} * r3;`,
      );
    }
    lines.push('  }');
  } else {
    lines.push('  let m1 = M - 1; let n1 = N - 1;');
    lines.push('  let ar0 = ao + min(row0, m1) * asM; let ar1 = ao + min(row0 + 1, m1) * asM;');
    lines.push('  let ar2 = ao + min(row0 + 2, m1) * asM; let ar3 = ao + min(row0 + 3, m1) * asM;');
    lines.push('  let bc0 = bo + min(col0, n1) * bsN; let bc1 = bo + min(col0 + 1, n1) * bsN;');
    lines.push('  let bc2 = bo + min(col0 + 2, n1) * bsN; let bc3 = bo + min(col0 + 3, n1) * bsN;');
    lines.push('  for (var k = 0; k < K; k = k + 1) {');
    lines.push('    let ak = k * asK; let bk = k * bsK;');
    lines.push(
      '    let bv = vec4<f32>(bitcast<f32>(b2[bc0 + bk]), bitcast<f32>(b2[bc1 + bk]), bitcast<f32>(b2[bc2 + bk]), bitcast<f32>(b2[bc3 + bk]));',
    );
    for (let rr = 0; rr < 4; rr++)
      lines.push(`    c${rr} = c${rr} + bitcast<f32>(b1[ar${rr} + ak]) * bv;`);
    lines.push('  }');
  }
  lines.push('  let co = P[9] + bi * M * N;');
  lines.push('  var cs = array<vec4<f32>, 4>(c0, c1, c2, c3);');
  lines.push('  for (var rr = 0; rr < 4; rr++) {');
  lines.push('    let row = row0 + rr;');
  lines.push('    if (row < M) {');
  lines.push('      let v = cs[rr];');
  lines.push('      let o = co + row * N + col0;');
  lines.push('      b3[o] = bitcast<u32>(v.x);');
  lines.push('      if (col0 + 1 < N) { b3[o + 1] = bitcast<u32>(v.y); }');
  lines.push('      if (col0 + 2 < N) { b3[o + 2] = bitcast<u32>(v.z); }');
  lines.push('      if (col0 + 3 < N) { b3[o + 3] = bitcast<u32>(v.w); }');
  lines.push('    }');
  lines.push('  }');
  lines.push('}');
  return lines.join('\n');
}
