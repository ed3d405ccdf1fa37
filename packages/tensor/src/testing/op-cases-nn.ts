/** Conformance cases: views, concat/split, indexing, nn compositions, random and creation kernels. */
import {
  arange,
  concat,
  crossEntropy,
  dropout,
  embedding,
  gather,
  layerNorm,
  linearCrossEntropy,
  randn,
  rmsNorm,
  scaledDotProductAttention,
  scatterAdd,
  split,
  takeAlongLastAxis,
  uniform,
} from '../index.js';
import { philoxFill, type RandomAttrs } from '../philox.js';
import type { InputSpec, OpCase } from './op-case-types.js';
import * as R from './reference64.js';

const int = (values: number[]): InputSpec => ({ shape: [values.length], dtype: 'int32', values });

function randomRef(shape: number[], attrs: RandomAttrs): R.Arr64 {
  const out = R.arr(shape);
  philoxFill(out.data, out.data.length, attrs);
  return { shape, data: Float64Array.from(Float32Array.from(out.data)) };
}

export const NN_CASES: OpCase[] = [
  // ---- views
  {
    op: 'reshape',
    label: 'reshape of a permuted view (copies)',
    inputs: [{ shape: [2, 3, 4] }],
    run: ([x]) => x.permute([2, 0, 1]).reshape([4, -1]),
    ref: ([x]) => R.reshape(R.permute(x, [2, 0, 1]), [4, 6]),
  },
  {
    op: 'permute',
    label: 'permute [2, 0, 1]',
    inputs: [{ shape: [2, 3, 4] }],
    run: ([x]) => x.permute([2, 0, 1]),
    ref: ([x]) => R.permute(x, [2, 0, 1]),
  },
  {
    op: 'slice',
    label: 'slice axis 1, 1..3, of a transposed view',
    inputs: [{ shape: [4, 3] }],
    run: ([x]) => x.mT.slice(1, 1, 3),
    ref: ([x]) => R.slice(R.permute(x, [1, 0]), 1, 1, 3),
  },
  {
    op: 'expand',
    label: 'expand [3, 1] -> [2, 3, 4]',
    inputs: [{ shape: [3, 1] }],
    run: ([x]) => x.expand([2, 3, 4]),
    ref: ([x]) => R.expand(x, [2, 3, 4]),
  },
  {
    op: 'contiguous',
    label: 'contiguous of a transposed view',
    inputs: [{ shape: [3, 4] }],
    run: ([x]) => x.mT.contiguous(),
    ref: ([x]) => R.permute(x, [1, 0]),
  },
  {
    op: 'clone',
    label: 'clone of a slice',
    inputs: [{ shape: [3, 4] }],
    run: ([x]) => x.slice(0, 1).clone(),
    ref: ([x]) => R.slice(x, 0, 1, 3),
  },
  {
    op: 'concat',
    label: 'concat along axis 1',
    inputs: [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }, { shape: [2, 3, 3] }],
    run: (xs) => concat(xs, 1),
    ref: (xs) => R.concat(xs, 1),
  },
  {
    op: 'split',
    label: 'split sizes [1, 3] along axis -1, recombined by a weighted sum',
    inputs: [{ shape: [2, 4] }],
    run: ([x]) => {
      const [a, b] = split(x, [1, 3], -1);
      return a.mul(2).add(b.sum(-1, true));
    },
    ref: ([x]) => {
      const a = R.slice(x, 1, 0, 1);
      const b = R.slice(x, 1, 1, 4);
      return R.zip(
        R.map(a, (v) => 2 * v),
        R.sum(b, [1], true),
        (p, q) => p + q,
      );
    },
  },
  // ---- indexing
  {
    op: 'gather',
    label: 'gather rows with repeats',
    inputs: [{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int32', values: [4, 0, 4, 1, 1, 2] }],
    run: ([t, i]) => gather(t, i),
    ref: ([t, i]) => R.gather(t, i),
  },
  {
    op: 'gather',
    label: 'embedding lookup [V=6, D=4]',
    inputs: [{ shape: [6, 4] }, { shape: [3], dtype: 'int32', kind: 'index', high: 6 }],
    run: ([t, i]) => embedding(t, i),
    ref: ([t, i]) => R.gather(t, i),
  },
  {
    op: 'scatterAdd',
    label: 'scatter-add with repeated indices',
    inputs: [{ shape: [4, 2] }, int([3, 0, 3]), { shape: [3, 2] }],
    run: ([x, i, s]) => scatterAdd(x, i, s),
    ref: ([x, i, s]) => R.scatterAdd(x, i, s),
  },
  {
    op: 'takeAlongLastAxis',
    label: 'pick one entry per row',
    inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3], dtype: 'int32', kind: 'index', high: 4 }],
    run: ([x, i]) => takeAlongLastAxis(x, i),
    ref: ([x, i]) => {
      const out = R.arr(i.shape);
      for (let p = 0; p < i.data.length; p++) out.data[p] = x.data[p * 4 + i.data[p]];
      return out;
    },
  },
  // ---- nn
  {
    op: 'softmax',
    label: 'softmax last axis',
    inputs: [{ shape: [3, 5] }],
    run: ([x]) => x.softmax(-1),
    ref: ([x]) => R.softmax(x, 1),
  },
  {
    op: 'softmax',
    label: 'softmax axis 0 with large values',
    inputs: [{ shape: [3, 2], values: [100, -3, 101, 0, 99, 3] }],
    run: ([x]) => x.softmax(0),
    ref: ([x]) => R.softmax(x, 0),
  },
  {
    op: 'logSoftmax',
    label: 'logSoftmax last axis',
    inputs: [{ shape: [2, 3, 5] }],
    run: ([x]) => x.logSoftmax(-1),
    ref: ([x]) => R.logSoftmax(x, 2),
  },
  {
    op: 'crossEntropy',
    label: 'crossEntropy per token with ignoreIndex',
    inputs: [
      { shape: [2, 3, 5] },
      { shape: [2, 3], dtype: 'int32', values: [1, 4, -100, 0, 2, 3] },
    ],
    run: ([l, t]) => crossEntropy(l, t),
    ref: ([l, t]) => R.crossEntropy(l, t, -100),
  },
  {
    op: 'crossEntropy',
    label: 'crossEntropy per token with a mask',
    inputs: [
      { shape: [4, 6] },
      { shape: [4], dtype: 'int32', kind: 'index', high: 6 },
      { shape: [4], values: [1, 0, 1, 1], grad: false },
    ],
    run: ([l, t, m]) => crossEntropy(l, t, { mask: m }),
    ref: ([l, t, m]) => R.crossEntropy(l, t, -100, m),
  },
  {
    op: 'linearCrossEntropy',
    label: 'vocabulary head + per-token cross-entropy, tied weight [V=7, C=4], one ignored token',
    inputs: [
      { shape: [2, 3, 4] },
      { shape: [7, 4] },
      { shape: [2, 3], dtype: 'int32', values: [6, 0, 3, -100, 2, 5] },
    ],
    run: ([x, w, t]) => linearCrossEntropy(x, w, t),
    ref: ([x, w, t]) => R.crossEntropy(R.matmul(x, R.permute(w, [1, 0])), t, -100),
  },
  {
    op: 'layerNorm',
    label: 'layerNorm with weight and bias',
    inputs: [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }],
    run: ([x, w, b]) => layerNorm(x, w, b),
    ref: ([x, w, b]) => R.layerNorm(x, w, b, 1e-5),
  },
  {
    op: 'layerNorm',
    label: 'layerNorm without affine parameters',
    inputs: [{ shape: [3, 5] }],
    run: ([x]) => layerNorm(x),
    ref: ([x]) => R.layerNorm(x, undefined, undefined, 1e-5),
  },
  {
    op: 'rmsNorm',
    label: 'rmsNorm with weight',
    inputs: [{ shape: [2, 3, 6] }, { shape: [6] }],
    run: ([x, w]) => rmsNorm(x, w),
    ref: ([x, w]) => R.rmsNorm(x, w, 1e-6),
  },
  {
    op: 'dropout',
    label: 'dropout p=0.3 seed 7',
    inputs: [{ shape: [4, 5] }],
    run: ([x]) => dropout(x, 0.3, { seed: 7 }),
    ref: ([x]) => R.dropout(x, 0.3, 7, 0),
  },
  {
    op: 'scaledDotProductAttention',
    label: 'causal attention [2, 4, 3]',
    inputs: [{ shape: [2, 4, 3] }, { shape: [2, 4, 3] }, { shape: [2, 4, 3] }],
    run: ([q, k, v]) => scaledDotProductAttention(q, k, v),
    ref: ([q, k, v]) => R.attention(q, k, v, true, 1 / Math.sqrt(3)),
  },
  {
    op: 'scaledDotProductAttention',
    label: 'non-causal attention T=2, S=3, Dv=2, scale 0.7',
    inputs: [{ shape: [1, 2, 2, 3] }, { shape: [1, 2, 3, 3] }, { shape: [1, 2, 3, 2] }],
    run: ([q, k, v]) => scaledDotProductAttention(q, k, v, { causal: false, scale: 0.7 }),
    ref: ([q, k, v]) => R.attention(q, k, v, false, 0.7),
  },
  // ---- creation kernels (fill, arange, random)
  {
    op: 'randn',
    label: 'randn seed 11 offset 3 matches the Philox reference',
    inputs: [],
    run: (_xs, be) => randn([3, 5], { seed: 11, offset: 3, backend: be }),
    ref: () => randomRef([3, 5], { seed: 11, offset: 3, dist: 'normal', a: 0, b: 1 }),
    tolerance: { rtol: 1e-5, atol: 1e-6 },
    grad: false,
  },
  {
    op: 'uniform',
    label: 'uniform [-2, 2) seed 2^40 + 5 matches the Philox reference',
    inputs: [],
    run: (_xs, be) => uniform([7], { seed: 2 ** 40 + 5, low: -2, high: 2, backend: be }),
    ref: () => randomRef([7], { seed: 2 ** 40 + 5, offset: 0, dist: 'uniform', a: -2, b: 2 }),
    tolerance: { rtol: 0, atol: 1e-6 },
    grad: false,
  },
  {
    op: 'arange',
    label: 'arange(2, 11, 3) and float arange',
    inputs: [],
    run: (_xs, be) =>
      arange(2, 11, 3, { backend: be })
        .cast('float32')
        .add(arange(0, 2, 0.5, { backend: be }).sum()),
    ref: () => R.arr([3], [5, 8, 11]),
    grad: false,
  },
];
