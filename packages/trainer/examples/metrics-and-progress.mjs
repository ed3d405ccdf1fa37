// A pretend training loop: the step guard skips a NaN step, each step is logged to
// metrics.jsonl, and a progress line is printed (in place on a terminal, plain lines in a log).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsWriter, ProgressLine, readMetrics, StepGuard } from '@lrw/trainer';

const path = join(await mkdtemp(join(tmpdir(), 'lrw-example-')), 'metrics.jsonl');
const metrics = await MetricsWriter.open(path);
const guard = new StepGuard({ maxConsecutiveBad: 3, lossZThreshold: 6 });
const totalSteps = 50;
const progress = new ProgressLine({ totalSteps, logIntervalSeconds: 0.05 });

for (let step = 1; step <= totalSteps; step++) {
  const loss = step === 20 ? Number.NaN : 4 * Math.exp(-step / 30) + 2;
  const gradNorm = 1 / step;
  const verdict = guard.observe(step, loss, gradNorm);
  if (verdict.action === 'stop') throw verdict.error;
  metrics.write({
    kind: 'train',
    step,
    loss,
    meanLoss: loss,
    lr: 5e-4,
    gradNorm,
    tokensPerSecond: 12_000,
    ...(verdict.action === 'skip' ? { skipped: verdict.reason } : {}),
  });
  progress.update({
    step,
    loss,
    tokensPerSecond: 12_000,
    note: verdict.action === 'skip' ? 'skipped' : undefined,
  });
  await new Promise((r) => setTimeout(r, 10));
}
progress.finish();
metrics.close();
const { train } = readMetrics(path);
console.log(
  `${train.length} records, skipped:`,
  train.filter((r) => r.skipped).map((r) => r.step),
); // [ 20 ]
console.log('guard state for the checkpoint:', guard.state().totalSkipped);
