// Hot elementwise loops of a training step in f32x4 SIMD: the AdamW update in one pass, the
// y += alpha * x of gradient accumulation, and the sum of squares behind gradient-norm clipping.
// Pointers are byte offsets of float32 arrays in the (imported) memory; n counts elements.
// Buffers from the loader's heap are 64-byte aligned, so the vector loops need no peeling.

/**
 * One AdamW step (Loshchilov & Hutter, ICLR 2019; PyTorch's torch.optim.AdamW formulation):
 *   p *= decay                                  decay = 1 - lr * weight_decay
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p -= stepSize * m / (sqrt(v) * invBc2Sqrt + eps)
 * with stepSize = lr / (1 - beta1^t) and invBc2Sqrt = 1 / sqrt(1 - beta2^t) from the caller.
 * 1 - beta1 and 1 - beta2 also come from the caller, computed in float64 as PyTorch does: in
 * float32, 1 - f32(0.999) is off by 1.3e-5 relative.
 */
export function adamw(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  n: i32,
  decay: f32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  stepSize: f32,
  invBc2Sqrt: f32,
  eps: f32,
): void {
  const vDecay = f32x4.splat(decay);
  const vB1 = f32x4.splat(beta1);
  const vB2 = f32x4.splat(beta2);
  const vC1 = f32x4.splat(oneMinusBeta1);
  const vC2 = f32x4.splat(oneMinusBeta2);
  const vStep = f32x4.splat(stepSize);
  const vInv = f32x4.splat(invBc2Sqrt);
  const vEps = f32x4.splat(eps);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(vB1, v128.load(m + o)), f32x4.mul(vC1, gi));
    const vi = f32x4.add(f32x4.mul(vB2, v128.load(v + o)), f32x4.mul(vC2, f32x4.mul(gi, gi)));
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vi), vInv), vEps);
    const pi = f32x4.sub(
      f32x4.mul(v128.load(p + o), vDecay),
      f32x4.div(f32x4.mul(vStep, mi), denom),
    );
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    v128.store(p + o, pi);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + oneMinusBeta1 * gi;
    const vi = beta2 * load<f32>(v + o) + oneMinusBeta2 * (gi * gi);
    const denom = sqrt<f32>(vi) * invBc2Sqrt + eps;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) * decay - (stepSize * mi) / denom);
  }
}

/** y += alpha * x over n elements. */
export function axpy(y: usize, x: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** sum of x[i]^2, accumulated in float64 lanes so long vectors keep full float32 accuracy. */
export function sumOfSquares(x: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const xi = v128.load(x + ((<usize>i) << 2));
    const lo = f64x2.promote_low_f32x4(xi);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(xi, xi, 2, 3, 0, 1));
    acc0 = f64x2.add(acc0, f64x2.mul(lo, lo));
    acc1 = f64x2.add(acc1, f64x2.mul(hi, hi));
  }
  const sum = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
  for (; i < n; i++) {
    const xi = <f64>load<f32>(x + ((<usize>i) << 2));
    s += xi * xi;
  }
  return s;
}

/**
 * out[i] = a[i] (op) b[i mod period] over n elements (n a multiple of period): period n is an
 * elementwise op, 1 a scalar, anything between a row broadcast (a bias). op: 0 a + b, 1 a - b,
 * 2 a * b, 3 a / b, 4 b - a, 5 b / a (the last two for a broadcast first operand). float32
 * results equal V8's (float64 arithmetic rounded once to float32 is exact for these ops).
 */
export function binaryRows(op: i32, out: usize, a: usize, b: usize, n: i32, period: i32): void {
  for (let r0 = 0; r0 < n; r0 += period) {
    const ar = a + ((<usize>r0) << 2);
    const orow = out + ((<usize>r0) << 2);
    const len = min(period, n - r0);
    const len4 = len & ~3;
    let i = 0;
    if (period === 1) {
      const bs = f32x4.splat(load<f32>(b));
      const m4 = (n - r0) & ~3;
      for (; i < m4; i += 4) {
        const o = (<usize>i) << 2;
        v128.store(orow + o, binaryV(op, v128.load(ar + o), bs));
      }
      for (; i < n - r0; i++) {
        const o = (<usize>i) << 2;
        store<f32>(orow + o, binaryS(op, load<f32>(ar + o), load<f32>(b)));
      }
      return;
    }
    for (; i < len4; i += 4) {
      const o = (<usize>i) << 2;
      v128.store(orow + o, binaryV(op, v128.load(ar + o), v128.load(b + o)));
    }
    for (; i < len; i++) {
      const o = (<usize>i) << 2;
      store<f32>(orow + o, binaryS(op, load<f32>(ar + o), load<f32>(b + o)));
    }
  }
}

function binaryV(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case 0:
      return f32x4.add(x, y);
    case 1:
      return f32x4.sub(x, y);
    case 2:
      return f32x4.mul(x, y);
    case 3:
      return f32x4.div(x, y);
    case 4:
      return f32x4.sub(y, x);
    default:
      return f32x4.div(y, x);
  }
}

function binaryS(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case 0:
      return x + y;
    case 1:
      return x - y;
    case 2:
      return x * y;
    case 3:
      return x / y;
    case 4:
      return y - x;
    default:
      return y / x;
  }
}
