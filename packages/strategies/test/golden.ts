// Loads the committed golden fixture (see test/fixtures/README.md).
import { readFileSync } from 'node:fs';

export interface GoldenCase {
  name: string;
  strategy: string;
  r: number;
  normalized: number[];
  scores: number[];
  weights: number[];
  weighted_loss_sum_w_l: number;
  max_weight_times_n: number;
  float64_only: boolean;
}

export interface DistributedCase {
  strategy: string;
  r: number;
  world_size: number;
  per_device_batch: number;
  device_losses: number[][];
  device_num_active: number[][];
  global_weights: number[];
  device_weights: number[][];
  readme_fms_per_rank_loss: number[];
  readme_fms_effective_objective_after_ddp_mean: number;
  global_sum_w_l: number;
  trainer_py_per_rank_loss: number[];
  trainer_py_effective_objective_after_ddp_mean: number;
}

export interface PerSampleLossCase {
  logits: number[][][];
  labels: number[][];
  ignore_index: number;
  token_ce_after_shift: number[][];
  num_active: number[];
  per_sample_loss: number[];
}

export interface GoldenFile {
  source_sha256: string;
  loss_vectors: Record<string, number[]>;
  cases: GoldenCase[];
  distributed_cases: DistributedCase[];
  per_sample_loss_from_logits: PerSampleLossCase;
}

export const golden: GoldenFile = JSON.parse(
  readFileSync(new URL('./fixtures/strategies-golden.json', import.meta.url), 'utf8'),
);
