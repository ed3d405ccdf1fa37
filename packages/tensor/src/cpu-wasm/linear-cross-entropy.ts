// Fused vocabulary head + log-softmax + per-token cross-entropy on the wasm gemm: the logits are
// computed a chunk of tokens at a time into one reused [R, V] scratch block, never as a [N, V]
// tensor (1024 tokens x 50304 vocabulary = 206 MB for the "tiny" config, twice with its
// gradient). Backward recomputes each chunk's logits (one more x W^T, the trade of
// Liger-Kernel's fused linear cross-entropy / Wijmans et al. 2024 "Cut your losses"), unless
// `keepLogitsBytes` allows keeping them: then one [N, V] product each way, as PyTorch runs it.
// The chunks are blocks of vocabulary columns over all tokens (a block of tokens only where
// tokens x columns would overflow the scratch): every product then has a long inner dimension
// or a wide output (x W_c^T: K = C, N = Vc; dlogits W_c: K = Vc; dlogits^T x: K = tokens), and
// each vocabulary block's rows of dW are written once, not re-accumulated per chunk of tokens
// (with chunks of ~40 tokens, the tiny config's 25 MB dW was read and written 25 times in a
// K = 40 product). Forward combines the blocks' log-sum-exps per token in float64.
import type { CpuBackend } from '../cpu/cpu-backend.js';
import type { Gemm } from '../cpu/gemm.js';
import { f32 } from '../cpu/tensor-f32.js';
import { dense } from '../fused-frames.js';
import type { CrossEntropyAttrs, Routine } from '../routine.js';
import { Tensor } from '../tensor.js';
import type { WasmKernels } from './wasm-kernels.js';

type Attrs = CrossEntropyAttrs;

/** Floats of logits per chunk (8 MiB): small enough for L3, large enough for gemm efficiency. */
const CHUNK_FLOATS = 1 << 21;

/** Fewest vocabulary columns per chunk (a chunk narrower than this takes fewer tokens instead). */
const MIN_CHUNK_COLUMNS = 64;

/**
 * The chunking of an [N, V] logits matrix into blocks of at most `chunkFloats` floats: `cols`
 * vocabulary columns (all of V when it fits) by `rows` tokens (all N when they fit).
 */
function chunking(
  N: number,
  V: number,
  chunkFloats: number,
  minColumns: number,
): { rows: number; cols: number } {
  const cols = Math.max(
    1,
    Math.min(V, Math.max(minColumns, Math.floor(chunkFloats / Math.max(N, 1)))),
  );
  const rows = Math.max(1, Math.min(N, Math.floor(chunkFloats / cols)));
  return { rows, cols };
}

/**
 * Largest [N, V] logits kept from forward for backward, in bytes (default 256 MiB). Kept,
 * forward and backward each run one [N, V] product (dlogits in place over the kept logits, one
 * buffer, never a second), and backward skips recomputing x W^T, a quarter of the head's flops,
 * as PyTorch does (which holds the logits and their log-softmax); above the limit the head is
 * memory-lean: it holds no [N, V] buffer between forward and backward and recomputes the logits
 * chunk by chunk (GPT-2's 50304-token vocabulary passes the limit from 1335 tokens per step).
 * Set per backend (`createFastCpuBackend({ keepHeadLogitsBytes })`) or with
 * LRW_TENSOR_KEEP_HEAD_LOGITS_BYTES; 0 always recomputes.
 */
export const KEEP_LOGITS_BYTES = 256 * 1024 * 1024;

/**
 * The targets as host int32 (`tg`) and whether token i counts (`active`: target != ignoreIndex
 * and mask != 0), checking each counted target's range.
 */
function hostTargets(
  targetsTensor: Tensor,
  maskTensor: Tensor | undefined,
  attrs: Attrs,
  V: number,
): { tg: Int32Array; active: Uint8Array } {
  const N = targetsTensor.size;
  const cpu = targetsTensor.backend as CpuBackend;
  const tv = targetsTensor.view();
  const targets = (cpu.array(tv) as Int32Array).subarray(tv.offset, tv.offset + N);
  const mask = maskTensor
    ? (cpu.array(maskTensor.view()) as Float32Array | Int32Array).subarray(
        maskTensor.offset,
        maskTensor.offset + N,
      )
    : undefined;
  const active = new Uint8Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t === attrs.ignoreIndex || (mask && mask[i] === 0)) continue;
    if (!(t >= 0 && t < V)) {
      throw new RangeError(
        `linearCrossEntropy: target ${t} at token ${i} is outside the vocabulary [0, ${V}); ` +
          `use ignoreIndex (${attrs.ignoreIndex}) for tokens without a target`,
      );
    }
    active[i] = 1;
  }
  return { tg: targets, active };
}

export type { Gemm } from '../cpu/gemm.js';

/**
 * The `linearCrossEntropy` routine of a fast CPU backend whose kernels are `mm`. `chunkFloats`
 * bounds the logits scratch (default 2^21 floats, 8 MiB; tests shrink it to cover many chunks).
 * `gemm` (the native BLAS) replaces `mm.matmul`; it reads operands in place, so nothing is
 * staged in the wasm heap then.
 */
export function linearCrossEntropyRoutine(
  wasmKernels: WasmKernels,
  options: {
    chunkFloats?: number;
    minChunkColumns?: number;
    gemm?: Gemm | undefined;
    keepLogitsBytes?: number;
  } = {},
): Routine<Attrs> {
  const chunkFloats = options.chunkFloats ?? CHUNK_FLOATS;
  const minChunkColumns = options.minChunkColumns ?? MIN_CHUNK_COLUMNS;
  const keepLogitsBytes = options.keepLogitsBytes ?? KEEP_LOGITS_BYTES;
  const gemm = options.gemm;
  const heapStaging = !gemm && wasmKernels.heap.shared;
  const mm = {
    heap: wasmKernels.heap,
    matmul: (gemm ?? wasmKernels).matmul.bind(gemm ?? wasmKernels),
  };
  const rowsKernels = wasmKernels;
  // Grow-only scratch blocks: 0 = logits chunk, 1 = W, 2 = dW accumulator. The logits live in
  // the shared wasm heap whenever there is one (the row kernels read them in place; BLAS reads
  // a shared buffer as well); W and dW only when the wasm gemm reads them.
  const scratch: (Float32Array | undefined)[] = [];
  const heapScratch = (slot: number, length: number): Float32Array => {
    const inHeapMemory = slot === 0 ? wasmKernels.heap.shared : heapStaging;
    let s = scratch[slot];
    if (!s || s.length < length) {
      if (s && inHeapMemory) mm.heap.free(s);
      s = inHeapMemory ? mm.heap.alloc(length) : new Float32Array(length);
      scratch[slot] = s;
    }
    return s.subarray(0, length);
  };
  const logitsScratch = (length: number) => heapScratch(0, length);
  let zRows = new Float32Array(0);
  let gRows = new Float32Array(0);
  let lseBlock = new Float32Array(0);
  const rowScratch = (rows: number) => {
    if (zRows.length < rows) {
      zRows = new Float32Array(rows);
      gRows = new Float32Array(rows);
      lseBlock = new Float32Array(rows);
    }
  };
  // W is read by every chunk's products: with ArrayBuffer storage, copy it into the heap once
  // per call instead of once per product.
  const inHeap = (a: Float32Array, slot: number): Float32Array => {
    if (!heapStaging || mm.heap.contains(a)) return a;
    const h = heapScratch(slot, a.length);
    h.set(a);
    return h;
  };

  return {
    forward(inputs, attrs, ctx) {
      const x = dense(inputs[0]!);
      const w = dense(inputs[1]!);
      const targets = dense(inputs[2]!);
      const mask = attrs.hasMask ? dense(inputs[3]!) : undefined;
      const C = x.shape[x.rank - 1]!;
      const V = w.shape[0]!;
      const N = targets.size;
      const { tg, active } = hostTargets(targets, mask, attrs, V);
      const loss = Tensor.empty(x.backend, targets.shape, 'float32', 'linearCrossEntropy');
      const lse = Tensor.empty(x.backend, [N], 'float32', 'linearCrossEntropy-lse');
      const ls = f32(loss);
      const lz = f32(lse);
      const xs = f32(x);
      const ws = inHeap(f32(w), 1);
      const keep =
        (ctx.needsGrad[0] || ctx.needsGrad[1]) && N * V * 4 <= keepLogitsBytes
          ? Tensor.empty(x.backend, [N, V], 'float32', 'linearCrossEntropy-logits')
          : undefined;
      const kept = keep ? f32(keep) : undefined;
      if (kept) {
        // Kept logits: one [N, V] product (the long inner dimension and wide output the gemm
        // likes), then every row's log-sum-exp.
        mm.matmul(xs, ws, kept, N, V, C, { transB: true });
        rowsKernels.logSumExpRows(kept, N, V, lz);
        for (let tok = 0; tok < N; tok++) {
          if (!active[tok]) {
            ls[tok] = 0;
            lz[tok] = 0;
            continue;
          }
          ls[tok] = lz[tok]! - kept[tok * V + tg[tok]!]!;
        }
      } else {
        // Blocks of vocabulary columns: each block's log-sum-exp per token (wasm SIMD), combined
        // across blocks in float64; the target's logit picked from its block.
        const ch = chunking(N, V, chunkFloats, minChunkColumns);
        rowScratch(ch.rows);
        const acc = new Float64Array(ch.rows);
        const picked = new Float64Array(ch.rows);
        for (let r0 = 0; r0 < N; r0 += ch.rows) {
          const rows = Math.min(ch.rows, N - r0);
          const xc = xs.subarray(r0 * C, (r0 + rows) * C);
          acc.fill(-Infinity);
          for (let v0 = 0; v0 < V; v0 += ch.cols) {
            const cols = Math.min(ch.cols, V - v0);
            const L = logitsScratch(rows * cols);
            mm.matmul(xc, ws.subarray(v0 * C, (v0 + cols) * C), L, rows, cols, C, {
              transB: true,
            });
            rowsKernels.logSumExpRows(L, rows, cols, lseBlock);
            for (let i = 0; i < rows; i++) {
              const a = acc[i]!;
              const b = lseBlock[i]!;
              // log(e^a + e^b) without overflow; a = -inf on the first block.
              acc[i] = a >= b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
              const t = tg[r0 + i]! - v0;
              if (t >= 0 && t < cols) picked[i] = L[i * cols + t]!;
            }
          }
          for (let i = 0; i < rows; i++) {
            const tok = r0 + i;
            if (!active[tok]) {
              ls[tok] = 0;
              lz[tok] = 0;
              continue;
            }
            lz[tok] = acc[i]!;
            ls[tok] = acc[i]! - picked[i]!;
          }
        }
      }
      ctx.save(
        ctx.needsGrad[0] || ctx.needsGrad[1] ? x : undefined,
        ctx.needsGrad[0] || ctx.needsGrad[1] ? w : undefined,
        targets,
        mask,
        lse,
        keep,
      );
      for (const t of [x, w, targets, mask, lse, keep]) t?.dispose();
      return loss;
    },

    backward(grad, ctx) {
      const [x, w, targets, mask, lse, keep] = ctx.saved as [
        Tensor,
        Tensor,
        Tensor,
        Tensor | undefined,
        Tensor,
        Tensor | undefined,
      ];
      const attrs = ctx.attrs;
      const g = dense(grad);
      const C = x.shape[x.rank - 1]!;
      const V = w.shape[0]!;
      const N = targets.size;
      const { tg, active } = hostTargets(targets, mask, attrs, V);
      const gs = f32(g);
      const lz = f32(lse);
      const xs = f32(x);
      const ws = inHeap(f32(w), 1);
      const dx = ctx.needsGrad[0]
        ? Tensor.empty(x.backend, x.shape, 'float32', 'linearCrossEntropy-dx')
        : null;
      const dw = ctx.needsGrad[1]
        ? Tensor.empty(x.backend, w.shape, 'float32', 'linearCrossEntropy-dw')
        : null;
      const dxs = dx ? f32(dx) : undefined;
      const dwOut = dw ? f32(dw) : undefined;
      // dW accumulates over every chunk: keep the sums in the heap, copy out once.
      const dws =
        dwOut && heapStaging && !mm.heap.contains(dwOut) ? heapScratch(2, dwOut.length) : dwOut;
      const kept = keep ? f32(keep) : undefined;
      // dlogits = g (softmax - onehot(target)) on active rows, 0 elsewhere, in place over the
      // logits (g exp(L - z) in wasm SIMD; inactive rows get g = 0, hence 0).
      const dlogits = (L: Float32Array, r0: number, rows: number, v0: number, cols: number) => {
        for (let i = 0; i < rows; i++) {
          const tok = r0 + i;
          zRows[i] = lz[tok]!;
          gRows[i] = active[tok] ? gs[tok]! : 0;
        }
        rowsKernels.softmaxGradRows(L, rows, cols, zRows, gRows);
        for (let i = 0; i < rows; i++) {
          const tok = r0 + i;
          const t = tg[tok]! - v0;
          if (!active[tok] || t < 0 || t >= cols) continue;
          const at = i * cols + t;
          L[at] = L[at]! - gs[tok]!;
        }
      };
      if (kept) {
        // The logits kept by forward become dlogits in place (backward runs once per graph),
        // then one product each for dx (K = V) and dW (K = N): nothing re-accumulated.
        rowScratch(N);
        dlogits(kept, 0, N, 0, V);
        if (dxs) mm.matmul(kept, ws, dxs, N, C, V);
        if (dws) mm.matmul(kept, xs, dws, V, C, N, { transA: true });
      } else {
        // Recomputed block by block of vocabulary columns; each block's rows of dW written by
        // one product over the block's tokens (accumulated only across blocks of tokens).
        const ch = chunking(N, V, chunkFloats, minChunkColumns);
        rowScratch(ch.rows);
        for (let r0 = 0; r0 < N; r0 += ch.rows) {
          const rows = Math.min(ch.rows, N - r0);
          const xc = xs.subarray(r0 * C, (r0 + rows) * C);
          const dxc = dxs?.subarray(r0 * C, (r0 + rows) * C);
          for (let v0 = 0; v0 < V; v0 += ch.cols) {
            const cols = Math.min(ch.cols, V - v0);
            const wc = ws.subarray(v0 * C, (v0 + cols) * C);
            const L = logitsScratch(rows * cols);
            mm.matmul(xc, wc, L, rows, cols, C, { transB: true });
            dlogits(L, r0, rows, v0, cols);
            if (dxc) mm.matmul(L, wc, dxc, rows, C, cols, { accumulate: v0 > 0 });
            if (dws) {
              mm.matmul(L, xc, dws.subarray(v0 * C, (v0 + cols) * C), cols, C, rows, {
                transA: true,
                accumulate: r0 > 0,
              });
            }
          }
        }
      }
      if (dwOut && dws !== dwOut) dwOut.set(dws!);
      g.dispose();
      const out: (Tensor | null)[] = [dx, dw, null];
      if (attrs.hasMask) out.push(null);
      return out;
    },
  };
}
