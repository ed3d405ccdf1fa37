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

/** Backpropagates from `root` (seed `grad`, default 1 for a one-element root) into leaf `.grad`s. */
export function backward(root: Tensor, grad?: Tensor): void {
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
      if (!rootNode) {
        accumulateLeaf(root, seed);
        return;
      }
      const order = topoOrder(rootNode);
      const grads = new Map<Node, Tensor>([[rootNode, seed]]);
      try {
        for (let n = order.length - 1; n >= 0; n--) {
          const node = order[n];
          const g = grads.get(node);
          if (!g) continue;
          grads.delete(node);
          node.ctx.checkVersions();
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
              grads.set(e.node, prev ? prev.add(gi) : gi.alias());
              prev?.dispose();
            }
          }
          for (const t of inGrads) t?.dispose();
          g.dispose();
        }
      } finally {
        for (const t of grads.values()) t.dispose();
        for (const node of order) node.free();
      }
    }),
  );
}
