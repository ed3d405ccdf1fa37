// Two synthetic runs -> report.html (open it in a browser; it needs no network).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, writeRunResults } from '@lrw/trainer';

const root = mkdtempSync(join(tmpdir(), 'lrw-report-'));
const domains = { arxiv: 2.6, github: 1.9, wikipedia: 3.0 };

async function fakeRun(method, gain) {
  const dir = join(root, method);
  mkdirSync(dir);
  const lines = [];
  for (let step = 1; step <= 300; step++) {
    const meanLoss = 3 - gain * (step / 300) + 6 * Math.exp(-step / 50) + 0.05 * Math.sin(step);
    const reweight = method !== 'uniform';
    lines.push({
      kind: 'train',
      step,
      loss: meanLoss + (reweight ? 0.1 : 0),
      meanLoss,
      lr: 5e-4,
      tokensPerSecond: 9000,
      weights: {
        maxWeightTimesN: reweight ? 2.2 : 1,
        capHolds: !reweight,
        effectiveSampleSize: reweight ? 6 : 8,
        entropy: 2,
        n: 8,
      },
      rhoHat: reweight ? 0.1 : 0,
    });
    if (step % 100 === 0) {
      const domainLoss = Object.fromEntries(
        Object.entries(domains).map(([d, l]) => [d, l - gain * (step / 300)]),
      );
      const domainPerplexity = Object.fromEntries(
        Object.entries(domainLoss).map(([d, l]) => [d, Math.exp(l)]),
      );
      lines.push({ kind: 'eval', step, loss: 2.5, domainLoss, domainPerplexity });
    }
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  await writeRunResults(dir, {
    method,
    seed: 0,
    domains: Object.fromEntries(
      Object.entries(domains).map(([d, l]) => [
        d,
        { loss: l - gain, perplexity: Math.exp(l - gain) },
      ]),
    ),
  });
  return dir;
}

const dirs = [await fakeRun('uniform', 0), await fakeRun('linupper', 0.1)];
await writeReport(dirs, join(root, 'report.html'), { title: 'uniform vs linupper (synthetic)' });
console.log(`report: ${join(root, 'report.html')}`);
