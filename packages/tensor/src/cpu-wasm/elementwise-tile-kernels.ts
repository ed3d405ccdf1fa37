// The score-tile steps of blockwise attention (src/cpu/blockwise-attention.ts) on wasm SIMD.
import type { AttentionTileKernels } from './elementwise.js';
import { type Staging, tileCheck } from './elementwise-staging.js';

export function attentionTileKernels(st: Staging): AttentionTileKernels {
  return {
    attentionSoftmaxTile({ s, rows, cols, scale, causal, diag, m, l, alpha }) {
      st.assertOpen('attentionSoftmaxTile');
      tileCheck('attentionSoftmaxTile', s, rows, cols, [m, l, alpha]);
      const [ps, pm, pl, pa] = st.placeAll([s, m, l, alpha], 1) as [number, number, number, number];
      st.kernel.attnSoftmaxTile(ps, rows, cols, scale, causal ? 1 : 0, diag, pm, pl, pa);
      st.back(s, ps);
      st.back(m, pm);
      st.back(l, pl);
      st.back(alpha, pa);
    },

    attentionProbTile({ s, rows, cols, scale, causal, diag, lse }) {
      st.assertOpen('attentionProbTile');
      tileCheck('attentionProbTile', s, rows, cols, [lse]);
      const [ps, pz] = st.placeAll([s, lse]) as [number, number];
      st.kernel.attnProbTile(ps, rows, cols, scale, causal ? 1 : 0, diag, pz);
      st.back(s, ps);
    },

    attentionScoreGradTile(p, ds, rows, cols, scale, d) {
      st.assertOpen('attentionScoreGradTile');
      tileCheck('attentionScoreGradTile', ds, rows, cols, [d]);
      tileCheck('attentionScoreGradTile', p, rows, cols, [d]);
      const [pp, pds, pd] = st.placeAll([p, ds, d]) as [number, number, number];
      st.kernel.attnScoreGradTile(pp, pds, rows, cols, scale, pd);
      st.back(ds, pds);
    },
  };
}
