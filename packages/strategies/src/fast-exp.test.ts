import { describe, expect, it } from 'vitest';
import { fastExp } from './fast-exp.js';

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
});
