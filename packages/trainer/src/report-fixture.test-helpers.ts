// Synthetic run directories for the report tests and the README screenshot: deterministic
// (seeded LCG), shaped like real runs (loss decaying towards a floor per domain, LinUpper's
// n * max w above 2 for part of the run, evaluations every 100 steps).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SLIMPAJAMA_DOMAINS } from './domain-mixtures.js';
import { lrSchedule } from './lr-schedule.js';
import type { EvalRecord, TrainStepRecord } from './metrics-record.js';
import type { RunResults } from './run-results.js';

export interface SyntheticRun {
  dir: string;
  results: RunResults;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FLOOR: Record<string, number> = {
  arxiv: 2.6,
  book: 3.4,
  cc: 3.5,
  c4: 3.7,
  github: 1.9,
  stackexchange: 2.9,
  wikipedia: 3.0,
};

export function writeSyntheticRun(
  root: string,
  name: string,
  method: string,
  seed: number,
  options: { steps?: number; gain?: number; label?: string } = {},
): SyntheticRun {
  const steps = options.steps ?? 600;
  const gain = options.gain ?? 0; // how much lower this method's final loss is than uniform's
  const rand = lcg(seed * 7919 + method.length);
  const lr = lrSchedule({
    kind: 'cosine',
    peakLr: 5e-4,
    endLr: 1e-4,
    warmupSteps: 50,
    totalSteps: steps,
  });
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const loss = (d: string, step: number) =>
    FLOOR[d]! - gain * (step / steps) + 7 * Math.exp(-step / (steps / 6));
  for (let step = 1; step <= steps; step++) {
    const domainLoss = Object.fromEntries(
      SLIMPAJAMA_DOMAINS.map((d) => [d, loss(d, step) + 0.3 * (rand() - 0.5)]),
    );
    const mean = Object.values(domainLoss).reduce((a, b) => a + b, 0) / SLIMPAJAMA_DOMAINS.length;
    const reweight = method !== 'uniform' && step > steps / 5;
    const maxWn = reweight ? 1.6 + 1.1 * rand() : 1;
    const record: TrainStepRecord = {
      kind: 'train',
      step,
      loss: reweight ? mean + 0.15 : mean,
      meanLoss: mean,
      domainLoss,
      lr: lr(step - 1),
      gradNorm: 0.4 + 2 * Math.exp(-step / 80) + 0.1 * rand(),
      tokensPerSecond: 9000 + 800 * rand(),
      tokens: step * 8 * 128,
      elapsedSeconds: step * 0.11,
      r: method === 'uniform' ? undefined : reweight ? 0.4 : null,
      weights: {
        maxWeightTimesN: maxWn,
        capHolds: maxWn <= 2,
        effectiveSampleSize: reweight ? 6 + rand() : 8,
        entropy: reweight ? 1.9 + 0.1 * rand() : Math.log(8),
        n: 8,
      },
      rhoHat: reweight ? 0.15 + 0.05 * rand() : 0,
    };
    if (step === Math.floor(steps / 2) && method !== 'uniform') {
      record.loss = null;
      record.skipped = 'non-finite-loss';
    }
    lines.push(JSON.stringify(record));
    if (step % 100 === 0) {
      const dl = Object.fromEntries(SLIMPAJAMA_DOMAINS.map((d) => [d, loss(d, step) + 0.05]));
      const ev: EvalRecord = {
        kind: 'eval',
        step,
        loss: Object.values(dl).reduce((a, b) => a + b, 0) / SLIMPAJAMA_DOMAINS.length,
        domainLoss: dl,
        domainPerplexity: Object.fromEntries(Object.entries(dl).map(([d, l]) => [d, Math.exp(l)])),
      };
      lines.push(JSON.stringify(ev));
    }
  }
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  const final = Object.fromEntries(
    SLIMPAJAMA_DOMAINS.map((d) => [d, loss(d, steps) + 0.05 + 0.01 * seed]),
  );
  const results: RunResults = {
    method,
    seed,
    steps,
    tokens: steps * 8 * 128,
    domains: Object.fromEntries(
      Object.entries(final).map(([d, l]) => [d, { loss: l, perplexity: Math.exp(l) }]),
    ),
    config: { model: 'nano', method, seed, steps, outputDir: dir },
  };
  if (options.label !== undefined) results.label = options.label;
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  return { dir, results };
}
