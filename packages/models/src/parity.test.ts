/**
 * Parity with PyTorch (fixtures from tooling/reference/make-models-parity-fixtures.py): logits, per-sample
 * losses and every parameter gradient of a tiny GPT-2 and a tiny Llama, within 1e-4.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memory, tensor, tidy } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import { hfName, loadHuggingFace } from './hugging-face.js';

const TOL = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function transposeFlat(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

for (const name of ['gpt2-tiny', 'llama-tiny']) {
  const dir = fileURLToPath(new URL(`../test/fixtures/parity/${name}`, import.meta.url));
  const want = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8'));
  const B = want.ids.length;
  const T = want.ids[0].length;

  describe(`PyTorch parity: ${name}`, () => {
    // 'cpu' runs @lrw/tensor's fused head routine; 'cpu-reference' has none, so the chunked head
    // there is @lrw/models' own recompute op.
    const cases = [
      ['logits', 'cpu'],
      ['chunked', 'cpu'],
      ['chunked', 'cpu-reference'],
    ] as const;
    for (const [head, backend] of cases) {
      it(`logits, per-sample losses and all gradients match within ${TOL} (head: ${head}, backend: ${backend})`, async () => {
        const model = await loadHuggingFace(dir, { backend });
        const before = memory().tensors;
        tidy(() => {
          const ids = tensor(Int32Array.from(want.ids.flat()), {
            shape: [B, T],
            dtype: 'int32',
            backend,
          });
          const logits = model.forward(ids);
          expect(maxAbsDiff(logits.dataSync(), want.logits.flat(2))).toBeLessThan(TOL);
          const targets = Int32Array.from(want.targets.flat());
          const mask = Float32Array.from(want.mask.flat());
          const r = model.perSampleLoss(ids, targets, mask, { head, chunkRows: 5 });
          expect(r.counts).toEqual(want.num_active);
          expect(r.empty).toEqual([false, false, true]);
          expect(maxAbsDiff(r.losses.dataSync(), want.per_sample_loss)).toBeLessThan(TOL);
          expect(maxAbsDiff(r.tokenLosses.dataSync(), want.token_losses.flat())).toBeLessThan(TOL);
          r.losses.mul(tensor(want.sample_weights, { backend })).sum().backward();
        });
        let checked = 0;
        for (const [ours, p] of model.namedParameters()) {
          const { name: hf, transpose } = hfName(model.config.arch, ours);
          const expected = want.grads[hf] as number[];
          expect(expected, `gradient of ${hf}`).toBeDefined();
          let got = p.grad!.dataSync();
          if (transpose) got = transposeFlat(got, p.shape[0], p.shape[1]);
          const d = maxAbsDiff(got, expected);
          expect(d, `gradient of ${hf} (ours: ${ours})`).toBeLessThan(TOL);
          checked++;
        }
        expect(checked).toBe(Object.keys(want.grads).length);
        model.zeroGrad();
        expect(memory().tensors).toBe(before);
        model.dispose();
      });
    }
  });
}
