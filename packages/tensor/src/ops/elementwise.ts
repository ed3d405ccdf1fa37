/** Elementwise ops with NumPy broadcasting: unary, binary, comparisons, where, and simple compositions. */
import type { BinaryKernel, UnaryKernel } from '../backend.js';
import type { DType } from '../dtype.js';
import { tidy } from '../engine.js';
import { UnsupportedOpError } from '../errors.js';
import { defineOp, type Tolerance } from '../op-table.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { sumTo } from './sum-to.js';

/** A tensor or a plain number (made a scalar of the other operand's dtype). */
export type Operand = Tensor | number;

const FLOAT_TOL: Tolerance = { rtol: 2e-6, atol: 1e-6 };
const TRANSCENDENTAL_TOL: Tolerance = { rtol: 1e-5, atol: 1e-6 };

// ---- unary ------------------------------------------------------------------------------------

type UnaryRule = (g: Tensor, x: Tensor, out: Tensor) => Tensor | null;

function unaryOp(
  name: UnaryKernel,
  floatOnly: boolean,
  rule: UnaryRule | null,
  tolerance: Tolerance,
  doc: string,
  saves: 'x' | 'out' | 'none' = 'none',
) {
  const call = defineOp<Record<string, never>>({
    name,
    kind: 'primitive',
    doc,
    differentiable: rule !== null,
    tolerance,
    forward: ([x], _attrs, ctx) => {
      const out = x.newEmpty(x.shape, x.dtype, name);
      x.backend.run({ kernel: name, inputs: [x.view()], output: out.view(), attrs: {} });
      ctx.save(saves === 'x' ? x : undefined, saves === 'out' ? out : undefined);
      return out;
    },
    backward: rule ? (g, ctx) => [rule(g, ctx.saved[0], ctx.saved[1])] : undefined,
  });
  return (x: Tensor): Tensor => {
    if (floatOnly && x.dtype === 'int32') {
      const f = cast(x, 'float32');
      try {
        return call([f], {});
      } finally {
        f.dispose();
      }
    }
    return call([x], {});
  };
}

export const neg = unaryOp('neg', false, (g) => g.neg(), FLOAT_TOL, '-x');
export const exp = unaryOp(
  'exp',
  true,
  (g, _x, out) => g.mul(out),
  TRANSCENDENTAL_TOL,
  'e^x',
  'out',
);
export const log = unaryOp(
  'log',
  true,
  (g, x) => g.div(x),
  TRANSCENDENTAL_TOL,
  'natural logarithm',
  'x',
);
export const sqrt = unaryOp(
  'sqrt',
  true,
  (g, _x, out) => g.div(out.mul(2)),
  TRANSCENDENTAL_TOL,
  'square root',
  'out',
);
export const recip = unaryOp(
  'recip',
  true,
  (g, _x, out) => g.mul(out.square()).neg(),
  FLOAT_TOL,
  '1 / x',
  'out',
);
export const tanh = unaryOp(
  'tanh',
  true,
  (g, _x, out) => g.mul(out.square().neg().add(1)),
  TRANSCENDENTAL_TOL,
  'hyperbolic tangent',
  'out',
);
export const sin = unaryOp('sin', true, (g, x) => g.mul(x.cos()), TRANSCENDENTAL_TOL, 'sine', 'x');
export const cos = unaryOp(
  'cos',
  true,
  (g, x) => g.mul(x.sin()).neg(),
  TRANSCENDENTAL_TOL,
  'cosine',
  'x',
);
export const abs = unaryOp('abs', false, (g, x) => g.mul(x.sign()), FLOAT_TOL, '|x|', 'x');
export const sign = unaryOp('sign', false, null, FLOAT_TOL, '-1, 0 or 1 (no gradient)');

// ---- binary -----------------------------------------------------------------------------------

type BinaryRule = (
  g: Tensor,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  needs: boolean[],
) => [Tensor | null, Tensor | null];

const COMPARISONS = new Set<BinaryKernel>(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);

function binaryOp(
  name: BinaryKernel,
  floatOnly: boolean,
  rule: BinaryRule | null,
  tolerance: Tolerance,
  doc: string,
  saves: (needs: boolean[]) => [boolean, boolean, boolean] = () => [false, false, false],
) {
  const outDType = (a: DType): DType => (COMPARISONS.has(name) ? 'float32' : a);
  const call = defineOp<Record<string, never>>({
    name,
    kind: 'primitive',
    doc,
    differentiable: rule !== null,
    tolerance,
    forward: ([a, b], _attrs, ctx) => {
      const shape = broadcastShapes(a.shape, b.shape, name);
      const out = a.newEmpty(shape, outDType(a.dtype), name);
      a.backend.run({
        kernel: name,
        inputs: [a.broadcastView(shape, name), b.broadcastView(shape, name)],
        output: out.view(),
        attrs: {},
      });
      if (ctx.recording) {
        const [sa, sb, so] = saves(ctx.needsGrad);
        ctx.save(sa ? a : undefined, sb ? b : undefined, so ? out : undefined);
      }
      return out;
    },
    backward: rule
      ? (g, ctx) => {
          const [a, b, out] = ctx.saved;
          const [ga, gb] = rule(g, a, b, out, ctx.needsGrad);
          return [ga && sumTo(ga, ctx.inputShapes[0]), gb && sumTo(gb, ctx.inputShapes[1])];
        }
      : undefined,
  });
  return (a: Operand, b: Operand): Tensor => binaryCall(call, a, b, floatOnly, name);
}

/** Converts numbers to scalars and promotes int32 to float32 where operands differ, then calls. */
function binaryCall(
  call: (inputs: readonly Tensor[], attrs: Record<string, never>) => Tensor,
  a: Operand,
  b: Operand,
  floatOnly: boolean,
  name: string,
): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new TypeError('binary op: at least one operand must be a Tensor');
  }
  for (const x of [a, b]) if (typeof x !== 'number') checkComputeDType(x, name);
  const temps: Tensor[] = [];
  try {
    const like = (typeof a === 'number' ? b : a) as Tensor;
    const wantFloat =
      floatOnly ||
      like.dtype === 'float32' ||
      (typeof a === 'number' && !Number.isInteger(a)) ||
      (typeof b === 'number' && !Number.isInteger(b)) ||
      (typeof a !== 'number' && a.dtype === 'float32') ||
      (typeof b !== 'number' && b.dtype === 'float32');
    const target: DType = wantFloat ? 'float32' : 'int32';
    const toTensor = (x: Operand): Tensor => {
      if (typeof x === 'number') {
        const s = like.newFull([], x, target);
        temps.push(s);
        return s;
      }
      if (x.dtype === target) return x;
      const c = cast(x, target);
      temps.push(c);
      return c;
    };
    return call([toTensor(a), toTensor(b)], {});
  } finally {
    for (const t of temps) t.dispose();
  }
}

// Ties of maximum/minimum split the gradient evenly, so the rule is symmetric (as PyTorch >= 1.8).
function pickMask(a: Tensor, b: Tensor, strict: 'gt' | 'lt'): Tensor {
  return (strict === 'gt' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
}

export const add = binaryOp(
  'add',
  false,
  (g, _a, _b, _o, n) => [n[0] ? g : null, n[1] ? g : null],
  FLOAT_TOL,
  'a + b',
);
export const sub = binaryOp(
  'sub',
  false,
  (g, _a, _b, _o, n) => [n[0] ? g : null, n[1] ? g.neg() : null],
  FLOAT_TOL,
  'a - b',
);
export const mul = binaryOp(
  'mul',
  false,
  (g, a, b, _o, n) => [n[0] ? g.mul(b) : null, n[1] ? g.mul(a) : null],
  FLOAT_TOL,
  'a * b',
  (n) => [n[1], n[0], false],
);
export const div = binaryOp(
  'div',
  true,
  (g, a, b, _o, n) => [n[0] ? g.div(b) : null, n[1] ? g.mul(a).div(b.square()).neg() : null],
  FLOAT_TOL,
  'a / b',
  (n) => [n[1], true, false],
);
export const pow = binaryOp(
  'pow',
  true,
  (g, a, b, out, n) => [
    n[0] ? g.mul(b).mul(a.pow(b.sub(1))) : null,
    n[1] ? g.mul(out).mul(a.log()) : null,
  ],
  TRANSCENDENTAL_TOL,
  'a ** b',
  (n) => [true, true, n[1]],
);
export const maximum = binaryOp(
  'maximum',
  false,
  (g, a, b, _o, n) => {
    const m = pickMask(a, b, 'gt');
    return [n[0] ? g.mul(m) : null, n[1] ? g.mul(m.neg().add(1)) : null];
  },
  FLOAT_TOL,
  'elementwise max (ties split the gradient)',
  () => [true, true, false],
);
export const minimum = binaryOp(
  'minimum',
  false,
  (g, a, b, _o, n) => {
    const m = pickMask(a, b, 'lt');
    return [n[0] ? g.mul(m) : null, n[1] ? g.mul(m.neg().add(1)) : null];
  },
  FLOAT_TOL,
  'elementwise min (ties split the gradient)',
  () => [true, true, false],
);
export const lt = binaryOp('lt', false, null, FLOAT_TOL, 'a < b as 1/0 float32');
export const le = binaryOp('le', false, null, FLOAT_TOL, 'a <= b as 1/0 float32');
export const gt = binaryOp('gt', false, null, FLOAT_TOL, 'a > b as 1/0 float32');
export const ge = binaryOp('ge', false, null, FLOAT_TOL, 'a >= b as 1/0 float32');
export const eq = binaryOp('eq', false, null, FLOAT_TOL, 'a == b as 1/0 float32');
export const ne = binaryOp('ne', false, null, FLOAT_TOL, 'a != b as 1/0 float32');

// ---- where ------------------------------------------------------------------------------------

const whereOp = defineOp<Record<string, never>>({
  name: 'where',
  kind: 'primitive',
  doc: 'cond != 0 ? a : b, broadcast over all three',
  differentiable: true,
  tolerance: { rtol: 0, atol: 0 },
  forward: ([c, a, b], _attrs, ctx) => {
    const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
    const out = a.newEmpty(shape, a.dtype, 'where');
    a.backend.run({
      kernel: 'where',
      inputs: [
        c.broadcastView(shape, 'where'),
        a.broadcastView(shape, 'where'),
        b.broadcastView(shape, 'where'),
      ],
      output: out.view(),
      attrs: {},
    });
    ctx.save(c);
    return out;
  },
  backward: (g, ctx) => {
    const [c] = ctx.saved;
    const zero = g.scalarLike(0);
    return [
      null,
      ctx.needsGrad[1] ? sumTo(where(c, g, zero), ctx.inputShapes[1]) : null,
      ctx.needsGrad[2] ? sumTo(where(c, zero, g), ctx.inputShapes[2]) : null,
    ];
  },
});

/** `cond != 0 ? a : b` elementwise, broadcasting all three. Numbers become scalars. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  for (const x of [cond, a, b]) if (typeof x !== 'number') checkComputeDType(x, 'where');
  const like = typeof a === 'number' ? (typeof b === 'number' ? cond : b) : a;
  const temps: Tensor[] = [];
  const dtype: DType =
    (typeof a !== 'number' && a.dtype === 'float32') ||
    (typeof b !== 'number' && b.dtype === 'float32') ||
    (typeof a === 'number' && typeof b === 'number') ||
    (typeof a === 'number' && !Number.isInteger(a)) ||
    (typeof b === 'number' && !Number.isInteger(b))
      ? 'float32'
      : 'int32';
  const conv = (x: Operand): Tensor => {
    let t: Tensor;
    if (typeof x === 'number') {
      t = like.newFull([], x, dtype);
      temps.push(t);
    } else t = x;
    if (t.dtype !== dtype) {
      t = cast(t, dtype);
      temps.push(t);
    }
    return t;
  };
  try {
    return whereOp([cond, conv(a), conv(b)], {});
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** Half precision is a storage dtype here: refuse it before any implicit conversion. */
function checkComputeDType(t: Tensor, op: string): void {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new UnsupportedOpError(
      op,
      t.dtype,
      t.backend.name,
      'half precision is storage only here; cast to float32 first',
    );
  }
}

// ---- compositions -----------------------------------------------------------------------------

export function square(x: Tensor): Tensor {
  return mul(x, x);
}
export function rsqrt(x: Tensor): Tensor {
  const s = sqrt(x);
  try {
    return recip(s);
  } finally {
    s.dispose();
  }
}
/** max(x, 0); the gradient at 0 is 0 (as in PyTorch). */
export function relu(x: Tensor): Tensor {
  const pos = x.gt(0);
  try {
    return where(pos, x, 0);
  } finally {
    pos.dispose();
  }
}
/** 1 / (1 + e^-x), as 0.5 tanh(x / 2) + 0.5 so neither tail overflows. */
export function sigmoid(x: Tensor): Tensor {
  return composed(() => x.mul(0.5).tanh().mul(0.5).add(0.5));
}

/** @internal Runs a composition, disposing its intermediates but not its result. */
export function composed(fn: () => Tensor): Tensor {
  return tidy(fn);
}
