/** Row gather (embedding lookup), row scatter-add (its gradient), and picking one entry per row. */
import { tidy } from '../engine.js';
import { UnsupportedOpError } from '../errors.js';
import { defineOp } from '../op-table.js';
import { formatShape, shapeSize, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { arangeLike } from './fill.js';

function checkIndices(idx: Tensor, where: string): void {
  if (idx.dtype !== 'int32') {
    throw new UnsupportedOpError(
      where,
      idx.dtype,
      idx.backend.name,
      'indices must be int32; cast them with .cast("int32")',
    );
  }
}

function rowsView(t: Tensor) {
  const rows = t.shape[0];
  return {
    ...t.view(),
    shape: [rows, rows === 0 ? 0 : t.size / rows],
    strides: [t.size / Math.max(rows, 1), 1],
  };
}

function flatView(t: Tensor) {
  return { ...t.view(), shape: [t.size], strides: [1] };
}

function runScatterAdd(target: Tensor, idx: Tensor, src: Tensor): void {
  target.backend.run({
    kernel: 'scatterAdd',
    inputs: [
      flatView(idx),
      {
        ...src.view(),
        shape: [idx.size, target.size / Math.max(target.shape[0], 1)],
        strides: [target.size / Math.max(target.shape[0], 1), 1],
      },
    ],
    output: rowsView(target),
    attrs: {},
  });
}

const gatherOp = defineOp<Record<string, never>>({
  name: 'gather',
  kind: 'primitive',
  doc: 'rows of a table by int32 index: [V, ...rest] x [...idx] -> [...idx, ...rest]',
  differentiable: true,
  tolerance: { rtol: 0, atol: 0 },
  forward: ([table, indices], _attrs, ctx) => {
    const t = table.contiguous();
    const idx = indices.contiguous();
    const out = table.newEmpty([...indices.shape, ...table.shape.slice(1)], table.dtype, 'gather');
    const R = table.rank === 0 ? 1 : shapeSize(table.shape.slice(1));
    table.backend.run({
      kernel: 'gather',
      inputs: [rowsView(t), flatView(idx)],
      output: { ...out.view(), shape: [idx.size, R], strides: [R, 1] },
      attrs: {},
    });
    ctx.save(idx);
    return out;
  },
  backward: (g, ctx) => {
    const [idx] = ctx.saved;
    const z = g.newFull(ctx.inputShapes[0], 0, 'float32', 'zeros');
    const gc = g.contiguous();
    runScatterAdd(z, idx, gc);
    return [z, null];
  },
});

const scatterAddOp = defineOp<Record<string, never>>({
  name: 'scatterAdd',
  kind: 'primitive',
  doc: 'x with rows of src added at int32 row indices (repeats accumulate)',
  differentiable: true,
  tolerance: { rtol: 1e-6, atol: 1e-6 },
  forward: ([x, indices, src], _attrs, ctx) => {
    const out = x.clone();
    runScatterAdd(out, indices.contiguous(), src.contiguous());
    ctx.save(indices);
    return out;
  },
  backward: (g, ctx) => [g, null, ctx.needsGrad[2] ? gather(g, ctx.saved[0]) : null],
});

/** Rows of `table` (`[V, ...rest]`) at int32 `indices` (any shape): `[...indices, ...rest]`. */
export function gather(table: Tensor, indices: Tensor): Tensor {
  checkIndices(indices, 'gather');
  if (table.rank < 1) throw new RangeError('gather: table needs rank >= 1');
  return gatherOp([table, indices], {});
}

/** Embedding lookup: `table [V, D]`, `ids [...]` -> `[..., D]` (the same op as `gather`). */
export const embedding = gather;

/** `x` plus rows of `src` (`[...indices, ...rest]`) added at `indices` into `x` (`[V, ...rest]`). */
export function scatterAdd(x: Tensor, indices: Tensor, src: Tensor): Tensor {
  checkIndices(indices, 'scatterAdd');
  const want = [...indices.shape, ...x.shape.slice(1)];
  if (!shapesEqual(src.shape, want)) {
    throw new RangeError(
      `scatterAdd: src has shape ${formatShape(src.shape)}, expected ${formatShape(want)} (indices shape + x.shape[1:])`,
    );
  }
  return scatterAddOp([x, indices, src], {});
}

/** `out[...i] = x[...i, idx[...i]]`: one entry per row of the last axis (`x [..., V]`, `idx [...]`). */
export function takeAlongLastAxis(x: Tensor, idx: Tensor): Tensor {
  checkIndices(idx, 'takeAlongLastAxis');
  const lead = x.shape.slice(0, -1);
  if (!shapesEqual(lead, idx.shape)) {
    throw new RangeError(
      `takeAlongLastAxis: indices ${formatShape(idx.shape)} must match ${formatShape(lead)} (x without its last axis)`,
    );
  }
  const V = x.shape[x.rank - 1];
  if (idx.backend.readSync) {
    // Host-memory backends check the range here; a flat index outside its row would otherwise
    // silently read a neighbouring row.
    const values = idx.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= V) {
        throw new RangeError(
          `takeAlongLastAxis: index ${values[i]} at position ${i} is outside 0..${V - 1} (last axis of ${formatShape(x.shape)})`,
        );
      }
    }
  }
  return tidy(() => {
    const n = idx.size;
    const flatIdx = arangeLike(x, n)
      .mul(V)
      .add(idx.reshape([n]));
    return gather(x.reshape([n * V, 1]), flatIdx).reshape(idx.shape);
  });
}
