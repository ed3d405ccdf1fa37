// Validate a config: defaults fill in what is left out; errors name the field, the value and the fix.
import { parseTrainerConfig } from '@lrw/trainer';

const config = parseTrainerConfig({ method: 'linupper', steps: 2000, domainWeights: 'doge' });
console.log(config.lr, config.temperature);
// { kind: 'cosine', peakLr: 0.0005, endLr: 0.0001, warmupSteps: 50, totalSteps: 2000 }
// { kind: 'plain-mean-warmup', warmupSteps: 100, then: { kind: 'constant', r: 0.4 } }

try {
  parseTrainerConfig({ method: 'linuper', stpes: 100, batchSize: 0 }, 'run.json');
} catch (error) {
  console.log(error.message);
}
