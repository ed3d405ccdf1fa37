import { readFileSync } from 'node:fs';
import { assertNoLeaks, noGrad, type Tensor, tensor } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import { AdamW, isDecayed } from './adamw.js';
import {
  clipGradNorm,
  clipGradNormAsync,
  globalGradNorm,
  globalGradNormAsync,
} from './grad-clip.js';
import { TrainerError } from './trainer-error.js';

interface Fixture {
  shapes: Record<string, number[]>;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  maxNorm: number;
  initial: Record<string, number[]>;
  steps: {
    lr: number;
    grads: Record<string, number[]>;
    norm: number;
    params: Record<string, number[]>;
  }[];
}

// written by tooling/reference/make-trainer-adamw-fixture.py (torch.optim.AdamW + clip_grad_norm_)
const fixture = JSON.parse(
  readFileSync(new URL('../test/fixtures/adamw-torch.json', import.meta.url), 'utf8'),
) as Fixture;
const names = Object.keys(fixture.shapes);

function makeParams(backend?: string): [string, Tensor][] {
  return names.map((n) => [
    n,
    tensor(fixture.initial[n]!, { shape: fixture.shapes[n], backend }).requireGrad(),
  ]);
}

function setGrads(params: [string, Tensor][], grads: Record<string, number[]>): void {
  for (const [n, p] of params) {
    p.zeroGrad();
    // backward of sum(p * g) leaves exactly g in p.grad
    const g = tensor(grads[n]!, { shape: p.shape, backend: p.backend.name });
    p.mul(g).sum().backward();
    g.dispose();
  }
}

function optimizer(params: [string, Tensor][]): AdamW {
  return new AdamW(params, {
    weightDecay: fixture.weightDecay,
    beta1: fixture.beta1,
    beta2: fixture.beta2,
    eps: fixture.eps,
  });
}

function runSteps(params: [string, Tensor][], opt: AdamW, from: number, to: number): number[] {
  const norms: number[] = [];
  for (let t = from; t < to; t++) {
    const step = fixture.steps[t]!;
    setGrads(params, step.grads);
    norms.push(
      clipGradNorm(
        params.map(([, p]) => p),
        fixture.maxNorm,
      ),
    );
    opt.step(step.lr);
  }
  return norms;
}

function dispose(params: [string, Tensor][], opt: AdamW): void {
  opt.dispose();
  for (const [, p] of params) p.dispose();
}

describe('AdamW', () => {
  it('decays only matrices that are not embeddings', () => {
    const params = makeParams();
    const opt = optimizer(params);
    expect(opt.decayedNames()).toEqual(['w']);
    expect(isDecayed('tok_emb.weight', params[0]![1])).toBe(false);
    expect(isDecayed('blocks.0.norm1.weight', params[1]![1])).toBe(false);
    dispose(params, opt);
  });

  // 'cpu': adamwStep's fused wasm pass; 'cpu-reference': its composed fallback (what GPU
  // backends run).
  it.each([
    ['cpu', 'wasm'],
    ['cpu-reference', 'composed'],
  ] as const)(
    'matches torch.optim.AdamW with clip_grad_norm_ step by step (%s)',
    (backend, path) => {
      const params = makeParams(backend);
      const opt = optimizer(params);
      fixture.steps.forEach((step, t) => {
        const [norm] = runSteps(params, opt, t, t + 1);
        expect(opt.lastStepPaths()).toEqual(names.map(() => path));
        expect(norm).toBeCloseTo(step.norm, 4);
        for (const [n, p] of params) {
          const got = p.dataSync();
          step.params[n]!.forEach((want, i) => {
            expect(Math.abs(got[i]! - want)).toBeLessThan(2e-6 * Math.max(1, Math.abs(want)));
          });
        }
      });
      dispose(params, opt);
    },
  );

  it('matches the formulas in float64 (independent of PyTorch)', () => {
    const params = makeParams();
    const opt = optimizer(params);
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = fixture;
    const p64 = Object.fromEntries(names.map((n) => [n, Float64Array.from(fixture.initial[n]!)]));
    const m = Object.fromEntries(names.map((n) => [n, new Float64Array(p64[n]!.length)]));
    const v = Object.fromEntries(names.map((n) => [n, new Float64Array(p64[n]!.length)]));
    fixture.steps.forEach((step, k) => {
      const t = k + 1;
      let sq = 0;
      for (const n of names) for (const g of step.grads[n]!) sq += g * g;
      const coef = Math.min(1, fixture.maxNorm / (Math.sqrt(sq) + 1e-6));
      for (const n of names) {
        const decay = n === 'w' ? wd : 0;
        step.grads[n]!.forEach((g0, i) => {
          const g = g0 * coef;
          const p = p64[n]!;
          p[i] = p[i]! * (1 - step.lr * decay);
          m[n]![i] = b1 * m[n]![i]! + (1 - b1) * g;
          v[n]![i] = b2 * v[n]![i]! + (1 - b2) * g * g;
          const mHat = m[n]![i]! / (1 - b1 ** t);
          const vHat = v[n]![i]! / (1 - b2 ** t);
          p[i] = p[i]! - (step.lr * mHat) / (Math.sqrt(vHat) + eps);
        });
      }
    });
    runSteps(params, opt, 0, fixture.steps.length);
    for (const [n, p] of params) {
      const got = p.dataSync();
      p64[n]!.forEach((want, i) => {
        expect(Math.abs(got[i]! - want)).toBeLessThan(1e-5);
      });
    }
    dispose(params, opt);
  });

  it('state() / load() continue bit-identically', () => {
    const straight = makeParams();
    const optA = optimizer(straight);
    runSteps(straight, optA, 0, 4);

    const first = makeParams();
    const optB = optimizer(first);
    runSteps(first, optB, 0, 2);
    const saved = { state: optB.state(), tensors: optB.tensors() };
    const weights = first.map(([, p]) => Float32Array.from(p.dataSync()));
    dispose(first, optB);

    const second = makeParams();
    noGrad(() =>
      second.forEach(([, p], i) => {
        const t = tensor(weights[i]!, { shape: p.shape });
        p.assign(t);
        t.dispose();
      }),
    );
    const optC = optimizer(second);
    optC.load(saved.state, saved.tensors);
    expect(optC.stepCount).toBe(2);
    runSteps(second, optC, 2, 4);
    second.forEach(([, p], i) => {
      expect(p.dataSync()).toEqual(straight[i]![1].dataSync());
    });
    dispose(straight, optA);
    dispose(second, optC);
  });

  it('refuses a state with other hyperparameters, and bad options', () => {
    const params = makeParams();
    const opt = optimizer(params);
    const other = new AdamW(params, { weightDecay: 0.5 });
    expect(() => other.load(opt.state(), opt.tensors())).toThrow(/weightDecay = 0.1/);
    expect(() => new AdamW(params, { beta2: 1 })).toThrow(TrainerError);
    expect(() => opt.step(Number.NaN)).toThrow(/learning rate NaN/);
    other.dispose();
    dispose(params, opt);
  });

  it('treats a parameter without a gradient as a zero gradient (decay and moments still act)', () => {
    const withZeros = makeParams();
    const without = makeParams();
    const optA = optimizer(withZeros);
    const optB = optimizer(without);
    runSteps(withZeros, optA, 0, 1);
    runSteps(without, optB, 0, 1);
    setGrads(
      withZeros,
      Object.fromEntries(names.map((n) => [n, fixture.initial[n]!.map(() => 0)])),
    );
    for (const [, p] of without) p.zeroGrad();
    expect(without.every(([, p]) => p.grad === null || p.grad === undefined)).toBe(true);
    optA.step(0.1);
    optB.step(0.1);
    withZeros.forEach(([, p], i) => {
      expect(without[i]![1].dataSync()).toEqual(p.dataSync());
    });
    // Nothing stood still: the moments from step 1 moved every parameter.
    expect(without[0]![1].dataSync()).not.toEqual(Float32Array.from(fixture.initial[names[0]!]!));
    dispose(withZeros, optA);
    dispose(without, optB);
  });

  it('leaks no tensor per step', async () => {
    const params = makeParams();
    const opt = optimizer(params);
    runSteps(params, opt, 0, 1);
    await assertNoLeaks(() => {
      opt.step(1e-3);
      opt.step(1e-3);
    });
    dispose(params, opt);
  });
});

describe('gradient clipping', () => {
  it('returns the norm before clipping and scales only above the limit', () => {
    const p = tensor([3, 4]).requireGrad();
    p.mul(tensor([3, 4]))
      .sum()
      .backward(); // grad = [3, 4], norm 5
    expect(globalGradNorm([p])).toBe(5);
    expect(clipGradNorm([p], 10)).toBe(5);
    expect(Array.from(p.grad!.dataSync())).toEqual([3, 4]);
    clipGradNorm([p], 1);
    const g = p.grad!.dataSync();
    expect(Math.hypot(g[0]!, g[1]!)).toBeCloseTo(1, 5);
    p.dispose();
  });

  it('the norm is the float64 sum, in parameter order, of per-parameter float32 sums of squares; sync and async agree', async () => {
    const params = makeParams();
    setGrads(params, fixture.steps[0]!.grads);
    const ps = params.map(([, p]) => p);
    // A parameter without a gradient counts as zero.
    const extra = tensor([1, 2, 3]).requireGrad();
    let want = 0;
    for (const p of ps) want += p.grad!.square().sum().itemSync();
    want = Math.sqrt(want);
    expect(globalGradNorm([...ps, extra])).toBe(want);
    expect(await globalGradNormAsync([...ps, extra])).toBe(want);
    expect(globalGradNorm([extra])).toBe(0);
    const before = ps.map((p) => Array.from(p.grad!.dataSync()));
    expect(await clipGradNormAsync(ps, want * 2)).toBe(want); // under the limit: unchanged
    expect(ps.map((p) => Array.from(p.grad!.dataSync()))).toEqual(before);
    expect(await clipGradNormAsync(ps, want / 2)).toBe(want);
    expect(globalGradNorm(ps)).toBeCloseTo(want / 2, 5);
    extra.dispose();
    dispose(params, optimizer(params));
  });
});

describe('AdamW.tensorsAsync', () => {
  it('returns the same host copies as tensors()', async () => {
    const params = makeParams();
    const opt = optimizer(params);
    runSteps(params, opt, 0, 2);
    expect(await opt.tensorsAsync()).toEqual(opt.tensors());
    dispose(params, opt);
  });
});
