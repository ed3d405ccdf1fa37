import { type AdamWPath, adamwStep, noGrad, type Tensor, tensor, zerosLike } from '@lrw/tensor';
import type { NamedTensor } from './checkpoint-file.js';
import { TrainerError } from './trainer-error.js';

/**
 * AdamW (Loshchilov & Hutter 2019) exactly as torch.optim.AdamW (non-amsgrad, non-fused):
 *
 *   p <- p * (1 - lr * wd)                       decoupled weight decay (decayed parameters only)
 *   m <- beta1 m + (1 - beta1) g
 *   v <- beta2 v + (1 - beta2) g^2
 *   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * with t the 1-based step count. Moments are float32 tensors on the parameters' backend. Each
 * parameter is one `adamwStep` of @lrw/tensor: a single wasm SIMD pass over param, grad, m and v
 * on the fast `cpu` backend, one WGSL pass on `webgpu`, the same formula composed of in-place
 * tensor ops elsewhere (`cpu-reference`).
 */
export interface AdamWOptions {
  /** Default 0.01 (the paper's GPT-2 recipe, spec section 7). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Decay only weight matrices: leave out biases, norm gains (rank < 2) and embeddings (names
   * containing "emb"), nanoGPT's grouping with embeddings also excluded. Default true.
   */
  decayOnlyMatrices?: boolean;
}

export interface AdamWState {
  kind: 'lrw.adamw';
  version: 1;
  /** Updates applied so far (t of the bias correction). */
  step: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  decayOnlyMatrices: boolean;
}

interface Slot {
  name: string;
  param: Tensor;
  decay: boolean;
  m: Tensor;
  v: Tensor;
}

/** Whether `decayOnlyMatrices` decays this parameter. */
export function isDecayed(name: string, param: Tensor): boolean {
  return param.rank >= 2 && !/emb/i.test(name);
}

export class AdamW {
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly decayOnlyMatrices: boolean;
  private readonly slots: Slot[];
  private t = 0;
  private paths: AdamWPath[] = [];

  constructor(params: readonly (readonly [string, Tensor])[], options: AdamWOptions = {}) {
    this.weightDecay = options.weightDecay ?? 0.01;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.decayOnlyMatrices = options.decayOnlyMatrices ?? true;
    const check = (field: string, value: number, ok: boolean, allowed: string) => {
      if (!ok) {
        throw new TrainerError(
          'invalid-config',
          `AdamW ${field} = ${value} is not allowed: it must be ${allowed}.`,
          'use the defaults (weightDecay 0.01, beta1 0.9, beta2 0.95, eps 1e-8) unless you know why.',
        );
      }
    };
    check('weightDecay', this.weightDecay, this.weightDecay >= 0, 'a number >= 0');
    check('beta1', this.beta1, this.beta1 >= 0 && this.beta1 < 1, 'in [0, 1)');
    check('beta2', this.beta2, this.beta2 >= 0 && this.beta2 < 1, 'in [0, 1)');
    check('eps', this.eps, this.eps > 0 && Number.isFinite(this.eps), 'a finite number > 0');
    const names = new Set<string>();
    this.slots = params.map(([name, param]) => {
      if (names.has(name)) {
        throw new TrainerError(
          'invalid-config',
          `AdamW: parameter name '${name}' appears twice.`,
          'pass model.namedParameters() (unique names).',
        );
      }
      names.add(name);
      return {
        name,
        param,
        decay: this.decayOnlyMatrices ? isDecayed(name, param) : true,
        m: zerosLike(param),
        v: zerosLike(param),
      };
    });
  }

  /** Updates applied so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Names of the parameters that get weight decay. */
  decayedNames(): string[] {
    return this.slots.filter((s) => s.decay).map((s) => s.name);
  }

  /** One update at learning rate `lr` from the parameters' current `.grad` (missing grad: zero). */
  step(lr: number): void {
    if (!(lr >= 0 && Number.isFinite(lr))) {
      throw new TrainerError(
        'invalid-config',
        `AdamW.step: learning rate ${lr} is not a finite number >= 0.`,
        'check the LR schedule.',
      );
    }
    this.t++;
    const { beta1, beta2, eps } = this;
    const paths: AdamWPath[] = [];
    for (const s of this.slots) {
      // A parameter without a gradient this step still decays and moves on its moments, as
      // torch does for a zero gradient; the zeros make that the same formula.
      const g = s.param.grad ?? noGrad(() => zerosLike(s.param));
      paths.push(
        adamwStep(s.param, g, s.m, s.v, {
          lr,
          beta1,
          beta2,
          eps,
          weightDecay: s.decay ? this.weightDecay : 0,
          step: this.t,
        }),
      );
      if (g !== s.param.grad) g.dispose();
    }
    this.paths = paths;
  }

  /**
   * How the last `step` updated each parameter, in parameter order: 'wasm' (one fused pass on
   * the fast CPU backend), 'webgpu' (one WGSL pass), 'routine' (another backend's fused
   * routine) or 'composed' (in-place tensor ops, any backend).
   */
  lastStepPaths(): readonly AdamWPath[] {
    return this.paths;
  }

  /** Scalar state for a checkpoint; the moments come from `tensors()`. */
  state(): AdamWState {
    return {
      kind: 'lrw.adamw',
      version: 1,
      step: this.t,
      weightDecay: this.weightDecay,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      decayOnlyMatrices: this.decayOnlyMatrices,
    };
  }

  /**
   * Host copies of the moments, named `m/<param>` and `v/<param>`. Synchronous: host-memory
   * backends only (`cpu`, `cpu-reference`); `tensorsAsync` works on every backend.
   */
  tensors(): Record<string, NamedTensor> {
    const out: Record<string, NamedTensor> = {};
    for (const s of this.slots) {
      out[`m/${s.name}`] = { shape: s.m.shape, data: Float32Array.from(s.m.dataSync()) };
      out[`v/${s.name}`] = { shape: s.v.shape, data: Float32Array.from(s.v.dataSync()) };
    }
    return out;
  }

  /** `tensors()` on any backend (GPU moments are read with `await data()`); the same copies. */
  async tensorsAsync(): Promise<Record<string, NamedTensor>> {
    const out: Record<string, NamedTensor> = {};
    for (const s of this.slots) {
      out[`m/${s.name}`] = { shape: s.m.shape, data: (await s.m.data()) as Float32Array };
      out[`v/${s.name}`] = { shape: s.v.shape, data: (await s.v.data()) as Float32Array };
    }
    return out;
  }

  /** Restores `state()` and `tensors()` of an optimizer over the same parameters. */
  load(state: AdamWState, tensors: Record<string, NamedTensor>): void {
    if (state?.kind !== 'lrw.adamw' || state.version !== 1) {
      throw new TrainerError(
        'checkpoint-mismatch',
        `AdamW.load: the optimizer state is ${JSON.stringify(state)?.slice(0, 80)}, not an lrw.adamw version 1 state.`,
        'load a checkpoint written by this trainer.',
      );
    }
    for (const field of ['weightDecay', 'beta1', 'beta2', 'eps', 'decayOnlyMatrices'] as const) {
      if (state[field] !== this[field]) {
        throw new TrainerError(
          'checkpoint-mismatch',
          `AdamW.load: the checkpoint has ${field} = ${state[field]}, this optimizer ${this[field]}.`,
          'resume with the config the checkpoint was written with.',
        );
      }
    }
    noGrad(() => {
      for (const s of this.slots) {
        for (const [key, target] of [
          [`m/${s.name}`, s.m],
          [`v/${s.name}`, s.v],
        ] as const) {
          const entry = tensors[key];
          if (!entry || entry.data.length !== target.size) {
            throw new TrainerError(
              'checkpoint-mismatch',
              `AdamW.load: moment '${key}' is ${entry ? `${entry.data.length} values` : 'missing'}; the parameter has ${target.size}.`,
              'resume with the model the checkpoint was written with.',
            );
          }
          const t = tensor(entry.data, { shape: target.shape, backend: target.backend.name });
          target.assign(t);
          t.dispose();
        }
      }
    });
    this.t = state.step;
  }

  /** Releases the moment tensors. */
  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
