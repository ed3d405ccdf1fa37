// Build a preset, forward a batch, per-sample losses, a weighted backward, and a Hugging Face
// round trip. Run: npm run example (from packages/models).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  causalTargets,
  describe,
  GPT2,
  loadHuggingFace,
  preset,
  saveHuggingFace,
} from '@lrw/models';
import { tensor, tidy } from '@lrw/tensor';

export async function main() {
  // Parameter counts come from the config alone (nothing allocated).
  console.log(describe('gpt2').text); // ... 124,439,808 (124.44M) ...

  // A ~0.86M-parameter GPT-2 for the byte-level tokenizer (257 ids), seeded.
  const model = new GPT2(preset('gpt2-nano'), { seed: 0 });

  // Two rows of T + 1 byte tokens -> inputs (B, T) and next-token targets (B, T).
  const B = 2;
  const text = 'the cat sat on the mat. a dog ran in the fog.';
  const T = Math.floor(text.length / B) - 1;
  const tokens = Int32Array.from(Buffer.from(text.slice(0, B * (T + 1)), 'utf8'));
  const mask = new Float32Array(B * (T + 1)).fill(1);
  mask.fill(0, T + 1 + 10); // row 1: tokens from index 10 on are padding (9 targets remain)
  const { inputs, targets, mask: targetMask } = causalTargets(tokens, B, mask);

  const losses = tidy(() => {
    const ids = tensor(inputs, { shape: [B, T], dtype: 'int32' });
    const logits = model.forward(ids); // (B, T, V)
    console.log('logits', logits.shape);
    // Per-sample mean over active targets (B), through the memory-lean chunked head.
    const r = model.perSampleLoss(ids, targets, targetMask);
    console.log('active targets', r.counts, 'empty', r.empty);
    // Reweighting: any weights w (from @lrw/strategies) -> backward of sum_i w_i l_i.
    r.losses
      .mul(tensor([0.7, 0.3]))
      .sum()
      .backward();
    return Array.from(r.losses.dataSync());
  });
  console.log(
    'per-sample losses',
    losses.map((l) => l.toFixed(4)),
  );
  console.log('grad of wte', model.tokEmb.weight.grad?.shape);
  model.zeroGrad();

  // Save as Hugging Face GPT2LMHeadModel (config.json + model.safetensors) and load it back.
  const dir = mkdtempSync(join(tmpdir(), 'lrw-gpt2-nano-'));
  await saveHuggingFace(model, dir);
  const back = await loadHuggingFace(dir);
  const reloaded = back.stateDict();
  const same = [...model.stateDict()].every(([name, t]) => {
    const a = t.dataSync();
    const b = reloaded.get(name).dataSync();
    return a.length === b.length && a.every((v, i) => v === b[i]);
  });
  console.log('reloaded identical:', same);
  rmSync(dir, { recursive: true, force: true });
  model.dispose();
  back.dispose();
  return { losses, same };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
