/**
 * The score-tile steps of blockwise attention in plain TypeScript (Math.exp): the routine's
 * default when no wasm kernels are given, and the reference for the wasm ones
 * (`AttentionTileKernels` in cpu-wasm/elementwise.ts documents each step).
 */
import type { AttentionTileKernels } from '../cpu-wasm/elementwise.js';

/** Columns of tile row i that its query sees (all, or up to the causal diagonal). */
function visibleCols(i: number, cols: number, causal: boolean, diag: number): number {
  return causal ? Math.min(cols, Math.max(0, diag + i + 1)) : cols;
}

/** The tile steps in plain TypeScript. */
export const jsAttentionTiles: AttentionTileKernels = {
  attentionSoftmaxTile({ s, rows, cols, scale, causal, diag, m, l, alpha }) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const visible = visibleCols(i, cols, causal, diag);
      if (visible <= 0) {
        s.fill(0, o, o + cols);
        alpha[i] = 1;
        continue;
      }
      let max = m[i]!;
      for (let c = 0; c < visible; c++) {
        const v = s[o + c]! * scale;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let c = 0; c < visible; c++) {
        const e = Math.exp(s[o + c]! * scale - max);
        s[o + c] = e;
        sum += e;
      }
      s.fill(0, o + visible, o + cols);
      const a = Math.exp(m[i]! - max); // 0 on the first visible tile
      l[i] = l[i]! * a + sum;
      m[i] = max;
      alpha[i] = a;
    }
  },
  attentionProbTile({ s, rows, cols, scale, causal, diag, lse }) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const visible = visibleCols(i, cols, causal, diag);
      const z = lse[i]!;
      for (let c = 0; c < visible; c++) s[o + c] = Math.exp(s[o + c]! * scale - z);
      s.fill(0, o + Math.max(visible, 0), o + cols);
    }
  },
  attentionScoreGradTile(p, ds, rows, cols, scale, d) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const di = d[i]!;
      for (let c = 0; c < cols; c++) ds[o + c] = scale * p[o + c]! * (ds[o + c]! - di);
    }
  },
};
