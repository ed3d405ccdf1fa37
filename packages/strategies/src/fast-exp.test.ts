import { describe, expect, it } from 'vitest';
import { expSteps, fastExp, STEPS } from './fast-exp.js';

describe('fastExp', () => {
  it('is within 4e-16 relative of Math.exp on [-708, 709]', () => {
    let worst = 0;
    for (let x = -708; x <= 709; x += 0.00731) {
      const want = Math.exp(x);
      worst = Math.max(worst, Math.abs(fastExp(x) - want) / want);
    }
    for (let x = -1; x <= 1; x += 1.3e-5) {
      const want = Math.exp(x);
      worst = Math.max(worst, Math.abs(fastExp(x) - want) / want);
    }
    expect(worst).toBeLessThanOrEqual(4e-16);
  });

  it('is exact at 0, tiny and underflowing arguments', () => {
    expect(fastExp(0)).toBe(1);
    expect(fastExp(-0)).toBe(1);
    expect(fastExp(-1e-300)).toBe(1);
    expect(fastExp(-746)).toBe(0);
    expect(fastExp(-Infinity)).toBe(0);
    // Subnormal range: still close to Math.exp in absolute terms.
    for (const x of [-709, -720, -740, -745]) {
      expect(Math.abs(fastExp(x) - Math.exp(x))).toBeLessThanOrEqual(Math.exp(x) * 1e-6 + 5e-324);
    }
  });

  it('expSteps(y) is within 4e-16 relative of 2^(y / 2048) for |y| <= 2e6', () => {
    // y / 2048 is exact (a power of two), so Math.pow's argument carries no rounding.
    let worst = 0;
    for (let y = -2e6; y <= 2e6; y += 37.123) {
      const want = 2 ** (y / 2048);
      worst = Math.max(worst, Math.abs(expSteps(y) - want) / want);
    }
    for (let y = -3; y <= 3; y += 1.7e-4) {
      const want = 2 ** (y / 2048);
      worst = Math.max(worst, Math.abs(expSteps(y) - want) / want);
    }
    expect(worst).toBeLessThanOrEqual(4e-16);
    expect(expSteps(0)).toBe(1);
    expect(expSteps(-0)).toBe(1);
    // exp(x) = expSteps(x * STEPS), up to the rounding of x * STEPS (relative 1.1e-16 |x|).
    for (const x of [-460, -1, -1e-3, 0.5, 460]) {
      expect(Math.abs(expSteps(x * STEPS) / Math.exp(x) - 1)).toBeLessThanOrEqual(
        4e-16 + 2.3e-16 * Math.abs(x),
      );
    }
  });
});
