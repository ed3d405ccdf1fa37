// The paper's GPT-2 learning-rate recipe over a 20k-step run, and a linear decay.
import { gpt2PaperLrSchedule, lrSchedule } from '@lrw/trainer';

const lr = gpt2PaperLrSchedule(20_000); // 5e-4, 500 warm-up steps, cosine to 1e-4
for (const step of [0, 249, 499, 5_375, 10_250, 19_999, 20_000]) {
  console.log(`step ${String(step).padStart(6)}  lr ${lr(step).toExponential(4)}`);
}
console.log('config (what a checkpoint stores):', JSON.stringify(lr.config));

const linear = lrSchedule({
  kind: 'linear',
  peakLr: 1e-3,
  endLr: 0,
  warmupSteps: 10,
  totalSteps: 110,
});
console.log('linear at step 60:', linear(60)); // halfway through the decay: 5e-4
