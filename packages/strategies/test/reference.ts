// A deliberately plain transcription of spec sections 2-4 (shared/spec/reweighting.md), sharing
// no code with src/: the independent reference for inputs the golden file does not cover.
export function referenceWeights(
  losses: ArrayLike<number>,
  strategy: string | ((x: number) => number),
  r: number,
): number[] {
  const l = Array.from(losses, Number);
  const n = l.length;
  if (strategy === 'uniform') return l.map(() => 1 / n);
  let scores: number[];
  if (strategy === 'dro-kl') {
    scores = l;
  } else {
    const lmax = Math.max(...l);
    const lmin = Math.min(...l);
    const range = Math.max(lmax - lmin, 1e-6);
    const x = l.map((v) => (2 * v - lmax - lmin) / range);
    const f =
      typeof strategy === 'function'
        ? strategy
        : {
            linupper: (v: number) => Math.min(v + 1, 1),
            quadratic: (v: number) => 1 - v * v,
            extremes: (v: number) => Math.abs(v),
            linear: (v: number) => (v + 1) / 2,
          }[strategy];
    if (f === undefined) throw new Error(`reference: unknown strategy ${String(strategy)}`);
    scores = x.map(f);
  }
  const top = Math.max(...scores);
  const e = scores.map((s) => Math.exp((s - top) / r));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}
