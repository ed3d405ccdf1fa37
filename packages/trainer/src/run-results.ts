import { existsSync, readFileSync } from 'node:fs';
import { writeBytesAtomic } from './atomic-write.js';
import { runPaths } from './run-directory.js';
import { TrainerError } from './trainer-error.js';

/**
 * `results.json` of a finished run: the final per-domain validation numbers the comparison
 * table is built from (the paper's Table 1), and optional few-shot accuracies (its Table 2).
 */
export interface RunResults {
  /** Weighting method, e.g. "uniform" or "linupper". */
  method: string;
  /** Display name; default `method`. Runs with the same label are seeds of one setting. */
  label?: string;
  seed?: number;
  /** Optimizer steps trained. */
  steps?: number;
  /** Tokens trained on. */
  tokens?: number;
  /** Wall-clock seconds of training. */
  trainSeconds?: number;
  /** Final validation loss (nats per token) and perplexity of each domain. */
  domains: Record<string, { loss: number; perplexity: number }>;
  /** Few-shot accuracy per task, in [0, 1]. */
  tasks?: Record<string, number>;
  /** The run's config. */
  config?: unknown;
  /** The resolved model config (preset plus `modelOverrides`) the run trained. */
  modelConfig?: unknown;
}

/** Writes `<runDir>/results.json` atomically. */
export async function writeRunResults(runDir: string, results: RunResults): Promise<void> {
  await writeBytesAtomic(runPaths(runDir).results, `${JSON.stringify(results, null, 2)}\n`);
}

/** Reads `<runDir>/results.json`; undefined when the run has none yet. */
export function readRunResults(runDir: string): RunResults | undefined {
  const path = runPaths(runDir).results;
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TrainerError(
      'report-input',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'rewrite it with writeRunResults, or delete it to build the table from the last evaluation in metrics.jsonl.',
    );
  }
  const r = json as Partial<RunResults>;
  const domainsOk =
    typeof r.domains === 'object' &&
    r.domains !== null &&
    Object.values(r.domains).every(
      (d) =>
        typeof d === 'object' &&
        d !== null &&
        typeof d.perplexity === 'number' &&
        typeof d.loss === 'number',
    );
  if (typeof r.method !== 'string' || !domainsOk) {
    throw new TrainerError(
      'report-input',
      `${path} is not a run result: it needs "method" (a string) and "domains" ({ "<domain>": { "loss", "perplexity" } }).`,
      'write it with writeRunResults (see the RunResults type).',
    );
  }
  return r as RunResults;
}
