/**
 * Fused routines: a backend's own implementation of a composite op (softmax, layerNorm,
 * attention, the vocabulary head) or of `adamwStep`, used by `applyOp` in place of the
 * composition. They are not part of the backend contract (backend.ts: storage and kernels):
 * they work on tensors, so they sit above the Tensor class, and whoever assembles a backend
 * registers them on it (`registerRoutine` of `KernelBackend`, or `routines` of
 * `createCpuBackend`). The op table looks them up with `routineOf(backend, op)`.
 *
 * Each routine receives the attributes of its op, typed by name in `RoutineAttrs`.
 */

import type { OpContext } from './autograd.js';
import type { Backend } from './backend.js';
import type { AdamWRoutineAttrs } from './ops/adamw.js';
import type { Tensor } from './tensor.js';

/** softmax, logSoftmax: the (normalized) axis. */
export interface SoftmaxAttrs {
  axis: number;
}

/** crossEntropy, linearCrossEntropy: inputs (logits or x, W), targets, and a mask if `hasMask`. */
export interface CrossEntropyAttrs {
  ignoreIndex: number;
  hasMask: boolean;
}

/** layerNorm, rmsNorm: inputs x, then the weight if `hasWeight`, then the bias if `hasBias`. */
export interface NormAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

/** scaledDotProductAttention: inputs q, k, v. */
export interface AttentionAttrs {
  causal: boolean;
  scale: number;
}

/** dropout: the keep threshold and the Philox stream of the mask. */
export interface DropoutAttrs {
  p: number;
  seed: number;
  offset: number;
}

/** Reductions (sum, max, min, argmax, logsumexp): normalized axes. */
export interface AxesAttrs {
  axes: number[];
  keepDims: boolean;
}

/** No attributes (gelu, silu). */
export type NoAttrs = Record<string, never>;

/** The attributes each fusable op hands its routine, by op name. */
export interface RoutineAttrs {
  softmax: SoftmaxAttrs;
  logSoftmax: SoftmaxAttrs;
  crossEntropy: CrossEntropyAttrs;
  linearCrossEntropy: CrossEntropyAttrs;
  layerNorm: NormAttrs;
  rmsNorm: NormAttrs;
  gelu: NoAttrs;
  silu: NoAttrs;
  dropout: DropoutAttrs;
  logsumexp: AxesAttrs;
  scaledDotProductAttention: AttentionAttrs;
  /** Not an op-table entry: `adamwStep` calls it directly (see ops/adamw.ts). */
  adamwStep: AdamWRoutineAttrs;
}

/** Names of ops a backend may fuse (any other composite op of the table works too). */
export type RoutineName = keyof RoutineAttrs | (string & {});

/**
 * A fused implementation of an op with attributes `A`. A routine without `backward` is used
 * only when no gradient is needed (the composition runs otherwise). Methods, not function
 * properties, so routines of different ops can share a table.
 */
export interface Routine<A = unknown> {
  forward(inputs: readonly Tensor[], attrs: A, ctx: OpContext<A>): Tensor;
  backward?(grad: Tensor, ctx: OpContext<A>): (Tensor | null)[];
}

/** The routine type of op `N`. */
export type RoutineOf<N extends RoutineName> = N extends keyof RoutineAttrs
  ? Routine<RoutineAttrs[N]>
  : Routine;

/** Routines by op name (what `createCpuBackend({ routines })` and the backends' tables take). */
export type RoutineTable = { readonly [N in keyof RoutineAttrs]?: Routine<RoutineAttrs[N]> } & {
  readonly [op: string]: Routine | undefined;
};

/** A backend that carries fused routines (every `KernelBackend` does). */
export interface RoutineHost {
  routine(op: string): Routine | undefined;
}

/** The fused routine `backend` registered for `op`, if any. */
export function routineOf<N extends RoutineName>(
  backend: Backend,
  op: N,
): RoutineOf<N> | undefined {
  // Routines are keyed by name, so the table cannot know each one's attribute type.
  return (backend as Backend & Partial<RoutineHost>).routine?.(op) as RoutineOf<N> | undefined;
}
