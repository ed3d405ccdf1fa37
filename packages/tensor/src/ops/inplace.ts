/**
 * In-place updates for parameters and optimizer state (run them under `noGrad`). They write the
 * tensor's own storage and bump its version, so autograd refuses stale saved values.
 */
import type { BinaryKernel } from '../backend.js';
import { isGradEnabled, noGrad } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import type { Operand } from './elementwise.js';

/** @internal Whether in-place writes are allowed on `t` right now. */
export function checkInplace(t: Tensor, where: string): void {
  t.assertAlive(where);
  if (t.node || (t.requiresGrad && isGradEnabled())) {
    throw new Error(
      `${where}: in-place update of ${t.toString()} which ${t.node ? 'is part of an autograd graph' : 'requires grad'}; wrap parameter updates in noGrad(() => ...)`,
    );
  }
}

function operand(target: Tensor, o: Operand, temps: Tensor[]): Tensor {
  let t: Tensor;
  if (typeof o === 'number') {
    t = target.newFull([], o);
    temps.push(t);
  } else t = o;
  if (t.dtype !== target.dtype) {
    t = cast(t, target.dtype);
    temps.push(t);
  }
  return t;
}

/** Copies `src` into `target` (broadcasting `src`, casting to `target.dtype`). */
export function assign(target: Tensor, src: Operand): void {
  checkInplace(target, 'assign');
  const temps: Tensor[] = [];
  try {
    noGrad(() => {
      const s = operand(target, src, temps);
      s.assertAlive('assign');
      target.backend.run({
        kernel: 'copy',
        inputs: [s.broadcastView(target.shape, 'assign')],
        output: target.view(),
        attrs: {},
      });
    });
    target.storage.version++;
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** target = target (op) (alpha * o), in place. */
export function inplaceBinary(target: Tensor, op: BinaryKernel, o: Operand, alpha: number): void {
  checkInplace(target, `${op}_`);
  const temps: Tensor[] = [];
  try {
    noGrad(() => {
      let t = operand(target, o, temps);
      if (alpha !== 1) {
        t = t.mul(alpha);
        temps.push(t);
      }
      t.assertAlive(`${op}_`);
      target.backend.run({
        kernel: op,
        inputs: [target.view(), t.broadcastView(target.shape, `${op}_`)],
        output: target.view(),
        attrs: {},
      });
    });
    target.storage.version++;
  } finally {
    for (const t of temps) t.dispose();
  }
}
