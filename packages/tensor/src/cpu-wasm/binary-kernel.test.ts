import { describe, expect, it } from 'vitest';
import { add, div, getBackend, mul, randn, sub, type Tensor, tensor, tidy } from '../index.js';
import { broadcastPeriod, rowLayout, WASM_BINARY_MIN_ELEMENTS } from './binary-kernel.js';

// The fast backend's wasm add/sub/mul/div against the reference kernels on 'cpu-reference':
// float32 +, -, *, / rounded once are exact in both, so results must be bit-identical, for
// every operand layout the wasm path takes (same shape, bias row, scalar, broadcast first
// operand, odd lengths) and the ones it leaves to the reference kernel (strided, int32, small).
const OPS = { add, sub, mul, div } as const;

function both(build: (backend: string) => Tensor): [Float32Array, Float32Array] {
  const run = (backend: string) =>
    tidy(() => {
      const t = build(backend);
      return Float32Array.from(t.dataSync() as Float32Array);
    });
  return [run('cpu-reference'), run('cpu')];
}

describe('fast cpu binary kernels (wasm SIMD) are bit-identical to the reference', () => {
  const big = [9, 131]; // 1179 elements: above the wasm threshold, odd row length
  const cases: [string, (b: string) => [Tensor, Tensor]][] = [
    [
      'same shape',
      (b) => [randn(big, { seed: 1, backend: b }), randn(big, { seed: 2, backend: b })],
    ],
    [
      'bias row [131]',
      (b) => [randn(big, { seed: 3, backend: b }), randn([131], { seed: 4, backend: b })],
    ],
    [
      'broadcast first operand',
      (b) => [randn([131], { seed: 5, backend: b }), randn(big, { seed: 6, backend: b })],
    ],
    [
      'scalar second operand',
      (b) => [randn(big, { seed: 7, backend: b }), tensor([1.7], { backend: b })],
    ],
    [
      'scalar first operand',
      (b) => [tensor([-0.3], { backend: b }), randn(big, { seed: 8, backend: b })],
    ],
    [
      'trailing block [1, 3, 131] over [4, 3, 131]',
      (b) => [
        randn([4, 3, 131], { seed: 9, backend: b }),
        randn([1, 3, 131], { seed: 10, backend: b }),
      ],
    ],
    [
      'column broadcast [9, 1] (reference path)',
      (b) => [randn(big, { seed: 11, backend: b }), randn([9, 1], { seed: 12, backend: b })],
    ],
    [
      'transposed operand (reference path)',
      (b) => [
        randn(big, { seed: 13, backend: b }),
        randn([131, 9], { seed: 14, backend: b }).transpose(0, 1),
      ],
    ],
    [
      'small (reference path)',
      (b) => [randn([3, 5], { seed: 15, backend: b }), randn([5], { seed: 16, backend: b })],
    ],
  ];
  for (const [name, make] of cases) {
    for (const [opName, op] of Object.entries(OPS)) {
      it(`${opName}: ${name}`, () => {
        const [want, got] = both((b) => {
          const [x, y] = make(b);
          return op(x, y);
        });
        expect(got.length).toBe(want.length);
        expect(Array.from(got)).toEqual(Array.from(want));
      });
    }
  }

  it('in place (add_ writes into its first operand)', () => {
    const [want, got] = both((b) => {
      const x = randn(big, { seed: 17, backend: b });
      x.add_(randn([131], { seed: 18, backend: b }));
      return x;
    });
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  // rows of 131: the wasm kernel one row per call; rows of 40: the plain row loop
  for (const width of [131, 40]) {
    for (const [opName] of Object.entries(OPS)) {
      it(`${opName}_ into a column slice of a wider tensor (rows of ${width}), with a bias row`, () => {
        const [want, got] = both((b) => {
          // [2, 9, 3 * width]: the middle third is a strided [2, 9, width] view
          const wide = randn([2, 9, 3 * width], { seed: 19, backend: b });
          const third = wide.slice(2, width, 2 * width);
          const other = randn([2, 9, width], { seed: 20, backend: b });
          const method = `${opName}_` as 'add_' | 'sub_' | 'mul_' | 'div_';
          third[method](other);
          third[method](randn([width], { seed: 21, backend: b })); // broadcast: row stride 0
          third.dispose();
          return wide;
        });
        expect(Array.from(got)).toEqual(Array.from(want));
      });
    }
  }

  it('rowLayout: rows of the last axis, leading axes collapsed into one stride', () => {
    const v = (strides: number[]) => ({
      buf: { byteLength: 0 },
      dtype: 'float32' as const,
      shape: [],
      strides,
      offset: 0,
    });
    expect(rowLayout(v([147456, 1152, 1]), [8, 128, 384])).toEqual({
      rows: 1024,
      cols: 384,
      rowStride: 1152,
    });
    expect(rowLayout(v([0, 0, 1]), [8, 128, 384])).toEqual({ rows: 1024, cols: 384, rowStride: 0 });
    expect(rowLayout(v([7, 1]), [1, 5])).toEqual({ rows: 1, cols: 5, rowStride: 5 });
    expect(rowLayout(v([1000, 1152, 1]), [8, 128, 384])).toBeUndefined(); // do not collapse
    expect(rowLayout(v([384, 2]), [4, 384])).toBeUndefined(); // strided last axis
    expect(rowLayout(v([1]), [384])).toBeUndefined();
  });

  it('int32 operands stay on the reference kernel', () => {
    const n = WASM_BINARY_MIN_ELEMENTS * 2;
    const a = Int32Array.from({ length: n }, (_, i) => i * 7 - 3000);
    const r = tidy(() =>
      Array.from(
        add(tensor(a, { dtype: 'int32' }), tensor(a, { dtype: 'int32' })).dataSync() as Int32Array,
      ),
    );
    expect(r).toEqual(Array.from(a, (x) => 2 * x));
    expect(getBackend('cpu').name).toBe('cpu');
  });

  it('broadcastPeriod finds the contiguous trailing block', () => {
    const v = (shape: number[], strides: number[]) => ({
      buf: { byteLength: 0 },
      dtype: 'float32' as const,
      shape,
      strides,
      offset: 0,
    });
    expect(broadcastPeriod(v([4, 5], [5, 1]), [4, 5])).toBe(20);
    expect(broadcastPeriod(v([4, 5], [0, 1]), [4, 5])).toBe(5);
    expect(broadcastPeriod(v([4, 5], [0, 0]), [4, 5])).toBe(1);
    expect(broadcastPeriod(v([4, 5], [1, 0]), [4, 5])).toBe(-1);
    expect(broadcastPeriod(v([4, 5], [1, 4]), [4, 5])).toBe(-1);
    expect(broadcastPeriod(v([2, 1, 5], [0, 7, 1]), [2, 1, 5])).toBe(5);
  });
});
