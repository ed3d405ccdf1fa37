/**
 * exp(x) for x <= 709, about twice as fast as Math.exp in V8 (bench/weights.mjs), within
 * 4e-16 relative error (2 ulp; checked against Math.exp in fast-exp.test.ts).
 *
 * Why: the softmax takes one exp per sample, and Math.exp is a call into C++ that TurboFan
 * cannot inline; this is plain arithmetic it can. Method: x = (k / 2048) ln 2 + t with
 * |t| <= ln 2 / 4096, exp(x) = 2^(k >> 11) * f * (1 + q) with f = 2^((k & 2047) / 2048) from a
 * table and q = exp(t) - 1 by its Taylor polynomial of degree 3 (truncation error t^4 / 4! <
 * 4e-17, a sixth of an ulp); f + f q rounds once where f (1 + q) would round twice. 2^e from a
 * second table (both built at load, 16 KiB each).
 */
const FRACTION = new Float64Array(2048);
for (let j = 0; j < 2048; j++) FRACTION[j] = 2 ** (j / 2048);
/** 2^e for e in [-1075, 1024], indexed by e + 1075 (subnormals included). */
const POW2 = new Float64Array(2100);
for (let e = 0; e < 2100; e++) POW2[e] = 2 ** (e - 1075);
const LOG2E_STEPS = Math.LOG2E * 2048;
// ln 2 / 2048 split in a high part with 21 trailing zero bits and a low correction (fdlibm's
// split), so k * LN2_HI is exact for |k| < 2^21, every k of x in [-709, 709].
const LN2_HI = 0.6931471803691238 / 2048;
const LN2_LO = 1.9082149292705877e-10 / 2048;
/** 1.5 * 2^52: adding and subtracting it rounds a double to the nearest integer. */
const ROUND = 1.5 * 2 ** 52;
/** 1 / 3!, a product rather than a division in the polynomial (division is slow). */
const C3 = 1 / 6;

export function fastExp(x: number): number {
  if (x < -745.2) return 0;
  const kf = x * LOG2E_STEPS + ROUND - ROUND;
  return fromSteps(kf, x - kf * LN2_HI - kf * LN2_LO);
}

/** Exponent steps per unit of x: exp(x) = 2^(x * STEPS / 2048). */
export const STEPS = LOG2E_STEPS;
const STEP = Math.LN2 / 2048;

/**
 * 2^(y / 2048), that is exp(y / STEPS), for |y| <= 2e6 (x in [-677, 677]), within 4e-16
 * relative error (tested): the reduction y - round(y) is exact, so only the table and the
 * polynomial round. For a loop whose exponent is linear in coefficients, which it can scale by
 * STEPS up front: the multiplication by log2(e) and fastExp's two-part reduction drop out.
 */
export function expSteps(y: number): number {
  const kf = y + ROUND - ROUND;
  return fromSteps(kf, (y - kf) * STEP);
}

/** 2^(kf / 2048) * exp(t) for an integer kf and |t| <= ln 2 / 4096. */
function fromSteps(kf: number, t: number): number {
  const k = kf | 0;
  const j = k & 2047;
  const f = FRACTION[j];
  return (f + f * (t + t * t * (0.5 + t * C3))) * POW2[((k - j) >> 11) + 1075];
}
