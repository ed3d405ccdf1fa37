// How often does Eq. 4's plain softmax already respect Proposition 1's cap (max_i w_i <= 2/n),
// i.e. is already the capped optimum, on realistic language-model batches?
// Usage (after the build): node bench/cap-on-lm-batches.mjs [bench/lm-losses/fixtures/lm-losses.json]
// Input: per-sample losses recorded by bench/lm-losses/record_lm_losses.py (see its header
// for the model, data and training), batch by batch. Output: a Markdown table per training
// phase, strategy and temperature r: the share of batches where the softmax respects the cap,
// mean and max n*max w, and, where it does not, how far the softmax is from the capped optimum
// (total variation distance, and the share of the batch held at the cap).
import { readFileSync } from 'node:fs';
import { computeWeights } from '@lrw/strategies';
import { optimalKlWeights } from '../dist/index.js';

const path =
  process.argv[2] ?? new URL('./lm-losses/fixtures/lm-losses.json', import.meta.url).pathname;
const recorded = JSON.parse(readFileSync(path, 'utf8'));
const batches = recorded.batches;
const n = batches[0].losses.length;

const settings = [
  ['linupper', 0.4],
  ['linupper', 1],
  ['linupper', 1 / Math.LN2],
  ['quadratic', 0.4],
  ['quadratic', 1],
  ['extremes', 0.4],
  ['extremes', 1],
  ['linear', 0.4],
];
const last = batches[batches.length - 1].step;
const phases = [
  ['all steps', () => true],
  ['steps 0-49 (early)', (s) => s < 50],
  [`steps 50-${last}`, (s) => s >= 50],
];

console.log(
  `${batches.length} batches of ${n} sequences; model ${JSON.stringify(recorded.model)}; training ${JSON.stringify(recorded.training)}`,
);
for (const [phase, keep] of phases) {
  const chosen = batches.filter((b) => keep(b.step));
  console.log(`\n${phase} (${chosen.length} batches):\n`);
  console.log(
    '| strategy | r | softmax respects the cap | n max w: mean / max | when not: TV(softmax, capped optimum) mean | when not: share of the batch at the cap |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [strategy, r] of settings) {
    let respects = 0;
    let sumMax = 0;
    let maxMax = 0;
    let tv = 0;
    let atCap = 0;
    for (const b of chosen) {
      const w = computeWeights(b.losses, { strategy, r });
      const m = n * Math.max(...w);
      sumMax += m;
      maxMax = Math.max(maxMax, m);
      // The strategy's scores up to a constant (Proposition 1 is shift-invariant in s).
      const scores = Array.from(w, (x) => r * Math.log(x));
      const opt = optimalKlWeights(scores, r);
      if (opt.atCap === 0) {
        respects++;
        continue;
      }
      let d = 0;
      for (let i = 0; i < n; i++) d += Math.abs(w[i] - opt.weights[i]) / 2;
      tv += d;
      atCap += opt.atCap / n;
    }
    const broken = chosen.length - respects;
    console.log(
      `| ${strategy} | ${Number(r.toFixed(3))} | ${((100 * respects) / chosen.length).toFixed(1)} % | ${(sumMax / chosen.length).toFixed(2)} / ${maxMax.toFixed(2)} | ${broken ? (tv / broken).toFixed(3) : '-'} | ${broken ? ((100 * atCap) / broken).toFixed(1) + ' %' : '-'} |`,
    );
  }
}
