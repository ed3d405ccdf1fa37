// LayerNorm over the last axis (biased variance) in f32x4 SIMD, forward and backward, one call
// for all rows: each row is read from L1 a few times (mean, centered variance, output), so a
// block's [B T, C] activations stream from memory once per direction. Pointers are byte offsets
// of float32 arrays in the (imported) memory (0 = absent where a flag says so); rows of C floats.

/** Forward flag bits. */
const HAS_W: i32 = 1;
const HAS_B: i32 = 2;
/** Backward flag bits (HAS_W as above). */
const WANT_DX: i32 = 4;
const WANT_DW: i32 = 8;
const WANT_DB: i32 = 16;

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * y[r] = (x[r] - mean_r) * rstd_r (* w) (+ b), stats[2 r] = mean_r, stats[2 r + 1] = rstd_r =
 * 1 / sqrt(var_r + eps), for `rows` rows of C floats. Sums run in four-lane f32 partials.
 */
export function layerNormForward(
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  stats: usize,
  rows: i32,
  C: i32,
  eps: f32,
  flags: i32,
): void {
  const C4 = C & ~3;
  const invC: f32 = 1 / <f32>C;
  const hasW = (flags & HAS_W) !== 0;
  const hasB = (flags & HAS_B) !== 0;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * <usize>C * 4;
    const yr = y + <usize>r * <usize>C * 4;
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < C4; j += 4) acc = f32x4.add(acc, v128.load(xr + ((<usize>j) << 2)));
    let sum = hsum(acc);
    for (; j < C; j++) sum += load<f32>(xr + ((<usize>j) << 2));
    const mean = sum * invC;
    const vMean = f32x4.splat(mean);
    acc = f32x4.splat(0);
    j = 0;
    for (; j < C4; j += 4) {
      const d = f32x4.sub(v128.load(xr + ((<usize>j) << 2)), vMean);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    let sq = hsum(acc);
    for (; j < C; j++) {
      const d = load<f32>(xr + ((<usize>j) << 2)) - mean;
      sq += d * d;
    }
    const rstd: f32 = 1 / sqrt<f32>(sq * invC + eps);
    store<f32>(stats + ((<usize>r) << 3), mean);
    store<f32>(stats + ((<usize>r) << 3) + 4, rstd);
    const vRstd = f32x4.splat(rstd);
    j = 0;
    for (; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      let v = f32x4.mul(f32x4.sub(v128.load(xr + o), vMean), vRstd);
      if (hasW) v = f32x4.mul(v, v128.load(w + o));
      if (hasB) v = f32x4.add(v, v128.load(b + o));
      v128.store(yr + o, v);
    }
    for (; j < C; j++) {
      const o = (<usize>j) << 2;
      let v = (load<f32>(xr + o) - mean) * rstd;
      if (hasW) v *= load<f32>(w + o);
      if (hasB) v += load<f32>(b + o);
      store<f32>(yr + o, v);
    }
  }
}

/**
 * LayerNorm backward from x, the saved stats and the upstream gradient g, per row with
 * xhat = (x - mean) rstd and dxhat = g (* w):
 *   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))      (WANT_DX)
 *   dw += g xhat, db += g, accumulated over rows into C floats    (WANT_DW, WANT_DB)
 * The caller zeroes dw and db.
 */
export function layerNormBackward(
  x: usize,
  w: usize,
  g: usize,
  stats: usize,
  dx: usize,
  dw: usize,
  db: usize,
  rows: i32,
  C: i32,
  flags: i32,
): void {
  const C4 = C & ~3;
  const invC: f32 = 1 / <f32>C;
  const hasW = (flags & HAS_W) !== 0;
  const wantDx = (flags & WANT_DX) !== 0;
  const wantDw = (flags & WANT_DW) !== 0;
  const wantDb = (flags & WANT_DB) !== 0;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>C * 4;
    const xr = x + off;
    const gr = g + off;
    const mean = load<f32>(stats + ((<usize>r) << 3));
    const rstd = load<f32>(stats + ((<usize>r) << 3) + 4);
    const vMean = f32x4.splat(mean);
    const vRstd = f32x4.splat(rstd);
    let aD = f32x4.splat(0);
    let aDX = f32x4.splat(0);
    let j = 0;
    for (; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), vMean), vRstd);
      const gv = v128.load(gr + o);
      const d = hasW ? f32x4.mul(gv, v128.load(w + o)) : gv;
      aD = f32x4.add(aD, d);
      aDX = f32x4.add(aDX, f32x4.mul(d, xh));
      if (wantDw) v128.store(dw + o, f32x4.add(v128.load(dw + o), f32x4.mul(gv, xh)));
      if (wantDb) v128.store(db + o, f32x4.add(v128.load(db + o), gv));
    }
    let sumD = hsum(aD);
    let sumDX = hsum(aDX);
    for (; j < C; j++) {
      const o = (<usize>j) << 2;
      const xh = (load<f32>(xr + o) - mean) * rstd;
      const gv = load<f32>(gr + o);
      const d = hasW ? gv * load<f32>(w + o) : gv;
      sumD += d;
      sumDX += d * xh;
      if (wantDw) store<f32>(dw + o, load<f32>(dw + o) + gv * xh);
      if (wantDb) store<f32>(db + o, load<f32>(db + o) + gv);
    }
    if (!wantDx) continue;
    const dxr = dx + off;
    const mD = sumD * invC;
    const mDX = sumDX * invC;
    const vMD = f32x4.splat(mD);
    const vMDX = f32x4.splat(mDX);
    j = 0;
    for (; j < C4; j += 4) {
      const o = (<usize>j) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), vMean), vRstd);
      const gv = v128.load(gr + o);
      const d = hasW ? f32x4.mul(gv, v128.load(w + o)) : gv;
      v128.store(dxr + o, f32x4.mul(vRstd, f32x4.sub(f32x4.sub(d, vMD), f32x4.mul(xh, vMDX))));
    }
    for (; j < C; j++) {
      const o = (<usize>j) << 2;
      const xh = (load<f32>(xr + o) - mean) * rstd;
      const gv = load<f32>(gr + o);
      const d = hasW ? gv * load<f32>(w + o) : gv;
      store<f32>(dxr + o, rstd * (d - mD - xh * mDX));
    }
  }
}
