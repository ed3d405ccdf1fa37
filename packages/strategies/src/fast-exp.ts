/**
 * exp(x) for x <= 709, about twice as fast as Math.exp in V8 (bench/weights.mjs), within
 * 4e-16 relative error (2 ulp; checked against Math.exp in fast-exp.test.ts).
 *
 * Why: the softmax takes one exp per sample, and Math.exp is a call into C++ that TurboFan
 * cannot inline; this is plain arithmetic it can. Method: x = (k / 256) ln 2 + t with
 * |t| <= ln 2 / 512, exp(x) = 2^(k >> 8) * 2^((k & 255) / 256) * exp(t), exp(t) by its Taylor
 * polynomial of degree 4 (truncation error t^5 / 5! < 4e-17, a third of an ulp), 2^(j/256)
 * and 2^e from tables built at load (2 KiB and 16 KiB).
 */
const FRACTION = new Float64Array(256);
for (let j = 0; j < 256; j++) FRACTION[j] = 2 ** (j / 256);
/** 2^e for e in [-1075, 1024], indexed by e + 1075 (subnormals included). */
const POW2 = new Float64Array(2100);
for (let e = 0; e < 2100; e++) POW2[e] = 2 ** (e - 1075);
const LOG2E_STEPS = Math.LOG2E * 256;
// ln 2 / 256 split in a high part with trailing zero bits and a low correction (fdlibm's split),
// so k * LN2_HI is exact for the k that occur.
const LN2_HI = 0.6931471803691238 / 256;
const LN2_LO = 1.9082149292705877e-10 / 256;
/** 1.5 * 2^52: adding and subtracting it rounds a double to the nearest integer. */
const ROUND = 6755399441055744;
/** 1 / 4!, a product rather than a division in the polynomial (division is slow). */
const C4 = 1 / 24;

export function fastExp(x: number): number {
  return x < -745.2 ? 0 : fastExpInRange(x);
}

/**
 * `fastExp` without the underflow test, for x in [-745, 709] (the tables end there): a loop
 * whose arguments are known to be in range saves the comparison (bench/weights.mjs).
 */
export function fastExpInRange(x: number): number {
  const kf = x * LOG2E_STEPS + ROUND - ROUND;
  const t = x - kf * LN2_HI - kf * LN2_LO;
  const k = kf | 0;
  const j = k & 255;
  const p = 1 + t * (1 + t * (0.5 + t * (1 / 6 + t * C4)));
  return FRACTION[j] * p * POW2[((k - j) >> 8) + 1075];
}
