/**
 * Float64 reference implementations of every op, written as directly as possible from the
 * definitions (no shared code with the kernels), for the conformance suite and gradient checks.
 */
import { philoxFill, type RandomAttrs } from '../philox.js';

/** A dense row-major float64 array. */
export interface Arr64 {
  shape: number[];
  data: Float64Array;
}

export function arr(shape: readonly number[], data?: ArrayLike<number>): Arr64 {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  if (data) d.set(Array.from(data).slice(0, n));
  return { shape: shape.slice(), data: d };
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d] + idx[d];
  return o;
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    return x === 1 ? y : x;
  });
}

/** Value of `a` at an output index of a (larger, broadcast) shape. */
function at(a: Arr64, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  let o = 0;
  for (let d = 0; d < a.shape.length; d++)
    o = o * a.shape[d] + (a.shape[d] === 1 ? 0 : idx[lead + d]);
  return a.data[o];
}

export function map(a: Arr64, f: (x: number) => number): Arr64 {
  return { shape: a.shape.slice(), data: a.data.map(f) };
}

export function zip(a: Arr64, b: Arr64, f: (x: number, y: number) => number): Arr64 {
  const shape = broadcastShape(a.shape, b.shape);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(at(a, idx), at(b, idx));
  }
  return out;
}

export function zip3(
  c: Arr64,
  a: Arr64,
  b: Arr64,
  f: (c: number, x: number, y: number) => number,
): Arr64 {
  const shape = broadcastShape(broadcastShape(c.shape, a.shape), b.shape);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(at(c, idx), at(a, idx), at(b, idx));
  }
  return out;
}

/** Reduces `axes` with (init, step, finish). */
export function reduce(
  a: Arr64,
  axes: readonly number[],
  keepDims: boolean,
  init: number,
  step: (acc: number, x: number, j: number) => number,
): Arr64 {
  const kept = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = arr(kept).data.fill(init);
  const counts = new Float64Array(out.length);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    const j = ravel(
      idx.map((v, d) => (axes.includes(d) ? 0 : v)),
      kept,
    );
    out[j] = step(out[j], a.data[i], counts[j]++);
  }
  const shape = keepDims ? kept : a.shape.filter((_, i) => !axes.includes(i));
  return { shape, data: out };
}

export const sum = (a: Arr64, axes: number[], keep = false) =>
  reduce(a, axes, keep, 0, (s, x) => s + x);
export const max = (a: Arr64, axes: number[], keep = false) =>
  reduce(a, axes, keep, Number.NEGATIVE_INFINITY, (s, x) => Math.max(s, x));
export const min = (a: Arr64, axes: number[], keep = false) =>
  reduce(a, axes, keep, Number.POSITIVE_INFINITY, (s, x) => Math.min(s, x));

export function argmax(a: Arr64, axis: number): Arr64 {
  const best = max(a, [axis], true);
  const kept = a.shape.map((d, i) => (i === axis ? 1 : d));
  const out = arr(a.shape.filter((_, i) => i !== axis)).data.fill(-1);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    const k = idx[axis];
    idx[axis] = 0;
    const j = ravel(idx, kept);
    if (out[j] < 0 && a.data[i] === best.data[j]) out[j] = k;
  }
  return { shape: a.shape.filter((_, i) => i !== axis), data: out };
}

export function permute(a: Arr64, perm: readonly number[]): Arr64 {
  const shape = perm.map((p) => a.shape[p]);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, k) => {
      src[p] = idx[k];
    });
    out.data[i] = a.data[ravel(src, a.shape)];
  }
  return out;
}

export function reshape(a: Arr64, shape: readonly number[]): Arr64 {
  return { shape: shape.slice(), data: a.data.slice() };
}

export function slice(a: Arr64, axis: number, start: number, end: number): Arr64 {
  const shape = a.shape.slice();
  shape[axis] = end - start;
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    idx[axis] += start;
    out.data[i] = a.data[ravel(idx, a.shape)];
  }
  return out;
}

export function expand(a: Arr64, shape: readonly number[]): Arr64 {
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = at(a, unravel(i, shape));
  return out;
}

export function concat(xs: readonly Arr64[], axis: number): Arr64 {
  const shape = xs[0].shape.slice();
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    let k = idx[axis];
    let p = 0;
    while (k >= xs[p].shape[axis]) k -= xs[p++].shape[axis];
    idx[axis] = k;
    out.data[i] = xs[p].data[ravel(idx, xs[p].shape)];
  }
  return out;
}

/** Batched matmul with broadcast batch axes. */
export function matmul(a: Arr64, b: Arr64): Arr64 {
  const M = a.shape[a.shape.length - 2];
  const K = a.shape[a.shape.length - 1];
  const N = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = arr([...batch, M, N]);
  const aB = expand(a, [...batch, M, K]);
  const bB = expand(b, [...batch, K, N]);
  const nb = batch.reduce((x, y) => x * y, 1);
  for (let q = 0; q < nb; q++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++)
          s += aB.data[q * M * K + i * K + k] * bB.data[q * K * N + k * N + j];
        out.data[q * M * N + i * N + j] = s;
      }
  return out;
}

export function gather(table: Arr64, idx: Arr64): Arr64 {
  const R = table.data.length / table.shape[0];
  const out = arr([...idx.shape, ...table.shape.slice(1)]);
  for (let p = 0; p < idx.data.length; p++)
    for (let j = 0; j < R; j++) out.data[p * R + j] = table.data[idx.data[p] * R + j];
  return out;
}

export function scatterAdd(x: Arr64, idx: Arr64, src: Arr64): Arr64 {
  const R = x.data.length / x.shape[0];
  const out = { shape: x.shape.slice(), data: x.data.slice() };
  for (let p = 0; p < idx.data.length; p++)
    for (let j = 0; j < R; j++) out.data[idx.data[p] * R + j] += src.data[p * R + j];
  return out;
}

/** Applies `f` to every 1-D line along `axis`. */
export function alongAxis(a: Arr64, axis: number, f: (line: number[]) => number[]): Arr64 {
  const r = a.shape.length;
  const perm = [...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis), axis];
  const p = permute(a, perm);
  const n = a.shape[axis];
  for (let s = 0; s < p.data.length; s += n) {
    const line = f(Array.from(p.data.subarray(s, s + n)));
    p.data.set(line, s);
  }
  const inv = new Array<number>(r);
  perm.forEach((q, i) => {
    inv[q] = i;
  });
  return permute(p, inv);
}

export function softmax(a: Arr64, axis: number): Arr64 {
  return alongAxis(a, axis, (line) => {
    const m = Math.max(...line);
    const e = line.map((x) => Math.exp(x - m));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((x) => x / s);
  });
}

export function logSoftmax(a: Arr64, axis: number): Arr64 {
  return alongAxis(a, axis, (line) => {
    const m = Math.max(...line);
    const lse = m + Math.log(line.reduce((s, x) => s + Math.exp(x - m), 0));
    return line.map((x) => x - lse);
  });
}

export function logsumexp(a: Arr64, axes: number[], keep: boolean): Arr64 {
  const m = max(a, axes, true);
  const s = sum(
    zip(a, m, (x, y) => Math.exp(x - y)),
    axes,
    true,
  );
  const r = zip(s, m, (x, y) => Math.log(x) + y);
  return keep
    ? r
    : reshape(
        r,
        a.shape.filter((_, i) => !axes.includes(i)),
      );
}

export function crossEntropy(
  logits: Arr64,
  targets: Arr64,
  ignoreIndex: number,
  mask?: Arr64,
): Arr64 {
  const V = logits.shape[logits.shape.length - 1];
  const lp = logSoftmax(logits, logits.shape.length - 1);
  const out = arr(targets.shape);
  for (let i = 0; i < targets.data.length; i++) {
    const t = targets.data[i];
    const active = t !== ignoreIndex && mask?.data[i] !== 0;
    out.data[i] = active ? -lp.data[i * V + t] : 0;
  }
  return out;
}

export function layerNorm(
  x: Arr64,
  w: Arr64 | undefined,
  b: Arr64 | undefined,
  eps: number,
): Arr64 {
  return rowwise(x, (row) => {
    const mu = row.reduce((s, v) => s + v, 0) / row.length;
    const v = row.reduce((s, q) => s + (q - mu) ** 2, 0) / row.length;
    return row.map(
      (q, c) => ((q - mu) / Math.sqrt(v + eps)) * (w ? w.data[c] : 1) + (b ? b.data[c] : 0),
    );
  });
}

export function rmsNorm(x: Arr64, w: Arr64 | undefined, eps: number): Arr64 {
  return rowwise(x, (row) => {
    const ms = row.reduce((s, v) => s + v * v, 0) / row.length;
    return row.map((q, c) => (q / Math.sqrt(ms + eps)) * (w ? w.data[c] : 1));
  });
}

function rowwise(x: Arr64, f: (row: number[]) => number[]): Arr64 {
  const C = x.shape[x.shape.length - 1];
  const out = arr(x.shape);
  for (let s = 0; s < x.data.length; s += C)
    out.data.set(f(Array.from(x.data.subarray(s, s + C))), s);
  return out;
}

export const gelu = (x: number) =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const silu = (x: number) => x / (1 + Math.exp(-x));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function dropout(x: Arr64, p: number, seed: number, offset: number): Arr64 {
  const u = new Float64Array(x.data.length);
  const attrs: RandomAttrs = { seed, offset, dist: 'uniform', a: 0, b: 1 };
  philoxFill(u, u.length, attrs);
  // The kernel stores uniforms as float32; compare in float32 to decide the same mask.
  const u32 = Float32Array.from(u);
  return { shape: x.shape.slice(), data: x.data.map((v, i) => (u32[i] >= p ? v / (1 - p) : 0)) };
}

export function attention(q: Arr64, k: Arr64, v: Arr64, causal: boolean, scale: number): Arr64 {
  const r = k.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  const s = map(matmul(q, permute(k, perm)), (x) => x * scale);
  const T = s.shape[r - 2];
  const S = s.shape[r - 1];
  if (causal) {
    for (let i = 0; i < s.data.length; i++) {
      const col = i % S;
      const row = Math.floor(i / S) % T;
      if (col > row) s.data[i] = Number.NEGATIVE_INFINITY;
    }
  }
  return matmul(softmax(s, r - 1), v);
}
