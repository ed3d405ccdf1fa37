import { describe, expect, it } from 'vitest';
import { tensor, zeros } from './index.js';

// Several slices of one computed tensor (the q, k and v of a fused projection) add their
// gradients into one buffer instead of three zero-filled ones summed. Checked against gradients
// written out by hand, including slices that overlap (their contributions add), a tensor with
// another consumer besides its slices (before and after them in backward), and a leaf.
const A = [
  [1, 2],
  [3, -1],
  [0.5, 4],
]; // [3, 2]
const W = [
  [1, 0, 2, -1, 3],
  [0, 1, -2, 4, 0.5],
]; // [2, 5]
// upstream weights of each slice, [3, width]
const c1 = [
  [1, 2],
  [3, 4],
  [5, 6],
]; // x[:, 0:2]
const c2 = [
  [0.5, -1, 2],
  [1, 1, 1],
  [-2, 0, 3],
]; // x[:, 1:4] (overlaps the others)
const c3 = [
  [7, 8],
  [9, 10],
  [11, 12],
]; // x[:, 3:5]

/** dL/dx by hand: each slice's weights added at its columns. */
function expectedDx(extra = 0): number[][] {
  const dx = A.map(() => [0, 0, 0, 0, 0].map(() => extra));
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) dx[i]![j]! += c1[i]![j]!;
    for (let j = 0; j < 3; j++) dx[i]![1 + j]! += c2[i]![j]!;
    for (let j = 0; j < 2; j++) dx[i]![3 + j]! += c3[i]![j]!;
  }
  return dx;
}

/** dL/dW = A^T dx. */
function expectedDw(dx: number[][]): number[] {
  const out: number[] = [];
  for (let k = 0; k < 2; k++) {
    for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += A[i]![k]! * dx[i]![j]!;
      out.push(s);
    }
  }
  return out;
}

function sliceLoss(x: ReturnType<typeof tensor>) {
  return x
    .slice(1, 0, 2)
    .mul(tensor(c1))
    .sum()
    .add(x.slice(1, 1, 4).mul(tensor(c2)).sum())
    .add(x.slice(1, 3, 5).mul(tensor(c3)).sum());
}

describe('gradients of several slices of one tensor', () => {
  it('overlapping slices of a computed tensor: the exact gradient', () => {
    const w = tensor(W, { requiresGrad: true });
    const x = tensor(A).matmul(w); // interior [3, 5]
    sliceLoss(x).backward();
    expect(Array.from(w.grad!.dataSync())).toEqual(expectedDw(expectedDx()));
  });

  it('with another consumer of the tensor besides its slices', () => {
    const w = tensor(W, { requiresGrad: true });
    const x = tensor(A).matmul(w);
    // x.sum() adds 1 to every element's gradient; its place in backward order varies with
    // the order of the terms, so both orders
    sliceLoss(x).add(x.sum()).backward();
    expect(Array.from(w.grad!.dataSync())).toEqual(expectedDw(expectedDx(1)));
    const v = tensor(W, { requiresGrad: true });
    const y = tensor(A).matmul(v);
    y.sum().add(sliceLoss(y)).backward();
    expect(Array.from(v.grad!.dataSync())).toEqual(expectedDw(expectedDx(1)));
  });

  it('slices of a leaf', () => {
    const x = zeros([3, 5], { requiresGrad: true });
    sliceLoss(x).backward();
    expect(x.grad!.toArraySync()).toEqual(expectedDx());
  });

  it('the same slice twice, and a slice of a slice', () => {
    const w = tensor(W, { requiresGrad: true });
    const x = tensor(A).matmul(w);
    const s = x.slice(1, 1, 4);
    s.mul(tensor(c2))
      .sum()
      .add(x.slice(1, 1, 4).mul(tensor(c2)).sum())
      .backward();
    const dx = A.map(() => [0, 0, 0, 0, 0]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) dx[i]![1 + j]! += 2 * c2[i]![j]!;
    expect(Array.from(w.grad!.dataSync())).toEqual(expectedDw(dx));
    const v = tensor(W, { requiresGrad: true });
    const y = tensor(A).matmul(v);
    y.slice(1, 1, 5)
      .slice(1, 0, 3)
      .mul(tensor(c2))
      .sum()
      .add(y.slice(1, 0, 2).mul(tensor(c1)).sum())
      .backward();
    const dy = A.map(() => [0, 0, 0, 0, 0]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) dy[i]![1 + j]! += c2[i]![j]!;
      for (let j = 0; j < 2; j++) dy[i]![j]! += c1[i]![j]!;
    }
    expect(Array.from(v.grad!.dataSync())).toEqual(expectedDw(dy));
  });
});
