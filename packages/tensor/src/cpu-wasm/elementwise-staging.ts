// Operand staging of the elementwise kernels: wasm kernels read and write the heap, so an operand
// outside it is copied into a staging block first (and an output copied back after). Plus the
// size checks the kernels share.
import type { ElementwiseContext } from './elementwise.js';
import type { KernelExports } from './kernels.js';

/** Places operands in the wasm heap and copies results back. */
export interface Staging {
  readonly kernel: KernelExports;
  assertOpen(op: string): void;
  /**
   * Pointers of `arrays` in the heap, each copied into staging slot i when outside it. Staging
   * may grow (and, for a private memory, replace) the buffer, so all are placed before any is
   * copied in. `outputs` counts trailing arrays that are only written (not copied in).
   */
  placeAll(arrays: Float32Array[], outputs?: number): number[];
  /** Copies `array`'s staged bytes at `ptr` back into it (no-op for an array in the heap). */
  back(array: Float32Array, ptr: number): void;
}

export function operandStaging(ctx: ElementwiseContext): Staging {
  const { heap } = ctx;
  // Pointer of `array` in the heap, copying it into staging slot `slot` when outside.
  const place = (array: Float32Array, slot: number, copyIn: boolean): number => {
    if (heap.contains(array)) return array.byteOffset;
    const ptr = ctx.stage(slot, array.length * 4);
    if (copyIn) heap.f32(ptr, array.length).set(array);
    return ptr;
  };
  return {
    kernel: ctx.kernel,
    assertOpen: (op) => ctx.assertOpen(op),
    placeAll(arrays, outputs = 0) {
      const ptrs = arrays.map((a, i) => place(a, i, false));
      arrays.forEach((a, i) => {
        if (i < arrays.length - outputs && !heap.contains(a)) heap.f32(ptrs[i]!, a.length).set(a);
      });
      return ptrs;
    },
    back(array, ptr) {
      if (!heap.contains(array)) array.set(heap.f32(ptr, array.length));
    },
  };
}

/** A score tile of rows x cols with per-row arrays of `rows` elements. */
export function tileCheck(
  op: string,
  s: Float32Array,
  rows: number,
  cols: number,
  per: Float32Array[],
): void {
  if (s.length !== rows * cols || per.some((a) => a.length !== rows)) {
    throw new RangeError(
      `${op}: tile has ${s.length} elements for ${rows} x ${cols} and per-row arrays of ` +
        `${per.map((a) => a.length).join(', ')} (need ${rows * cols} and ${rows} each)`,
    );
  }
}

/** `rows` rows of V logits and per-row arrays of at least `rows` elements. */
export function rowsCheck(
  op: string,
  logits: Float32Array,
  rows: number,
  V: number,
  per: Float32Array[],
) {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(V) && V >= 1)) {
    throw new RangeError(`${op}: rows = ${rows} and V = ${V} must be integers, rows >= 0, V >= 1`);
  }
  if (logits.length < rows * V) {
    throw new RangeError(
      `${op}: logits has ${logits.length} elements but rows * V = ${rows} * ${V} = ${rows * V}`,
    );
  }
  for (const a of per) {
    if (a.length < rows) {
      throw new RangeError(`${op}: a per-row array has ${a.length} elements but rows = ${rows}`);
    }
  }
}

/** Sizes of a layerNorm call: `rowArrays` hold rows * C floats, `vectors` C, `stats` 2 rows. */
export function normCheck(
  op: string,
  rows: number,
  C: number,
  rowArrays: Record<string, Float32Array | undefined>,
  vectors: Record<string, Float32Array | undefined>,
  stats: Float32Array,
): void {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(C) && C >= 1)) {
    throw new RangeError(`${op}: rows = ${rows} and C = ${C} must be integers, rows >= 0, C >= 1`);
  }
  const need = (name: string, a: Float32Array | undefined, n: number, what: string) => {
    if (a && a.length < n) {
      throw new RangeError(`${op}: ${name} has ${a.length} elements but needs ${what} = ${n}`);
    }
  };
  for (const [name, a] of Object.entries(rowArrays)) need(name, a, rows * C, 'rows * C');
  for (const [name, a] of Object.entries(vectors)) need(name, a, C, 'C');
  need('stats', stats, 2 * rows, '2 * rows');
}

/** Arrays of one length (returned). */
export function sameLength(op: string, names: string[], arrays: Float32Array[]): number {
  const n = arrays[0]!.length;
  arrays.forEach((a, i) => {
    if (a.length !== n) {
      throw new RangeError(
        `${op}: ${names[i]} has ${a.length} elements but ${names[0]} has ${n}; they must match`,
      );
    }
  });
  return n;
}
