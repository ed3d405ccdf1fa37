/** The `random` kernel in WGSL: Philox 4x32-10, the stream of src/philox.ts on every backend. */
import { seedKey } from '../philox.js';
import { shapeSize } from '../shape.js';
import type { WebGpuKernel } from './backend.js';
import { bindViews, floatWord } from './bindings.js';
import { declare, LINEAR_INDEX } from './wgsl.js';

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

export const randomKernel: WebGpuKernel<'random'> = (call, gpu) => {
  const out = call.output;
  const n = shapeSize(out.shape);
  if (n === 0) return;
  const attrs = call.attrs;
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
