// Kernels built on an f32x4 vector exp: row-wise log-sum-exp and softmax gradient over float32
// logits, for the fused vocabulary head + cross-entropy (one row = one token's V logits,
// V = 50304 for GPT-2: the exp of every logit is the hot loop there, 2 x N x V per training
// step), and GELU (tanh form) forward and backward. V8 runs Math.exp over a Float32Array at
// ~10-30 ns per element; the vector exp costs ~1.
// Pointers are byte offsets of float32 arrays in the (imported) memory. The small helpers below
// are left to binaryen's -O3 inliner (Biome cannot parse AssemblyScript's @inline on functions).

// Cephes expf: x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-6 polynomial (~1 ulp), times
// 2^n built in the exponent bits. Inputs are clamped to [-87.3, 88.3], so -126 <= n <= 127 and
// the result is finite and normal (2^-126 .. 2.2e38).
const LOG2E: f32 = <f32>Math.LOG2E;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
const P0: f32 = 1.98756915e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const e = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(e, scale);
}

function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** Largest of n floats at x. */
function rowMax(x: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const o = x + ((<usize>i) << 2);
    m0 = f32x4.max(m0, v128.load(o));
    m1 = f32x4.max(m1, v128.load(o, 16));
  }
  const m = f32x4.max(m0, m1);
  let s = max(
    max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)),
    max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)),
  );
  for (; i < n; i++) s = max(s, load<f32>(x + ((<usize>i) << 2)));
  return s;
}

/**
 * out[r] = log(sum_v exp(L[r, v])) for `rows` rows of V floats, computed as max + log(sum
 * exp(L - max)). Partial sums of 512 elements go into a float64 total, so long rows keep float32
 * accuracy.
 */
export function logSumExpRows(logits: usize, rows: i32, V: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const x = logits + <usize>r * <usize>V * 4;
    const mx = rowMax(x, V);
    const vm = f32x4.splat(mx);
    let total: f64 = 0;
    let i = 0;
    const n8 = V & ~7;
    while (i < n8) {
      const end = min(i + 512, n8);
      let a0 = f32x4.splat(0);
      let a1 = a0;
      for (; i < end; i += 8) {
        const o = x + ((<usize>i) << 2);
        a0 = f32x4.add(a0, vexp(f32x4.sub(v128.load(o), vm)));
        a1 = f32x4.add(a1, vexp(f32x4.sub(v128.load(o, 16), vm)));
      }
      const a = f32x4.add(a0, a1);
      total +=
        <f64>f32x4.extract_lane(a, 0) +
        <f64>f32x4.extract_lane(a, 1) +
        <f64>f32x4.extract_lane(a, 2) +
        <f64>f32x4.extract_lane(a, 3);
    }
    for (; i < V; i++) total += <f64>sexp(load<f32>(x + ((<usize>i) << 2)) - mx);
    store<f32>(out + ((<usize>r) << 2), <f32>(<f64>mx + Math.log(total)));
  }
}

/**
 * In place: L[r, v] = g[r] exp(L[r, v] - z[r]) (the softmax times the upstream gradient, given
 * the row's log-sum-exp z); rows with g[r] = 0 become 0 without evaluating exp.
 */
export function softmaxGradRows(logits: usize, rows: i32, V: i32, z: usize, g: usize): void {
  for (let r = 0; r < rows; r++) {
    const x = logits + <usize>r * <usize>V * 4;
    const gr = load<f32>(g + ((<usize>r) << 2));
    const n8 = V & ~7;
    let i = 0;
    if (gr === 0) {
      memory.fill(x, 0, (<usize>V) << 2);
      continue;
    }
    const zr = load<f32>(z + ((<usize>r) << 2));
    const vz = f32x4.splat(zr);
    const vg = f32x4.splat(gr);
    for (; i < n8; i += 8) {
      const o = x + ((<usize>i) << 2);
      v128.store(o, f32x4.mul(vg, vexp(f32x4.sub(v128.load(o), vz))));
      v128.store(o, f32x4.mul(vg, vexp(f32x4.sub(v128.load(o, 16), vz))), 16);
    }
    for (; i < V; i++) {
      const o = x + ((<usize>i) << 2);
      store<f32>(o, gr * sexp(load<f32>(o) - zr));
    }
  }
}

// GELU, tanh approximation: y = 0.5 x (1 + tanh(u)), u = c (x + a x^3), evaluated as
// y = x s with s = (1 + tanh(u)) / 2 = 1 / (1 + e), e = exp(-2u): no cancellation where tanh(u)
// is near -1 (large negative x); exp saturates through the clamp. Backward recomputes e (one
// more exp, nothing saved but x) and uses 1 - tanh(u)^2 = 4 s (1 - s) with 1 - s = e s, exact
// where s is near 1: gelu'(x) = s + 2 x s (e s) c (1 + 3 a x^2).
const GELU_C: f32 = 0.7978845608028654;
const GELU_A: f32 = 0.044715;

function vgeluExp(v: v128): v128 {
  const v3 = f32x4.mul(f32x4.mul(v, v), v);
  const u = f32x4.mul(f32x4.splat(GELU_C), f32x4.add(v, f32x4.mul(f32x4.splat(GELU_A), v3)));
  return vexp(f32x4.neg(f32x4.add(u, u)));
}

function vgelu(v: v128): v128 {
  return f32x4.div(v, f32x4.add(vgeluExp(v), f32x4.splat(1)));
}

function vgeluGrad(v: v128): v128 {
  const e = vgeluExp(v);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(e, f32x4.splat(1)));
  const du = f32x4.mul(
    f32x4.splat(2 * GELU_C),
    f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * GELU_A), f32x4.mul(v, v))),
  );
  return f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.mul(v, s), f32x4.mul(e, s)), du));
}

/** y = gelu(x) over n floats. */
export function geluForward(x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, vgelu(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, f32x4.extract_lane(vgelu(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** dx = g gelu'(x) over n floats. */
export function geluBackward(x: usize, g: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dx + o, f32x4.mul(v128.load(g + o), vgeluGrad(v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const d = f32x4.extract_lane(vgeluGrad(f32x4.splat(load<f32>(x + o))), 0);
    store<f32>(dx + o, load<f32>(g + o) * d);
  }
}

// Blockwise attention tiles (src/cpu/blockwise-attention.ts). S [rows, cols] holds the raw
// scores q.k of query rows i0 + i against key columns j0 + c; row i sees the columns
// c < visible(i) = cols, or with causal != 0, clamp(diag + i + 1, 0, cols) (diag = i0 - j0:
// key j <= query i). Masked columns come out 0. V8's Math.exp made these loops ~15% of a d=128
// training step.

function visibleCols(i: i32, cols: i32, causal: i32, diag: i32): i32 {
  return causal !== 0 ? min(cols, max(0, diag + i + 1)) : cols;
}

/**
 * One online-softmax step of the forward, in place on S: per row, S = exp(scale S - m') on the
 * visible columns with m' = max(m, scale max S), l = alpha l + rowsum(S), alpha = exp(m - m')
 * (0 while m is -inf, i.e. before the row's first visible tile; exactly 1 when the max holds),
 * m = m'. Rows without a visible column are zeroed and keep alpha = 1.
 */
export function attnSoftmaxTile(
  s: usize,
  rows: i32,
  cols: i32,
  scale: f32,
  causal: i32,
  diag: i32,
  m: usize,
  l: usize,
  alpha: usize,
): void {
  const vs = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const x = s + <usize>i * <usize>cols * 4;
    const ri = (<usize>i) << 2;
    const vis = visibleCols(i, cols, causal, diag);
    if (vis <= 0) {
      memory.fill(x, 0, (<usize>cols) << 2);
      store<f32>(alpha + ri, 1);
      continue;
    }
    const n4 = vis & ~3;
    let vmax = f32x4.splat(-Infinity);
    let c = 0;
    for (; c < n4; c += 4) {
      const o = x + ((<usize>c) << 2);
      const v = f32x4.mul(v128.load(o), vs);
      v128.store(o, v);
      vmax = f32x4.max(vmax, v);
    }
    const mOld = load<f32>(m + ri);
    let mx = max(
      max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
      max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)),
    );
    for (; c < vis; c++) {
      const o = x + ((<usize>c) << 2);
      const v = load<f32>(o) * scale;
      store<f32>(o, v);
      mx = max(mx, v);
    }
    mx = max(mx, mOld);
    const vm = f32x4.splat(mx);
    let acc = f32x4.splat(0);
    c = 0;
    for (; c < n4; c += 4) {
      const o = x + ((<usize>c) << 2);
      const e = vexp(f32x4.sub(v128.load(o), vm));
      v128.store(o, e);
      acc = f32x4.add(acc, e);
    }
    let sum: f32 =
      f32x4.extract_lane(acc, 0) +
      f32x4.extract_lane(acc, 1) +
      (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; c < vis; c++) {
      const o = x + ((<usize>c) << 2);
      const e = sexp(load<f32>(o) - mx);
      store<f32>(o, e);
      sum += e;
    }
    if (vis < cols) memory.fill(x + ((<usize>vis) << 2), 0, (<usize>(cols - vis)) << 2);
    const a: f32 = mOld === -Infinity ? 0 : sexp(mOld - mx);
    store<f32>(l + ri, load<f32>(l + ri) * a + sum);
    store<f32>(m + ri, mx);
    store<f32>(alpha + ri, a);
  }
}

/** Backward: S = exp(scale S - lse[i]) on the visible columns (the probabilities), else 0. */
export function attnProbTile(
  s: usize,
  rows: i32,
  cols: i32,
  scale: f32,
  causal: i32,
  diag: i32,
  lse: usize,
): void {
  const vs = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const x = s + <usize>i * <usize>cols * 4;
    const vis = visibleCols(i, cols, causal, diag);
    const z = load<f32>(lse + ((<usize>i) << 2));
    const vz = f32x4.splat(z);
    const n4 = vis & ~3;
    let c = 0;
    for (; c < n4; c += 4) {
      const o = x + ((<usize>c) << 2);
      v128.store(o, vexp(f32x4.sub(f32x4.mul(v128.load(o), vs), vz)));
    }
    for (; c < vis; c++) {
      const o = x + ((<usize>c) << 2);
      store<f32>(o, sexp(load<f32>(o) * scale - z));
    }
    if (vis < cols) memory.fill(x + ((<usize>vis) << 2), 0, (<usize>(cols - vis)) << 2);
  }
}

/** Backward: dS = scale P (dS - D[i]) in place on dS [rows, cols] (D = rowsum(dO O)). */
export function attnScoreGradTile(
  p: usize,
  ds: usize,
  rows: i32,
  cols: i32,
  scale: f32,
  d: usize,
): void {
  const vs = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const off = <usize>i * <usize>cols * 4;
    const vd = f32x4.splat(load<f32>(d + ((<usize>i) << 2)));
    const n4 = cols & ~3;
    let c = 0;
    for (; c < n4; c += 4) {
      const o = off + ((<usize>c) << 2);
      const v = f32x4.mul(f32x4.mul(v128.load(p + o), vs), f32x4.sub(v128.load(ds + o), vd));
      v128.store(ds + o, v);
    }
    const di = load<f32>(d + ((<usize>i) << 2));
    for (; c < cols; c++) {
      const o = off + ((<usize>c) << 2);
      store<f32>(ds + o, scale * load<f32>(p + o) * (load<f32>(ds + o) - di));
    }
  }
}
