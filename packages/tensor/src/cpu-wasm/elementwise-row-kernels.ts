// The row kernels of a transformer layer on wasm SIMD: the vocabulary head's log-sum-exp and
// softmax gradient, GELU forward and backward, LayerNorm forward and backward.
import type { ElementwiseKernels } from './elementwise.js';
import { normCheck, rowsCheck, type Staging, sameLength } from './elementwise-staging.js';
import { NORM_HAS_B, NORM_HAS_W, NORM_WANT_DB, NORM_WANT_DW, NORM_WANT_DX } from './kernels.js';

export function rowKernels(
  st: Staging,
): Pick<
  ElementwiseKernels,
  'logSumExpRows' | 'softmaxGradRows' | 'gelu' | 'geluBackward' | 'layerNorm' | 'layerNormBackward'
> {
  return {
    logSumExpRows(logits, rows, V, out) {
      st.assertOpen('logSumExpRows');
      rowsCheck('logSumExpRows', logits, rows, V, [out]);
      const l = logits.subarray(0, rows * V);
      const o = out.subarray(0, rows);
      const [pl, po] = st.placeAll([l, o], 1) as [number, number];
      st.kernel.logSumExpRows(pl, rows, V, po);
      st.back(o, po);
      return out;
    },

    softmaxGradRows(logits, rows, V, z, g) {
      st.assertOpen('softmaxGradRows');
      rowsCheck('softmaxGradRows', logits, rows, V, [z, g]);
      const l = logits.subarray(0, rows * V);
      const [pl, pz, pg] = st.placeAll([l, z.subarray(0, rows), g.subarray(0, rows)]) as [
        number,
        number,
        number,
      ];
      st.kernel.softmaxGradRows(pl, rows, V, pz, pg);
      st.back(l, pl);
      return logits;
    },

    gelu(x, y) {
      st.assertOpen('gelu');
      const n = sameLength('gelu', ['x', 'y'], [x, y]);
      const [px, py] = st.placeAll([x, y], 1) as [number, number];
      st.kernel.geluForward(px, py, n);
      st.back(y, py);
      return y;
    },

    geluBackward(x, g, dx) {
      st.assertOpen('geluBackward');
      const n = sameLength('geluBackward', ['x', 'g', 'dx'], [x, g, dx]);
      const [px, pg, pd] = st.placeAll([x, g, dx], 1) as [number, number, number];
      st.kernel.geluBackward(px, pg, pd, n);
      st.back(dx, pd);
      return dx;
    },

    layerNorm({ x, w, b, y, stats, rows, C, eps }) {
      st.assertOpen('layerNorm');
      normCheck('layerNorm', rows, C, { x, y }, { w, b }, stats);
      const ins = [x.subarray(0, rows * C), ...(w ? [w.subarray(0, C)] : [])];
      if (b) ins.push(b.subarray(0, C));
      const outs = [y.subarray(0, rows * C), stats.subarray(0, 2 * rows)];
      const ptrs = st.placeAll([...ins, ...outs], 2);
      const [px, pw] = ptrs as [number, number];
      const pb = b ? ptrs[ins.length - 1]! : 0;
      const [py, ps] = ptrs.slice(ins.length) as [number, number];
      st.kernel.layerNormForward(
        px,
        w ? pw : 0,
        pb,
        py,
        ps,
        rows,
        C,
        eps,
        (w ? NORM_HAS_W : 0) | (b ? NORM_HAS_B : 0),
      );
      st.back(outs[0]!, py);
      st.back(outs[1]!, ps);
    },

    layerNormBackward({ x, w, g, stats, rows, C, dx, dw, db }) {
      st.assertOpen('layerNormBackward');
      normCheck('layerNormBackward', rows, C, { x, g, dx }, { w, dw, db }, stats);
      // dw and db accumulate in place: zeroed here, then copied in like inputs.
      dw?.fill(0, 0, C);
      db?.fill(0, 0, C);
      const arrays = [
        x.subarray(0, rows * C),
        g.subarray(0, rows * C),
        stats.subarray(0, 2 * rows),
        w?.subarray(0, C),
        dw?.subarray(0, C),
        db?.subarray(0, C),
        dx?.subarray(0, rows * C),
      ];
      const given = arrays.filter((a): a is Float32Array => a !== undefined);
      const placed = st.placeAll(given, dx ? 1 : 0);
      const ptr = (a: Float32Array | undefined) => (a ? placed[given.indexOf(a)]! : 0);
      const [, , , aw, adw, adb, adx] = arrays;
      st.kernel.layerNormBackward(
        ptr(arrays[0]),
        ptr(aw),
        ptr(arrays[1]),
        ptr(arrays[2]),
        ptr(adx),
        ptr(adw),
        ptr(adb),
        rows,
        C,
        (w ? NORM_HAS_W : 0) |
          (dx ? NORM_WANT_DX : 0) |
          (dw ? NORM_WANT_DW : 0) |
          (db ? NORM_WANT_DB : 0),
      );
      for (const a of [adx, adw, adb]) if (a) st.back(a, ptr(a));
    },
  };
}
