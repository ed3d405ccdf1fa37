/**
 * Reverse-mode autograd. Each differentiable op call records a Node: the op's gradient rule,
 * the inputs' edges, and the values the rule saved. `backward` walks the nodes in reverse
 * topological order (micrograd's algorithm), accumulates into leaf `.grad`, then frees the graph.
 * Gradient rules run with recording off, so double backward is not supported.
 *
 * Lifetime: a node is referenced by the tensor it produced and by downstream nodes. Disposing a
 * tensor drops its reference; a node nobody references frees its saved values at once, so a
 * forward pass without backward leaks nothing once its outputs are disposed.
 */
import { keep, noGrad, tidy } from './engine.js';
import { formatShape, type Shape, shapesEqual } from './shape.js';
import type { Tensor } from './tensor.js';

/** What a forward pass hands to its gradient rule. */
export class OpContext<A = unknown> {
  /** Values saved with `save` (aliases that keep their buffers alive until backward). */
  readonly saved: Tensor[] = [];
  private readonly versions: number[] = [];
  readonly inputShapes: Shape[];
  readonly inputDTypes: string[];
  /** Per input: whether a gradient is wanted (rules may skip the others). */
  readonly needsGrad: boolean[];

  constructor(
    readonly op: string,
    readonly attrs: A,
    inputs: readonly Tensor[],
    /** True when a node will be recorded (saving is a no-op otherwise). */
    readonly recording: boolean,
  ) {
    this.inputShapes = inputs.map((t) => t.shape);
    this.inputDTypes = inputs.map((t) => t.dtype);
    this.needsGrad = inputs.map((t) => recording && t.requiresGrad);
  }

  /**
   * Keeps `ts` for the gradient rule (no copy; the buffer stays alive until backward). Pass
   * `undefined` for a slot the rule will not need (so `saved` keeps its positions and nothing is
   * held): saving only what a rule reads keeps training memory down.
   */
  save(...ts: (Tensor | undefined)[]): void {
    if (!this.recording) return;
    for (const t of ts) {
      this.saved.push(t ? t.alias() : (undefined as unknown as Tensor));
      this.versions.push(t ? t.storage.version : -1);
    }
  }

  /** @internal */
  checkVersions(): void {
    for (let i = 0; i < this.saved.length; i++) {
      if (this.saved[i] && this.saved[i].storage.version !== this.versions[i]) {
        throw new Error(
          `backward: a value saved by '${this.op}' (${formatShape(this.saved[i].shape)}) was modified in place ` +
            'after the forward pass; clone() it before modifying, or modify it under noGrad only after backward',
        );
      }
    }
  }

  /** @internal */
  release(): void {
    for (const t of this.saved) t?.dispose();
    this.saved.length = 0;
  }
}

export type GradRule = (grad: Tensor, ctx: OpContext) => (Tensor | null)[];
/** Adds the (single) input's gradient into `acc` in place (see `OpDef.backwardInto`). */
export type GradInto = (grad: Tensor, ctx: OpContext, acc: Tensor) => void;

type Edge = { node: Node } | { leaf: Tensor } | null;

/** @internal One recorded op application. */
export class Node {
  private refs = 1;
  released = false;
  readonly edges: Edge[];

  constructor(
    readonly op: string,
    readonly ctx: OpContext,
    readonly rule: GradRule,
    inputs: readonly Tensor[],
    readonly ruleInto?: GradInto,
  ) {
    this.edges = inputs.map((t) => {
      if (!t.requiresGrad) return null;
      if (t.node) {
        t.node.retain();
        return { node: t.node };
      }
      return { leaf: t };
    });
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs <= 0) this.free();
  }

  free(): void {
    if (this.released) return;
    this.released = true;
    this.ctx.release();
    for (const e of this.edges) if (e && 'node' in e) e.node.release();
  }
}

function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.edges.length) {
      top[1]++;
      const e = node.edges[i];
      if (e && 'node' in e && !seen.has(e.node)) {
        seen.add(e.node);
        stack.push([e.node, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order; // inputs before outputs
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.disposed) {
    throw new Error(
      `backward: leaf ${leaf.toString()} was disposed before backward; keep parameters alive until the step ends`,
    );
  }
  const prev = leaf.grad;
  // A fresh contiguous copy: gradient rules may hand the same buffer to several inputs.
  leaf.grad = keep(prev ? prev.add(g) : g.clone());
  prev?.dispose();
}

/** Options of `backward`. */
export interface BackwardOptions {
  /**
   * Called once per leaf of the graph, as soon as that leaf will receive no more gradient in
   * this backward: its `.grad` then holds its final value for this pass (accumulated onto what
   * it held before). Leaves the graph does not reach are not reported. For overlapping work
   * with the rest of backward, e.g. starting a data-parallel gradient all-reduce of the layers
   * that are done while the earlier layers are still being differentiated. It runs inside
   * backward (synchronously, gradient recording off); an error it throws stops backward and
   * frees the graph.
   */
  onLeafGradReady?: (leaf: Tensor) => void;
}

/** Counts down the leaf edges of `node` (just run), reporting each leaf that is now final. */
function settleLeaves(
  node: Node,
  pending: Map<Tensor, number>,
  ready: (leaf: Tensor) => void,
): void {
  for (const e of node.edges) {
    if (!e || !('leaf' in e)) continue;
    const left = pending.get(e.leaf)! - 1;
    pending.set(e.leaf, left);
    if (left === 0) ready(e.leaf);
  }
}

/**
 * How many gradient contributions each leaf still awaits: one per edge into it from a node of
 * `order`. Every node's edges are visited exactly once by the backward loop (whether or not the
 * node received a gradient and whether or not its rule returned one for the edge), so a leaf is
 * final when its count reaches zero.
 */
function leafEdgeCounts(order: Node[]): Map<Tensor, number> {
  const pending = new Map<Tensor, number>();
  for (const node of order) {
    for (const e of node.edges) {
      if (e && 'leaf' in e) pending.set(e.leaf, (pending.get(e.leaf) ?? 0) + 1);
    }
  }
  return pending;
}

/**
 * Backpropagates from `root` (seed `grad`, default 1 for a one-element root) into leaf `.grad`s.
 * `options.onLeafGradReady` reports each leaf once its gradient is final (see BackwardOptions);
 * without it, backward does no extra work.
 */
export function backward(root: Tensor, grad?: Tensor, options?: BackwardOptions): void {
  root.assertAlive('backward');
  if (!root.requiresGrad) {
    throw new Error(
      `backward: ${root.toString()} does not require grad; set requiresGrad on the leaves it depends on (and call outside noGrad)`,
    );
  }
  if (!grad && root.size !== 1) {
    throw new Error(
      `backward: ${root.toString()} has ${root.size} elements; pass a gradient of shape ${formatShape(root.shape)} or reduce to a scalar first`,
    );
  }
  if (grad && !shapesEqual(grad.shape, root.shape)) {
    throw new RangeError(
      `backward: gradient shape ${formatShape(grad.shape)} does not match ${formatShape(root.shape)}`,
    );
  }
  const rootNode = root.node;
  if (rootNode?.released) {
    throw new Error(
      `backward: the graph of ${root.toString()} was already freed by an earlier backward(); run the forward pass again`,
    );
  }
  noGrad(() =>
    tidy(() => {
      const seed = grad ? grad.clone() : root.onesLike();
      const ready = options?.onLeafGradReady;
      if (!rootNode) {
        accumulateLeaf(root, seed);
        ready?.(root);
        return;
      }
      const order = topoOrder(rootNode);
      // only with the hook: the per-leaf count of edges still to run (zero cost otherwise)
      const pending = ready ? leafEdgeCounts(order) : undefined;
      const grads = new Map<Node, Tensor>([[rootNode, seed]]);
      // accumulators this pass made and nothing else references: safe to add into in place
      const owned = new Set<Tensor>();
      try {
        for (let n = order.length - 1; n >= 0; n--) {
          const node = order[n];
          const g = grads.get(node);
          if (!g) {
            // no gradient reached this node: its leaf edges get nothing from it
            if (pending) settleLeaves(node, pending, ready!);
            continue;
          }
          grads.delete(node);
          node.ctx.checkVersions();
          const only = node.edges.length === 1 ? node.edges[0] : null;
          const acc = node.ruleInto && only && 'node' in only ? grads.get(only.node) : undefined;
          if (acc && owned.has(acc)) {
            tidy(() => node.ruleInto!(g, node.ctx, acc));
            g.dispose();
            if (pending) settleLeaves(node, pending, ready!);
            continue;
          }
          const inGrads = tidy(() => node.rule(g, node.ctx));
          for (let i = 0; i < node.edges.length; i++) {
            const e = node.edges[i];
            const gi = inGrads[i];
            if (!e || !gi) continue;
            if (!shapesEqual(gi.shape, node.ctx.inputShapes[i])) {
              throw new Error(
                `backward: gradient rule of '${node.op}' returned ${formatShape(gi.shape)} for input ${i} of shape ${formatShape(node.ctx.inputShapes[i])}`,
              );
            }
            if ('leaf' in e) accumulateLeaf(e.leaf, gi);
            else {
              const prev = grads.get(e.node);
              const next = prev ? prev.add(gi) : gi.alias();
              // a sum is new; so is what a rule with `ruleInto` returns (its own zeros)
              if (prev || node.ruleInto) owned.add(next);
              grads.set(e.node, next);
              if (prev) {
                owned.delete(prev);
                prev.dispose();
              }
            }
          }
          for (const t of inGrads) t?.dispose();
          g.dispose();
          if (pending) settleLeaves(node, pending, ready!);
        }
      } finally {
        for (const t of grads.values()) t.dispose();
        for (const node of order) node.free();
      }
    }),
  );
}
