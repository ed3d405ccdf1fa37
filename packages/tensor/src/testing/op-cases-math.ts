/** Conformance cases: elementwise ops, comparisons, where, cast, reductions, matmul. */
import { cast, logsumexp, matmul, type Tensor, where } from '../index.js';
import type { InputSpec, OpCase } from './op-case-types.js';
import * as R from './reference64.js';

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

export const MATH_CASES: OpCase[] = [
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
];
