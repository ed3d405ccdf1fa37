#!/usr/bin/env node
// Runnable version of the examples in src/cpu-wasm/README.md (after `npx tsc -b`):
//   node bench/wasm-example.mjs
import { createWasmKernels } from '../dist/cpu-wasm/index.js';

const mm = await createWasmKernels();
console.log(`wasm ${mm.instructionSet}, ${mm.threads} thread(s)`);

const a = new Float32Array([1, 2, 3, 4, 5, 6]); // A[2,3]
const b = new Float32Array([1, 0, 0, 1, 1, 1]); // B[3,2]
const c = new Float32Array(4);
mm.matmul(a, b, c, 2, 2, 3);
console.log('A B =', Array.from(c)); // [4, 5, 10, 11]
mm.matmul(a, b, c, 2, 2, 3, { accumulate: true });
console.log('C += A B ->', Array.from(c)); // [8, 10, 20, 22]

// Zero-copy operands in the kernels' shared memory.
const x = mm.heap.alloc(6);
x.set(a);
const y = mm.heap.alloc(4);
mm.matmul(x, b, y, 2, 2, 3);
console.log('heap A B =', Array.from(y));
mm.heap.free(x);
mm.heap.free(y);

// One AdamW step, then the gradient norm.
const p = new Float32Array([0.5, -0.25]);
const grad = new Float32Array([0.1, -0.2]);
const m = new Float32Array(2);
const v = new Float32Array(2);
mm.adamw(p, grad, m, v, {
  lr: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  step: 1,
});
console.log('AdamW p =', Array.from(p), 'grad norm =', Math.sqrt(mm.sumOfSquares(grad)));

await mm.close();
