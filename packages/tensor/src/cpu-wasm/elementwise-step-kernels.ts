// The elementwise kernels of a training step outside the model: binary ops on rows (the fast
// CPU backend's add/sub/mul/div), the AdamW update, axpy and the sum of squares (clipping).
import type { AdamWConstants, AdamWStep, ElementwiseKernels } from './elementwise.js';
import { type Staging, sameLength } from './elementwise-staging.js';

/** Float32 binary ops of `binaryRows`; the `r` forms swap the operands (b - a, b / a). */
export const BINARY_ROW_OPS = { add: 0, sub: 1, mul: 2, div: 3, rsub: 4, rdiv: 5 } as const;
export type BinaryRowOp = keyof typeof BINARY_ROW_OPS;

/**
 * The constants of `hp`, computed in float64 exactly as `adamwStep` (ops/adamw.ts) derives the
 * `adamwStep` routine's attributes, so the two paths agree bit for bit.
 */
export function adamwConstants(hp: AdamWStep): AdamWConstants {
  return {
    decay: 1 - hp.lr * hp.weightDecay,
    beta1: hp.beta1,
    beta2: hp.beta2,
    oneMinusBeta1: 1 - hp.beta1,
    oneMinusBeta2: 1 - hp.beta2,
    stepSize: hp.lr / (1 - hp.beta1 ** hp.step),
    invBc2Sqrt: 1 / Math.sqrt(1 - hp.beta2 ** hp.step),
    eps: hp.eps,
  };
}

export function stepKernels(
  st: Staging,
): Pick<ElementwiseKernels, 'binary' | 'adamw' | 'adamwUpdate' | 'axpy' | 'sumOfSquares'> {
  const adamwUpdate: ElementwiseKernels['adamwUpdate'] = (param, grad, expAvg, expAvgSq, c) => {
    st.assertOpen('adamw');
    const n = sameLength(
      'adamw',
      ['param', 'grad', 'expAvg', 'expAvgSq'],
      [param, grad, expAvg, expAvgSq],
    );
    const [pp, pg, pm, pv] = st.placeAll([param, grad, expAvg, expAvgSq]) as [
      number,
      number,
      number,
      number,
    ];
    st.kernel.adamw(
      pp,
      pg,
      pm,
      pv,
      n,
      c.decay,
      c.beta1,
      c.beta2,
      c.oneMinusBeta1,
      c.oneMinusBeta2,
      c.stepSize,
      c.invBc2Sqrt,
      c.eps,
    );
    st.back(param, pp);
    st.back(expAvg, pm);
    st.back(expAvgSq, pv);
  };

  return {
    binary(op, out, a, b) {
      st.assertOpen('binary');
      const n = a.length;
      const period = b.length;
      if (out.length !== n || period === 0 || n % period !== 0) {
        throw new RangeError(
          `binary ${op}: a has ${n} elements, out ${out.length}, b ${period}; ` +
            'out must match a and b must be 1 element, a row of it or as long',
        );
      }
      if (n === 0) return out;
      const [pa, pb, po] = st.placeAll([a, b, out], 1) as [number, number, number];
      st.kernel.binaryRows(BINARY_ROW_OPS[op], po, pa, pb, n, period);
      st.back(out, po);
      return out;
    },

    adamw(param, grad, expAvg, expAvgSq, hp) {
      st.assertOpen('adamw');
      sameLength('adamw', ['param', 'grad', 'expAvg', 'expAvgSq'], [param, grad, expAvg, expAvgSq]);
      if (!(Number.isInteger(hp.step) && hp.step >= 1)) {
        throw new RangeError(`adamw: step = ${hp.step} must be an integer >= 1 (1-based)`);
      }
      for (const key of ['beta1', 'beta2'] as const) {
        if (!(hp[key] >= 0 && hp[key] < 1)) {
          throw new RangeError(`adamw: ${key} = ${hp[key]} must lie in [0, 1)`);
        }
      }
      adamwUpdate(param, grad, expAvg, expAvgSq, adamwConstants(hp));
    },

    adamwUpdate,

    axpy(y, x, alpha) {
      st.assertOpen('axpy');
      const n = sameLength('axpy', ['y', 'x'], [y, x]);
      const [py, px] = st.placeAll([y, x]) as [number, number];
      st.kernel.axpy(py, px, n, alpha);
      st.back(y, py);
      return y;
    },

    sumOfSquares(x) {
      st.assertOpen('sumOfSquares');
      const [px] = st.placeAll([x]) as [number];
      return st.kernel.sumOfSquares(px, x.length);
    },
  };
}
