/**
 * Conformance cases: each names an op-table entry (or a composition built on them), its inputs,
 * how to call it, and its float64 reference. The suite runs forward and finite-difference
 * gradient checks from these on any backend; `conformanceChecks` fails if an op-table entry has
 * no case, so a new op cannot ship untested.
 */

import {
  arange,
  cast,
  concat,
  crossEntropy,
  dropout,
  embedding,
  gather,
  layerNorm,
  linearCrossEntropy,
  logsumexp,
  matmul,
  randn,
  rmsNorm,
  scaledDotProductAttention,
  scatterAdd,
  split,
  type Tensor,
  takeAlongLastAxis,
  uniform,
  where,
} from '../index.js';
import type { Tolerance } from '../op-table.js';
import { philoxFill, type RandomAttrs } from '../philox.js';
import * as R from './reference64.js';

export interface InputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32';
  /** normal (default), positive (0.5..2), index (0..high-1), mask (0/1), or explicit values. */
  kind?: 'normal' | 'positive' | 'index' | 'mask';
  high?: number;
  values?: number[];
  /** Whether the gradient of this input is checked (default: float32 inputs of differentiable cases). */
  grad?: boolean;
}

export interface OpCase {
  /** Op-table name, or the name of a composition (e.g. 'mean'). */
  op: string;
  label: string;
  inputs: InputSpec[];
  run(xs: Tensor[], backend: string): Tensor;
  ref(xs: R.Arr64[]): R.Arr64;
  /** Overrides the op table's forward tolerance. */
  tolerance?: Tolerance;
  /** False when the op has no gradient to check. Default true. */
  grad?: boolean;
}

const unary: [string, (t: Tensor) => Tensor, (x: number) => number, InputSpec['kind']?][] = [
  ['neg', (t) => t.neg(), (x) => -x],
  ['exp', (t) => t.exp(), Math.exp],
  ['log', (t) => t.log(), Math.log, 'positive'],
  ['sqrt', (t) => t.sqrt(), Math.sqrt, 'positive'],
  ['recip', (t) => t.recip(), (x) => 1 / x, 'positive'],
  ['tanh', (t) => t.tanh(), Math.tanh],
  ['sin', (t) => t.sin(), Math.sin],
  ['cos', (t) => t.cos(), Math.cos],
  ['abs', (t) => t.abs(), Math.abs],
  ['rsqrt', (t) => t.rsqrt(), (x) => 1 / Math.sqrt(x), 'positive'],
  ['square', (t) => t.square(), (x) => x * x],
  ['relu', (t) => t.relu(), (x) => Math.max(x, 0)],
  ['sigmoid', (t) => t.sigmoid(), R.sigmoid],
  ['gelu', (t) => t.gelu(), R.gelu],
  ['silu', (t) => t.silu(), R.silu],
];

const binary: [
  string,
  (a: Tensor, b: Tensor) => Tensor,
  (x: number, y: number) => number,
  InputSpec['kind']?,
  InputSpec['kind']?,
][] = [
  ['add', (a, b) => a.add(b), (x, y) => x + y],
  ['sub', (a, b) => a.sub(b), (x, y) => x - y],
  ['mul', (a, b) => a.mul(b), (x, y) => x * y],
  ['div', (a, b) => a.div(b), (x, y) => x / y, 'normal', 'positive'],
  ['pow', (a, b) => a.pow(b), (x, y) => x ** y, 'positive', 'normal'],
  ['maximum', (a, b) => a.maximum(b), Math.max],
  ['minimum', (a, b) => a.minimum(b), Math.min],
];

const comparisons: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => boolean][] =
  [
    ['lt', (a, b) => a.lt(b), (x, y) => x < y],
    ['le', (a, b) => a.le(b), (x, y) => x <= y],
    ['gt', (a, b) => a.gt(b), (x, y) => x > y],
    ['ge', (a, b) => a.ge(b), (x, y) => x >= y],
    ['eq', (a, b) => a.eq(b), (x, y) => x === y],
    ['ne', (a, b) => a.ne(b), (x, y) => x !== y],
  ];

const int = (values: number[]): InputSpec => ({ shape: [values.length], dtype: 'int32', values });

function randomRef(shape: number[], attrs: RandomAttrs): R.Arr64 {
  const out = R.arr(shape);
  philoxFill(out.data, out.data.length, attrs);
  return { shape, data: Float64Array.from(Float32Array.from(out.data)) };
}

export const OP_CASES: OpCase[] = [
  ...unary.map(([op, run, f, kind]) => ({
    op,
    label: `${op} [3, 4]`,
    inputs: [{ shape: [3, 4], kind }],
    run: ([x]: Tensor[]) => run(x),
    ref: ([x]: R.Arr64[]) => R.map(x, f),
  })),
  ...unary.slice(0, 3).map(([op, run, f, kind]) => ({
    op,
    label: `${op} of a transposed view`,
    inputs: [{ shape: [4, 3], kind }],
    run: ([x]: Tensor[]) => run(x.mT),
    ref: ([x]: R.Arr64[]) => R.map(R.permute(x, [1, 0]), f),
  })),
  {
    op: 'sign',
    label: 'sign with zeros',
    inputs: [{ shape: [5], values: [-2, 0, 3, -0.5, 0] }],
    run: ([x]) => x.sign(),
    ref: ([x]) => R.map(x, Math.sign),
    grad: false,
  },
  ...binary.flatMap(([op, run, f, ka, kb]) => [
    {
      op,
      label: `${op} same shape`,
      inputs: [
        { shape: [2, 3], kind: ka },
        { shape: [2, 3], kind: kb },
      ],
      run: ([a, b]: Tensor[]) => run(a, b),
      ref: ([a, b]: R.Arr64[]) => R.zip(a, b, f),
    },
    {
      op,
      label: `${op} broadcast [2, 1, 3] x [4, 1]`,
      inputs: [
        { shape: [2, 1, 3], kind: ka },
        { shape: [4, 1], kind: kb },
      ],
      run: ([a, b]: Tensor[]) => run(a, b),
      ref: ([a, b]: R.Arr64[]) => R.zip(a, b, f),
    },
  ]),
  ...comparisons.map(([op, run, f]) => ({
    op,
    label: `${op} broadcast with ties`,
    inputs: [
      { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
      { shape: [3], values: [2, 2, 5] },
    ],
    run: ([a, b]: Tensor[]) => run(a, b),
    ref: ([a, b]: R.Arr64[]) => R.zip(a, b, (x, y) => (f(x, y) ? 1 : 0)),
    grad: false,
  })),
  {
    op: 'add',
    label: 'int32 add with a number',
    inputs: [int([1, -2, 3])],
    run: ([a]) => a.add(5),
    ref: ([a]) => R.map(a, (x) => x + 5),
    grad: false,
  },
  {
    op: 'where',
    label: 'where broadcast',
    inputs: [{ shape: [2, 1], kind: 'mask', grad: false }, { shape: [2, 3] }, { shape: [3] }],
    run: ([c, a, b]) => where(c, a, b),
    ref: ([c, a, b]) => R.zip3(c, a, b, (q, x, y) => (q !== 0 ? x : y)),
  },
  {
    op: 'cast',
    label: 'cast float32 -> int32 truncates toward zero',
    inputs: [{ shape: [4], values: [1.7, -1.7, 2.5, -0.2] }],
    run: ([x]) => cast(x, 'int32'),
    ref: ([x]) => R.map(x, Math.trunc),
    grad: false,
  },
  {
    op: 'cast',
    label: 'cast float32 -> float32 keeps gradients',
    inputs: [{ shape: [3] }],
    run: ([x]) => cast(x, 'float32'),
    ref: ([x]) => x,
  },
  // ---- reductions
  ...(
    [
      [[1], false],
      [[0, 2], true],
      [undefined, false],
    ] as [number[] | undefined, boolean][]
  ).flatMap(([axes, keep]) => {
    const all = (x: R.Arr64) => axes ?? x.shape.map((_, i) => i);
    return [
      {
        op: 'sum',
        label: `sum axes ${JSON.stringify(axes)} keepDims ${keep}`,
        inputs: [{ shape: [2, 3, 4] }],
        run: ([x]: Tensor[]) => x.sum(axes, keep),
        ref: ([x]: R.Arr64[]) => R.sum(x, all(x), keep),
      },
      {
        op: 'max',
        label: `max axes ${JSON.stringify(axes)} keepDims ${keep}`,
        inputs: [{ shape: [2, 3, 4] }],
        run: ([x]: Tensor[]) => x.max(axes, keep),
        ref: ([x]: R.Arr64[]) => R.max(x, all(x), keep),
      },
      {
        op: 'min',
        label: `min axes ${JSON.stringify(axes)} keepDims ${keep}`,
        inputs: [{ shape: [2, 3, 4] }],
        run: ([x]: Tensor[]) => x.min(axes, keep),
        ref: ([x]: R.Arr64[]) => R.min(x, all(x), keep),
      },
      {
        op: 'mean',
        label: `mean axes ${JSON.stringify(axes)} keepDims ${keep}`,
        inputs: [{ shape: [2, 3, 4] }],
        run: ([x]: Tensor[]) => x.mean(axes, keep),
        ref: ([x]: R.Arr64[]) => {
          const s = R.sum(x, all(x), keep);
          const n = all(x).reduce((p, a) => p * x.shape[a], 1);
          return R.map(s, (v) => v / n);
        },
      },
      {
        op: 'logsumexp',
        label: `logsumexp axes ${JSON.stringify(axes)} keepDims ${keep}`,
        inputs: [{ shape: [2, 3, 4] }],
        run: ([x]: Tensor[]) => logsumexp(x, axes, keep),
        ref: ([x]: R.Arr64[]) => R.logsumexp(x, all(x), keep),
      },
    ];
  }),
  {
    op: 'max',
    label: 'max over a transposed view',
    inputs: [{ shape: [3, 4] }],
    run: ([x]) => x.mT.max(-1),
    ref: ([x]) => R.max(R.permute(x, [1, 0]), [1]),
  },
  {
    op: 'argmax',
    label: 'argmax axis 1 (first of ties)',
    inputs: [{ shape: [2, 4], values: [1, 5, 5, 2, -1, -3, -2, -1] }],
    run: ([x]) => x.argmax(1),
    ref: ([x]) => R.argmax(x, 1),
    grad: false,
  },
  // ---- matmul
  {
    op: 'matmul',
    label: 'matmul [3, 4] x [4, 5]',
    inputs: [{ shape: [3, 4] }, { shape: [4, 5] }],
    run: ([a, b]) => matmul(a, b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    op: 'matmul',
    label: 'matmul with transposed operands (views, no copies)',
    inputs: [{ shape: [4, 3] }, { shape: [5, 4] }],
    run: ([a, b]) => a.mT.matmul(b.mT),
    ref: ([a, b]) => R.matmul(R.permute(a, [1, 0]), R.permute(b, [1, 0])),
  },
  {
    op: 'matmul',
    label: 'batched matmul, broadcast batch [2, 1, 5, 3] x [4, 3, 2]',
    inputs: [{ shape: [2, 1, 5, 3] }, { shape: [4, 3, 2] }],
    run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    op: 'matmul',
    label: 'batched matmul q k^T [2, 3, 4] x [2, 5, 4]^T',
    inputs: [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }],
    run: ([a, b]) => a.matmul(b.mT),
    ref: ([a, b]) => R.matmul(a, R.permute(b, [0, 2, 1])),
  },
  {
    op: 'matmul',
    label: 'larger matmul (packed tile path), odd sizes [2, 21, 13] x [13, 18]',
    inputs: [{ shape: [2, 21, 13] }, { shape: [13, 18] }],
    run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    op: 'matmul',
    label: 'larger matmul with both operands transposed [13, 21]^T x [18, 13]^T',
    inputs: [{ shape: [13, 21] }, { shape: [18, 13] }],
    run: ([a, b]) => a.mT.matmul(b.mT),
    ref: ([a, b]) => R.matmul(R.permute(a, [1, 0]), R.permute(b, [1, 0])),
  },
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
