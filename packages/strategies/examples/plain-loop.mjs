// A plain training loop with loss-based sample weights: least squares y = a x + b, gradients by
// hand. Run: `node examples/plain-loop.mjs` (after `npx tsc -b`).
import { constantTemperature, plainMeanWarmup, Reweighter } from '@lrw/strategies';

// Deterministic data: y = 3x + 1 plus noise, from a small LCG.
let seed = 1;
const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const data = Array.from({ length: 4096 }, () => {
  const x = 2 * random() - 1;
  return { x, y: 3 * x + 1 + 0.1 * (random() - 0.5) };
});

const model = { a: 0, b: 0 };
const reweighter = new Reweighter({
  strategy: 'linupper',
  // Plain mean loss for the first 50 steps, then r = 0.4 (the GPT-2 reference, scaled down).
  schedule: plainMeanWarmup(50, constantTemperature(0.4)),
});
const batchSize = 32;
const lr = 0.5;

for (let step = 0; step < 300; step++) {
  const batch = data.slice((step * batchSize) % data.length).slice(0, batchSize);
  // 1. Per-sample losses (detached: plain numbers).
  const losses = batch.map(({ x, y }) => 0.5 * (model.a * x + model.b - y) ** 2);
  // 2. Weights from the losses: they sum to 1 over the batch.
  const { weights, stats } = reweighter.weigh(losses, step);
  // 3. Gradient of the weighted objective sum_i w_i l_i; the weights are constants.
  let ga = 0;
  let gb = 0;
  batch.forEach(({ x, y }, i) => {
    const residual = model.a * x + model.b - y;
    ga += weights[i] * residual * x;
    gb += weights[i] * residual;
  });
  model.a -= lr * ga;
  model.b -= lr * gb;
  if (step % 50 === 0 || step === 299) {
    console.log(
      `step ${String(step).padStart(3)}  mean loss ${stats.meanLoss.toExponential(3)}  ` +
        `weighted ${stats.weightedLoss.toExponential(3)}  n*max w ${stats.maxWeightTimesN.toFixed(2)}  ` +
        `ESS ${stats.effectiveSampleSize.toFixed(1)}/${stats.n}`,
    );
  }
}
console.log(`a = ${model.a.toFixed(4)}, b = ${model.b.toFixed(4)} (true: 3, 1)`);
console.log(
  `steps breaking the 2/n cap: ${(100 * reweighter.totals().capBreakFraction).toFixed(1)}%`,
);
