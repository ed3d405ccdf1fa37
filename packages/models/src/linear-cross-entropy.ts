/**
 * Memory-lean vocabulary head + cross-entropy: per-token losses of `h W^T` without keeping the
 * (N, V) logits. The composed path (head matmul, log-softmax, pick) saves several (N, V)
 * tensors for backward; here the forward walks the rows in chunks and saves only the inputs and
 * the per-row log-sum-exp (N), and the backward recomputes each chunk's logits and forms
 * dlogits = (softmax - onehot) * dloss chunk by chunk (the recompute trick of llm.c's fused
 * classifier and of "Cut Your Losses in Large-Vocabulary Language Models", Wijmans et al. 2024).
 * Peak extra memory: a few (chunkRows, V) buffers instead of (N, V) ones, for one more head
 * matmul in the backward.
 *
 * Two paths, one semantics. When the backend has a fused `linearCrossEntropy` routine with a
 * backward (@lrw/tensor's fast `cpu` backend: wasm gemm into one reused 8 MiB logits scratch,
 * float64 softmax sums), the call goes to @lrw/tensor's `linearCrossEntropy` with `active` as
 * its mask. @lrw/tensor's op is a composite, so on a backend without that routine it would
 * materialise the (N, V) logits and keep them for backward; there the op below (an op-table
 * primitive with its own gradient rule) keeps the chunked memory bound on every backend.
 *
 * Legend: N rows (B*T tokens), C channels, V vocabulary, n rows of one chunk.
 */
import {
  applyOp,
  arange,
  type Backend,
  concat,
  defineOp,
  eq,
  linearCrossEntropy as fusedLinearCrossEntropy,
  keep,
  type OpDef,
  opTable,
  routineOf,
  type Tensor,
  takeAlongLastAxis,
  tidy,
  where,
} from '@lrw/tensor';

interface Attrs {
  chunkRows: number;
}

function chunks(N: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 0; r < N; r += size) out.push([r, Math.min(N, r + size)]);
  return out;
}

const OP_NAME = 'lrw.models.linearCrossEntropy';

const definition: OpDef<Attrs> = {
  name: OP_NAME,
  kind: 'primitive',
  doc: 'per-row -log softmax(h W^T)[target] * active, chunked over rows with recompute',
  differentiable: true,
  tolerance: { rtol: 1e-4, atol: 1e-5 },
  // h (N, C), W (V, C), targets (N) int32 in range, active (N) float 0/1 -> losses (N)
  forward: ([h, W, targets, active], { chunkRows }, ctx) => {
    const losses: Tensor[] = [];
    const lses: Tensor[] = [];
    for (const [r0, r1] of chunks(h.shape[0], chunkRows)) {
      const [loss, lse] = tidy(() => {
        const logits = h.slice(0, r0, r1).matmul(W.mT); // (n, V)
        const lse = logits.logsumexp(-1); // (n)
        const picked = takeAlongLastAxis(logits, targets.slice(0, r0, r1)); // (n)
        return [lse.sub(picked).mul(active.slice(0, r0, r1)), lse];
      });
      losses.push(loss);
      lses.push(lse);
    }
    const loss = losses.length === 1 ? losses[0] : concat(losses, 0); // (N)
    const lse = lses.length === 1 ? lses[0] : concat(lses, 0); // (N)
    ctx.save(h, W, targets, active, lse);
    return loss;
  },
  backward: (g, ctx) => {
    const [h, W, targets, active, lse] = ctx.saved;
    const { chunkRows } = ctx.attrs as Attrs;
    const V = W.shape[0];
    const wantH = ctx.needsGrad[0];
    const wantW = ctx.needsGrad[1];
    const dhParts: Tensor[] = [];
    let dW: Tensor | null = null;
    for (const [r0, r1] of chunks(h.shape[0], chunkRows)) {
      tidy(() => {
        const hc = h.slice(0, r0, r1); // (n, C)
        const logits = hc.matmul(W.mT); // (n, V)
        const p = logits.sub(lse.slice(0, r0, r1).unsqueeze(-1)).exp(); // (n, V) softmax
        const vocab = arange(V, undefined, 1, { backend: h.backend.name }).reshape([1, V]);
        const onehot = eq(vocab, targets.slice(0, r0, r1).unsqueeze(-1)); // (n, V)
        const scale = g
          .slice(0, r0, r1)
          .mul(active.slice(0, r0, r1))
          .unsqueeze(-1); // (n, 1)
        // where() keeps inactive rows at exactly 0 even if their logits overflow.
        const dlogits = where(scale.ne(0), p.sub(onehot).mul(scale), 0); // (n, V)
        if (wantH) dhParts.push(keep(dlogits.matmul(W))); // (n, C)
        if (wantW) {
          const part = dlogits.mT.matmul(hc); // (V, C)
          const next = dW ? dW.add(part) : part;
          dW?.dispose();
          dW = keep(next);
        }
      });
    }
    let dh: Tensor | null = null;
    if (wantH) {
      dh = dhParts.length === 1 ? dhParts[0] : concat(dhParts, 0);
      if (dhParts.length > 1) for (const t of dhParts) t.dispose();
    }
    return [dh, dW, null, null];
  },
};

// Defined once per process: a second copy of this module (a duplicate install, or sources and
// dist loaded side by side) reuses the registered entry instead of failing on the name.
const registered = opTable.get(OP_NAME) as OpDef<Attrs> | undefined;
const linearCrossEntropyOp = registered
  ? (inputs: readonly Tensor[], attrs: Attrs) => applyOp(registered, inputs, attrs)
  : defineOp(definition);

export interface LinearCrossEntropyOptions {
  /**
   * Rows per chunk on backends without a fused routine (default 1024): peak extra memory is
   * about 4 * chunkRows * V floats. The fused routine picks its own chunk (8 MiB of logits).
   */
  chunkRows?: number;
}

/** Whether `backend` fuses @lrw/tensor's `linearCrossEntropy` forward and backward. */
export function hasFusedHead(backend: Backend): boolean {
  return routineOf(backend, 'linearCrossEntropy')?.backward !== undefined;
}

/**
 * Per-row losses of the head `W` (V, C) applied to `h` (N, C) against int32 `targets` (N),
 * multiplied by `active` (N, 0/1): -log softmax(h W^T)[target] at active rows, 0 elsewhere.
 * Inactive rows may carry any target value (they are skipped before the lookup). Runs the
 * backend's fused routine when it has one, else the chunked op of this file (see the top).
 */
export function linearCrossEntropy(
  h: Tensor,
  W: Tensor,
  targets: Tensor,
  active: Tensor,
  options: LinearCrossEntropyOptions = {},
): Tensor {
  const chunkRows = options.chunkRows ?? 1024;
  if (!Number.isInteger(chunkRows) || chunkRows <= 0) {
    throw new RangeError(
      `linearCrossEntropy: chunkRows must be a positive integer, got ${chunkRows}`,
    );
  }
  if (h.rank !== 2 || W.rank !== 2 || h.shape[1] !== W.shape[1]) {
    throw new RangeError(
      `linearCrossEntropy: need h (N, C) and W (V, C), got [${h.shape}] and [${W.shape}]`,
    );
  }
  const N = h.shape[0];
  if (targets.dtype !== 'int32' || targets.rank !== 1 || targets.shape[0] !== N) {
    throw new TypeError(
      `linearCrossEntropy: targets must be int32 (N) = [${N}] for h [${h.shape}], got ${targets.dtype} [${targets.shape}]`,
    );
  }
  if (active.rank !== 1 || active.shape[0] !== N) {
    throw new RangeError(
      `linearCrossEntropy: active must be (N) = [${N}] for h [${h.shape}], got [${active.shape}]`,
    );
  }
  if (hasFusedHead(h.backend)) {
    // Rows with active = 0 are skipped before the routine's range check, so they may carry any
    // target, as on the fallback path.
    return fusedLinearCrossEntropy(h, W, targets, { mask: active });
  }
  return tidy(() => {
    const safe = where(active.ne(0), targets, 0);
    return linearCrossEntropyOp([h, W, safe, active], { chunkRows });
  });
}
