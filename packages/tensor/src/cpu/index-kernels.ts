/** Reference CPU gather (rows of a table by index) and scatter-add (rows added back by index). */
import type { CpuKernel } from './cpu-backend.js';

function checkIndex(i: number, rows: number, where: string, pos: number): void {
  if (i < 0 || i >= rows || !Number.isInteger(i)) {
    throw new RangeError(
      `${where}: index ${i} at position ${pos} is outside the table's ${rows} rows; indices must be in 0..${rows - 1}`,
    );
  }
}

export const gatherKernel: CpuKernel = (call, cpu) => {
  const [table, indices] = call.inputs;
  const T = cpu.array(table);
  const I = cpu.array(indices);
  const O = cpu.array(call.output);
  const rows = table.shape[0];
  const R = table.shape[1];
  const n = indices.shape[0];
  for (let p = 0; p < n; p++) {
    const row = I[indices.offset + p];
    checkIndex(row, rows, 'gather', p);
    const src = table.offset + row * R;
    O.set(T.subarray(src, src + R), call.output.offset + p * R);
  }
};

export const scatterAddKernel: CpuKernel = (call, cpu) => {
  const [indices, src] = call.inputs;
  const I = cpu.array(indices);
  const S = cpu.array(src);
  const O = cpu.array(call.output);
  const rows = call.output.shape[0];
  const R = call.output.shape[1];
  const n = indices.shape[0];
  for (let p = 0; p < n; p++) {
    const row = I[indices.offset + p];
    checkIndex(row, rows, 'scatterAdd', p);
    const dst = call.output.offset + row * R;
    const s = src.offset + p * R;
    for (let j = 0; j < R; j++) O[dst + j] += S[s + j];
  }
};
