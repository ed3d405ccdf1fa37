import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile } from './student-t.js';

describe('Student t', () => {
  // Published two-sided critical values (any t table, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2),
  // given to 3 decimals there.
  const table: [p: number, df: number, t: number][] = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 3, 3.182],
    [0.975, 4, 2.776],
    [0.975, 5, 2.571],
    [0.975, 9, 2.262],
    [0.975, 10, 2.228],
    [0.975, 29, 2.045],
    [0.975, 30, 2.042],
    [0.975, 100, 1.984],
    [0.95, 1, 6.314],
    [0.95, 10, 1.812],
    [0.995, 5, 4.032],
    [0.995, 2, 9.925],
    [0.9, 4, 1.533],
  ];
  it.each(table)('t_{%s, %s} = %s (published table)', (p, df, t) => {
    expect(Math.abs(studentTQuantile(p, df) - t)).toBeLessThan(5e-4);
  });

  it('matches the closed forms of df = 1 (Cauchy) and df = 2', () => {
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 9);
      // df = 2: t = (2p - 1) / sqrt(2 p (1 - p))
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 9);
    }
  });

  it('approaches the normal quantile 1.959964 for large df', () => {
    expect(studentTQuantile(0.975, 2000)).toBeCloseTo(1.9612, 3);
    expect(studentTQuantile(0.975, 2000)).toBeGreaterThan(1.959964);
  });

  it('the CDF inverts the quantile and is symmetric', () => {
    for (const df of [1, 2, 3, 7, 12]) {
      for (const p of [0.55, 0.8, 0.975]) {
        const t = studentTQuantile(p, df);
        expect(studentTCdf(t, df)).toBeCloseTo(p, 12);
        expect(studentTCdf(-t, df)).toBeCloseTo(1 - p, 12);
        expect(studentTQuantile(1 - p, df)).toBeCloseTo(-t, 10);
      }
    }
    expect(studentTCdf(0, 4)).toBe(0.5);
    expect(studentTQuantile(0.5, 4)).toBe(0);
  });

  it('rejects degrees of freedom and probabilities it cannot use', () => {
    expect(() => studentTQuantile(0.975, 0)).toThrow(/whole number >= 1/);
    expect(() => studentTQuantile(0.975, 2.5)).toThrow(/whole number >= 1/);
    expect(() => studentTQuantile(1, 3)).toThrow(/\(0, 1\)/);
  });
});
