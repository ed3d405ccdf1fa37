import { join } from 'node:path';

/**
 * Where a run keeps its files, so the trainer, the report and the CLI agree:
 *
 *   <outputDir>/config.json         the validated config (written at the start)
 *   <outputDir>/metrics.jsonl       one record per step and per evaluation
 *   <outputDir>/results.json        final per-domain numbers (RunResults)
 *   <outputDir>/checkpoints/        step-<9 digits>.lrwckpt files and the `latest` pointer
 *   <outputDir>/report.html         the HTML report of this run
 */
export interface RunPaths {
  root: string;
  config: string;
  metrics: string;
  results: string;
  checkpoints: string;
  report: string;
}

export function runPaths(outputDir: string): RunPaths {
  return {
    root: outputDir,
    config: join(outputDir, 'config.json'),
    metrics: join(outputDir, 'metrics.jsonl'),
    results: join(outputDir, 'results.json'),
    checkpoints: join(outputDir, 'checkpoints'),
    report: join(outputDir, 'report.html'),
  };
}
