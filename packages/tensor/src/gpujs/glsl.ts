/**
 * Kernel-source helpers: gpu.js kernels are JavaScript functions (here built as strings, one per
 * kernel shape) that gpu.js translates to GLSL. Index arithmetic in them is float arithmetic
 * (gpu.js's number type), exact for integers below 2^24; `idiv` divides those exactly (a plain
 * float division then floor can land one below a whole quotient on GPUs).
 */
import type { TensorView } from '../backend.js';

/**
 * Native GLSL helpers added to the gpu.js instance (valid GLSL ES 1.0 and 3.0; `isNan` differs:
 * GLSL ES 3.0 has `isnan`, 1.0 compares bits of logic a compiler may not fold away). They give
 * the kernels JavaScript's semantics where GLSL leaves a case undefined or loose.
 */
export function nativeFunctions(webgl2: boolean): Record<string, string> {
  return {
    idiv: `float idiv(float x, float y) {
  float q = floor(x / y);
  float r = x - q * y;
  if (r < 0.0) { q -= 1.0; } else if (r >= y) { q += 1.0; }
  return q;
}`,
    isNan: webgl2
      ? 'float isNan(float x) { return isnan(x) ? 1.0 : 0.0; }'
      : 'float isNan(float x) { return (x != x || (x < 0.0 == x >= 0.0)) ? 1.0 : 0.0; }',
    nanOr: 'float nanOr(float nan, float x) { return nan > 0.5 ? (x - x) / (x - x) : x; }',
    // int32 division: truncation toward zero; x / 0 is 0 (what an Int32Array stores for it).
    idivJs: `float idivJs(float x, float y) {
  if (y == 0.0) { return 0.0; }
  float q = abs(x) / abs(y);
  float f = floor(q);
  if ((f + 1.0) * abs(y) <= abs(x)) { f += 1.0; } else if (f * abs(y) > abs(x)) { f -= 1.0; }
  return (x < 0.0) != (y < 0.0) ? -f : f;
}`,
    // JavaScript's ** for a negative base and an integral exponent (GLSL pow is undefined there).
    powJs: `float powJs(float a, float b) {
  if (b == 0.0) { return 1.0; }
  if (a < 0.0) {
    if (floor(b) != b) { return (b - b) / (b - b); }
    float r = pow(-a, b);
    return (mod(b, 2.0) == 1.0) ? -r : r;
  }
  if (a == 0.0) { return b < 0.0 ? 1.0 / a : 0.0; }
  return pow(a, b);
}`,
    // tanh without overflow of exp for large |x| (GLSL's can return NaN there).
    tanhSafe: `float tanhSafe(float x) {
  if (x > 10.0) { return 1.0; }
  if (x < -10.0) { return -1.0; }
  if (abs(x) < 0.0004) { return x; }
  float e = exp(2.0 * x);
  return (e - 1.0) / (e + 1.0);
}`,
    // sin and cos to ~1 ulp for |x| < 8192 (drivers' builtins may be off by 2^-11; SwiftShader's
    // are): Cephes sinf/cosf, octant reduction with pi/4 split in three parts.
    // sin and cos to ~1 ulp for |x| < 8192 (drivers' builtins may be off by 2^-11; SwiftShader's
    // are): Cephes sinf/cosf, octant reduction with pi/4 split in three parts. Self-contained:
    // gpu.js adds a native function only when the kernel itself calls it.
    sinAcc: trig('sinAcc', 'x < 0.0 ? -1.0 : 1.0', false),
    cosAcc: trig('cosAcc', '1.0', true),
    truncJs: 'float truncJs(float x) { return x < 0.0 ? -floor(-x) : floor(x); }',
    signJs: 'float signJs(float x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x); }',
    maxJs: `float maxJs(float a, float b) { return (a >= b || ${webgl2 ? 'isnan(a)' : 'a != a'}) ? a : b; }`,
    minJs: `float minJs(float a, float b) { return (a <= b || ${webgl2 ? 'isnan(a)' : 'a != a'}) ? a : b; }`,
    cmpLt: 'float cmpLt(float a, float b) { return a < b ? 1.0 : 0.0; }',
    cmpLe: 'float cmpLe(float a, float b) { return a <= b ? 1.0 : 0.0; }',
    cmpEq: 'float cmpEq(float a, float b) { return a == b ? 1.0 : 0.0; }',
    selectJs: 'float selectJs(float c, float a, float b) { return c != 0.0 ? a : b; }',
  };
}

function trig(name: string, sign: string, cos: boolean): string {
  return `float ${name}(float x) {
  if (abs(x) > 1e30) { return ${cos ? 'cos' : 'sin'}(x); }
  float ax = abs(x);
  float j = floor(ax * 1.2732395447351628);
  if (mod(j, 2.0) == 1.0) { j += 1.0; }
  float z = ((ax - j * 0.78515625) - j * 2.4187564849853515625e-4) - j * 3.77489497744594108e-8;
  j = mod(j, 8.0);
  float sgn = ${sign};
  if (j > 3.0) { sgn = -sgn; j -= 4.0; }
  ${cos ? 'if (j > 1.0) { sgn = -sgn; }' : ''}
  float zz = z * z;
  float s = ((-1.9515295891e-4 * zz + 8.3321608736e-3) * zz - 1.6666654611e-1) * zz * z + z;
  float c = ((2.443315711809948e-5 * zz - 1.388731625493765e-3) * zz + 4.166664568298827e-2) * zz * zz - 0.5 * zz + 1.0;
  bool other = j == 1.0 || j == 2.0;
  return sgn * (${cos ? 'other ? s : c' : 'other ? c : s'});
}`;
}

/** Dimensions (sizes) and strides per operand after dropping size-1 dims and merging. */
export interface Walk {
  shape: number[];
  strides: number[][];
}

/**
 * Orders the dimensions of `shape` by the first operand's stride (largest first: the walk over
 * an output buffer's elements), drops size-1 ones, and merges neighbours contiguous for every
 * operand. The result walks the same elements with as few dimensions as possible.
 */
export function walkDims(shape: readonly number[], strides: readonly (readonly number[])[]): Walk {
  const order = shape
    .map((_, i) => i)
    .filter((i) => shape[i] !== 1)
    .sort((a, b) => strides[0][b] - strides[0][a] || a - b);
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (const i of order) {
    const d = shape[i];
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
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [1]) };
  return { shape: dims, strides: st };
}

/** Whether `view` covers its buffer's first `elements` elements contiguously. */
export function coversBuffer(view: TensorView, elements: number, walk: Walk): boolean {
  const n = walk.shape.reduce((a, b) => a * b, 1);
  if (view.offset !== 0 || n !== elements) return false;
  const st = walk.strides[0];
  const R = walk.shape.length;
  for (let d = 0; d < R; d++) {
    if (st[d] !== (d === R - 1 ? 1 : st[d + 1] * walk.shape[d + 1])) return false;
  }
  return true;
}
