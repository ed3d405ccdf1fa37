/**
 * WGSL building blocks shared by the kernels: storage declarations over raw u32 words (every
 * operand is bound as `array<u32>` and bit-cast on load/store, so one buffer can back views of
 * any dtype and an in-place op binds its buffer once), the per-dispatch parameter block, the
 * strided-index loop, row reductions, and float helpers that behave the same on every driver.
 */

export type WgslType = 'f32' | 'i32';

/** A binding slot: group 0, `binding`, read-only or read-write, scalar or vec4 words. */
export interface Binding {
  binding: number;
  write: boolean;
  vec4?: boolean;
}

/** `@group(0) @binding(0)` is always the parameter block `P` (i32 words). */
export function declare(bindings: readonly Binding[]): string {
  const lines = ['@group(0) @binding(0) var<storage, read> P: array<i32>;'];
  for (const b of bindings) {
    const access = b.write ? 'read_write' : 'read';
    const elem = b.vec4 ? 'vec4<u32>' : 'u32';
    lines.push(
      `@group(0) @binding(${b.binding}) var<storage, ${access}> b${b.binding}: array<${elem}>;`,
    );
  }
  return lines.join('\n');
}

/** `fn ${name}(i: i32) -> T` reading element i of binding `b` as `type`. */
export function loader(name: string, b: number, type: WgslType): string {
  return `fn ${name}(i: i32) -> ${type} { return bitcast<${type}>(b${b}[i]); }`;
}

/** `fn ${name}(i: i32, v: T)` writing element i of binding `b`. */
export function storer(name: string, b: number, type: WgslType): string {
  return `fn ${name}(i: i32, v: ${type}) { b${b}[i] = bitcast<u32>(v); }`;
}

/** Conversion of an expression of type `from` to `to` (float -> int truncates toward zero). */
export function convert(expr: string, from: WgslType, to: WgslType): string {
  if (from === to) return expr;
  return `${to}(${expr})`;
}

/**
 * Helpers: NaN tests on the bits (compilers may fold `x != x`), +-inf constants, and pow with
 * JavaScript's semantics for negative bases and zero.
 */
export const FLOAT_HELPERS = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn pos_inf() -> f32 { var u = 0x7f800000u; return bitcast<f32>(u); }
fn neg_inf() -> f32 { var u = 0xff800000u; return bitcast<f32>(u); }
fn nan_f() -> f32 { var u = 0x7fc00000u; return bitcast<f32>(u); }
fn pow_js(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return nan_f(); }
  let ax = abs(x);
  var r: f32;
  if (ax == 0.0) { r = select(0.0, pos_inf(), y < 0.0); } else { r = pow(ax, y); }
  if (x < 0.0 || (x == 0.0 && (bitcast<u32>(x) & 0x80000000u) != 0u)) {
    if (fract(y) != 0.0) { return select(nan_f(), r, ax == 0.0); }
    if (fract(y * 0.5) != 0.0) { r = -r; }
  }
  return r;
}
fn tanh_safe(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
// sin and cos to ~1 ulp for |x| < 8192 on every driver (Vulkan lets builtins be off by 2^-11):
// Cephes sinf/cosf, octant reduction with pi/4 split in three parts.
fn trig_reduce(ax: f32) -> vec2<f32> {
  var j = u32(ax * 1.2732395447351628);
  var y = f32(j);
  if ((j & 1u) == 1u) { j = j + 1u; y = y + 1.0; }
  let z = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  return vec2<f32>(z, f32(j & 7u));
}
fn sin_poly(z: f32) -> f32 {
  let zz = z * z;
  return ((-1.9515295891e-4 * zz + 8.3321608736e-3) * zz - 1.6666654611e-1) * zz * z + z;
}
fn cos_poly(z: f32) -> f32 {
  let zz = z * z;
  return ((2.443315711809948e-5 * zz - 1.388731625493765e-3) * zz + 4.166664568298827e-2) * zz * zz - 0.5 * zz + 1.0;
}
fn sin_acc(x: f32) -> f32 {
  if (is_nan(x) || abs(x) > 1e30) { return sin(x); }
  let r = trig_reduce(abs(x));
  var j = u32(r.y);
  var sgn = select(1.0, -1.0, x < 0.0);
  if (j > 3u) { sgn = -sgn; j = j - 4u; }
  let v = select(sin_poly(r.x), cos_poly(r.x), j == 1u || j == 2u);
  return sgn * v;
}
fn cos_acc(x: f32) -> f32 {
  if (is_nan(x) || abs(x) > 1e30) { return cos(x); }
  let r = trig_reduce(abs(x));
  var j = u32(r.y);
  var sgn = 1.0;
  if (j > 3u) { sgn = -sgn; j = j - 4u; }
  if (j > 1u) { sgn = -sgn; }
  let v = select(cos_poly(r.x), sin_poly(r.x), j == 1u || j == 2u);
  return sgn * v;
}
fn exp_safe(x: f32) -> f32 { return exp(min(x, 88.72)); }
`;

/**
 * The invocation index of a 1-D launch spread over a 2-D grid: P[0] holds the grid's width in
 * invocations (the dispatch splits into rows of workgroups past maxComputeWorkgroupsPerDimension).
 */
export const LINEAR_INDEX = 'i32(g.y) * P[0] + i32(g.x)';

/**
 * A workgroup tree reduction of f32 `v` over LANES lanes, in `red_f`: `step` runs for each pair
 * (lane < s) with `a` = red_f[lane], `b` = red_f[lane + s] in scope and stores into red_f[lane].
 */
function treeReduction(name: string, step: string): string {
  return `fn ${name}(v: f32, lane: i32) -> f32 {
  red_f[lane] = v;
  workgroupBarrier();
  for (var s = LANES / 2; s > 0; s = s / 2) {
    if (lane < s) {
      let a = red_f[lane];
      let b = red_f[lane + s];
      ${step}
    }
    workgroupBarrier();
  }
  let r = red_f[0];
  workgroupBarrier();
  return r;
}`;
}

/**
 * Row-reduction helpers for kernels that process one row per workgroup (`lanes` > 1, tree
 * reduction in workgroup memory) or one row per invocation (`lanes` = 1: the helpers are
 * identities). Each call must be reached by every invocation of the workgroup.
 */
export function rowHelpers(lanes: number): string {
  if (lanes === 1) {
    return /* wgsl */ `
const LANES: i32 = 1;
fn red_sum(v: f32, lane: i32) -> f32 { return v; }
fn red_max(v: f32, lane: i32) -> f32 { return v; }
fn red_min(v: f32, lane: i32) -> f32 { return v; }
fn red_argmax(v: f32, idx: i32, lane: i32) -> i32 { return idx; }
`;
  }
  return /* wgsl */ `
const LANES: i32 = ${lanes};
var<workgroup> red_f: array<f32, ${lanes}>;
var<workgroup> red_i: array<i32, ${lanes}>;
${treeReduction('red_sum', 'red_f[lane] = a + b;')}
${treeReduction('red_max', 'if (b > a || is_nan(b)) { red_f[lane] = b; }')}
${treeReduction('red_min', 'if (b < a || is_nan(b)) { red_f[lane] = b; }')}
// The first index of the maximum (ties keep the smaller index); NaNs are never picked.
fn red_argmax(v: f32, idx: i32, lane: i32) -> i32 {
  red_f[lane] = v;
  red_i[lane] = idx;
  workgroupBarrier();
  for (var s = LANES / 2; s > 0; s = s / 2) {
    if (lane < s) {
      let a = red_f[lane];
      let b = red_f[lane + s];
      let ib = red_i[lane + s];
      if (b > a || (b == a && ib < red_i[lane])) { red_f[lane] = b; red_i[lane] = ib; }
    }
    workgroupBarrier();
  }
  let r = red_i[0];
  workgroupBarrier();
  return r;
}
`;
}

/**
 * Entry point of a row kernel: `row` (skipping past P[1] rows) and `lane` in 0..LANES.
 * Rows per workgroup: `wg` invocations each (lanes = 1) or one row (lanes > 1, `wg` = lanes).
 */
export function rowEntry(lanes: number, wg: number): string {
  if (lanes === 1) {
    return /* wgsl */ `
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let row = i32(g.y) * P[0] + i32(g.x);
  let lane = 0;
  if (row >= P[1]) { return; }`;
  }
  // P[0] and P[1] go through workgroupUniformLoad so the early return stays in uniform control
  // flow (storage reads are non-uniform to WGSL's analysis) and the barriers after it are valid.
  return /* wgsl */ `
var<workgroup> wg_p: vec2<i32>;
@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_index) li: u32) {
  if (li == 0u) { wg_p = vec2<i32>(P[0], P[1]); }
  let pu = workgroupUniformLoad(&wg_p);
  let row = i32(w.y) * pu.x + i32(w.x);
  let lane = i32(li);
  if (row >= pu.y) { return; }`;
}
