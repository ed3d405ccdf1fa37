/** Options of `trainNano` (defaults in brackets). */
export interface TrainNanoOptions {
  /** @lrw/tensor backend name ['cpu']. */
  backend?: string;
  /** AdamW updates [3]. */
  steps?: number;
  /** Learning rate [1e-3]. */
  lr?: number;
  /** Rows of the batch [4]. */
  batch?: number;
  /** Tokens per row [32]. */
  seqLen?: number;
  /** Seed of the initial weights [0]. */
  seed?: number;
  /** Weight decay of the matrices [0.01]. */
  weightDecay?: number;
}

export interface TrainNanoResult {
  backend: string;
  /** 'wasm relaxed-simd, 1 thread', 'openblas matmul, wasm simd, 2 threads', 'webgpu', ... */
  kernels: string;
  /** The loss before each update, then after the last one (steps + 1 values). */
  losses: number[];
  ms: number;
}

export const TEXT: string;
export function trainNano(options?: TrainNanoOptions): Promise<TrainNanoResult>;

/** One forward and backward pass: the loss and each parameter's gradient values by name. */
export interface StepGradients {
  backend: string;
  loss: number;
  grads: Record<string, Float32Array | Int32Array>;
}

/** A step's loss relative error and the largest gradient error relative to its tensor's scale. */
export interface GradientError {
  lossRelative: number;
  maxGradError: number;
  worstParameter: string;
}

export function stepGradients(options?: TrainNanoOptions): Promise<StepGradients>;
export function gradientError(run: StepGradients, ref: StepGradients): GradientError;
