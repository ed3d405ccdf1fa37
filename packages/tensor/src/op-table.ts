/**
 * The op table: one declarative entry per op (name, kind, forward, gradient rule, tolerance).
 * Ops are called only through `applyOp`, which picks a backend's fused routine when one is
 * registered (`routineOf`, routine.ts), records the autograd node, and cleans up temporaries.
 * The conformance suite
 * (`@lrw/tensor/testing`) is generated from this table, so every entry is tested on every backend.
 */
import { type GradInto, type GradRule, Node, OpContext } from './autograd.js';
import type { DType } from './dtype.js';
import { isGradEnabled, noGrad, tidy } from './engine.js';
import { routineOf } from './routine.js';
import type { Tensor } from './tensor.js';

export interface Tolerance {
  /** Relative and absolute tolerance of a float32 result against the float64 reference. */
  rtol: number;
  atol: number;
}

/**
 * One op. `primitive` ops compute with kernels and carry their own gradient rule; `composite`
 * ops are written in terms of other ops (autograd flows through them) and are the ones a
 * backend may replace with a fused routine of the same name.
 */
export interface OpDef<A = unknown> {
  readonly name: string;
  readonly kind: 'primitive' | 'composite';
  readonly forward: (inputs: readonly Tensor[], attrs: A, ctx: OpContext<A>) => Tensor;
  readonly backward?: (grad: Tensor, ctx: OpContext<A>) => (Tensor | null)[];
  /**
   * For one-input primitives whose input gradient is mostly zeros (a slice): adds that gradient
   * into `acc`, a gradient of the input's shape that autograd owns, in place. Autograd calls it
   * instead of `backward` when the input already has such an accumulator (e.g. the q, k and v
   * slices of one projection write into one buffer instead of three zero-filled ones summed).
   */
  readonly backwardInto?: (grad: Tensor, ctx: OpContext<A>, acc: Tensor) => void;
  /** False for ops without gradients (comparisons, argmax, sign, ...). */
  readonly differentiable: boolean;
  readonly tolerance: Tolerance;
  /** Tolerances for other compute dtypes (default: `HALF_TOLERANCE` for float16/bfloat16). */
  readonly dtypeTolerance?: Partial<Record<DType, Tolerance>>;
  /** One line for docs and test names. */
  readonly doc: string;
}

const table = new Map<string, OpDef<never>>();

/** Every registered op, by name. */
export const opTable: ReadonlyMap<string, OpDef<never>> = table;

export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-5, atol: 1e-6 };

/** Default tolerances of half-precision results (10 and 7 mantissa bits), for future backends. */
export const HALF_TOLERANCE: Readonly<Record<'float16' | 'bfloat16', Tolerance>> = {
  float16: { rtol: 2e-3, atol: 1e-3 },
  bfloat16: { rtol: 1.6e-2, atol: 1e-2 },
};

/** The conformance tolerance of `op` for results in `dtype`. */
export function toleranceFor(op: string, dtype: DType = 'float32'): Tolerance {
  const def = table.get(op);
  const own = def?.dtypeTolerance?.[dtype];
  if (own) return own;
  if (dtype === 'float16' || dtype === 'bfloat16') return HALF_TOLERANCE[dtype];
  return def?.tolerance ?? DEFAULT_TOLERANCE;
}

/** Adds an op to the table and returns its caller. */
export function defineOp<A>(def: OpDef<A>): (inputs: readonly Tensor[], attrs: A) => Tensor {
  if (table.has(def.name)) throw new Error(`defineOp: op '${def.name}' is defined twice`);
  if (def.kind === 'primitive' && def.differentiable && !def.backward) {
    throw new Error(`defineOp: differentiable primitive '${def.name}' needs a gradient rule`);
  }
  table.set(def.name, def as OpDef<never>);
  return (inputs, attrs) => applyOp(def, inputs, attrs);
}

/** Runs `def` on `inputs`, recording a node when a gradient is needed. */
export function applyOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const backend = inputs[0]?.backend;
  for (const t of inputs) {
    t.assertAlive(def.name);
    if (t.backend !== backend) {
      throw new Error(
        `${def.name}: inputs live on different backends ('${backend?.name}' and '${t.backend.name}'); move one with await t.to(name)`,
      );
    }
  }
  const wantGrad = def.differentiable && isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const routine = backend && routineOf(backend, def.name);
  let forward = def.forward;
  let rule = def.backward as GradRule | undefined;
  if (def.kind === 'composite') {
    if (!routine || (wantGrad && !routine.backward)) {
      // The composition: autograd records its constituent primitives.
      return def.forward(inputs, attrs, new OpContext(def.name, attrs, inputs, false));
    }
    forward = routine.forward;
    rule = routine.backward;
  }
  const recording = wantGrad && rule !== undefined;
  const ctx = new OpContext(def.name, attrs, inputs, recording);
  const out = noGrad(() => tidy(() => forward(inputs, attrs, ctx)));
  if (inputs.includes(out)) {
    throw new Error(
      `${def.name}: forward returned one of its inputs; ops must return a new tensor`,
    );
  }
  if (recording && rule) {
    const into = def.kind === 'primitive' ? (def.backwardInto as GradInto | undefined) : undefined;
    out.setNode(new Node(def.name, ctx as OpContext, rule, inputs, into));
  } else ctx.release();
  return out;
}
