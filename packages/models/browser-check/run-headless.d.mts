import type { GradientError, TrainNanoResult } from './nano-train.mjs';

/** A backend that did not run: no WebGPU adapter (`skipped`) or an exception (`error`). */
export interface NotRun {
  backend: string;
  skipped?: string;
  error?: string;
}

/** What the page publishes as `window.lrwBrowserCheck`, plus the page errors seen. */
export interface PageResult {
  userAgent: string;
  steps: number;
  runs: Record<string, TrainNanoResult | NotRun>;
  /** One training step of each GPU backend that ran, against 'cpu' (see `gradientError`). */
  gradients?: Record<string, GradientError | { error: string }>;
  /** Page errors, failed requests and HTTP errors (empty when all went well). */
  problems: string[];
}

export const CHROMIUM_FLAGS: string[];
export function findChromium(): string | undefined;
export function runInChromium(options?: {
  executablePath?: string;
  steps?: number;
  backends?: string[];
  timeoutMs?: number;
  /** More query parameters, e.g. '&repeat=2&gradients=0'. */
  query?: string;
}): Promise<PageResult>;
export function formatRuns(result: PageResult, prefix?: string): string;
