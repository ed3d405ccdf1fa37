// The torch.optim.AdamW fixture the AdamW tests share (three steps from p0 with `grads`).
import { existsSync, readFileSync } from 'node:fs';

export interface AdamWGolden {
  config: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };
  p0: number[];
  grads: number[][];
  p: number[];
  m: number[];
  v: number[];
}

const goldenPath = new URL('../cpu-wasm/fixtures/adamw-torch.json', import.meta.url);

/** The fixture, or undefined where it is missing (tests skip). */
export const adamwGolden: AdamWGolden | undefined = existsSync(goldenPath)
  ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as AdamWGolden)
  : undefined;
