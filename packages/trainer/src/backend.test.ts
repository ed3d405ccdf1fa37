/**
 * The `backend` option: config validation, the CLI flag, the error when a backend cannot start
 * (the registry's loadBackend is mocked to fail as it does on a machine without a WebGPU
 * adapter), and the model/config consistency check. Training on webgpu itself is in
 * webgpu-training.test.ts.
 */
import type { CausalLM } from '@lrw/models';
import { tensor } from '@lrw/tensor';
import { describe, expect, it, vi } from 'vitest';
import { lrw } from '../test/cli/cli-harness.js';
import { loadTrainerBackend, modelBackend } from './backend.js';
import { parseTrainerConfig, TRAINER_BACKENDS } from './config.js';
import { trainRun } from './run-training.js';
import { TrainerError } from './trainer-error.js';

const NO_ADAPTER =
  'webgpu backend: no WebGPU adapter found. In Node, install the optional dependency `webgpu` (npm install webgpu) ...';

const NO_GPU =
  'cuda backend: no CUDA GPU found (cuInit: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)). Fix: run on a machine with an NVIDIA GPU ...';

vi.mock('@lrw/tensor', async (importOriginal) => {
  const real = await importOriginal<typeof import('@lrw/tensor')>();
  return {
    ...real,
    loadBackend: async (name: string) => {
      if (name === 'webgpu') throw new Error(NO_ADAPTER);
      if (name === 'cuda') throw new Error(NO_GPU);
      return real.loadBackend(name);
    },
  };
});

describe('config field backend', () => {
  it("defaults to 'cpu' and accepts the five backends", () => {
    expect(parseTrainerConfig({}).backend).toBe('cpu');
    expect(TRAINER_BACKENDS).toEqual(['cpu', 'cpu-reference', 'webgpu', 'gpujs', 'cuda']);
    for (const b of TRAINER_BACKENDS) expect(parseTrainerConfig({ backend: b }).backend).toBe(b);
  });

  it('an unknown backend names the value and the allowed ones', () => {
    let error: unknown;
    try {
      parseTrainerConfig({ backend: 'tpu' }, 'run.json');
    } catch (e) {
      error = e;
    }
    expect(TrainerError.isInstance(error)).toBe(true);
    expect((error as TrainerError).code).toBe('invalid-config');
    expect((error as Error).message).toContain(
      'backend = "tpu": must be one of "cpu", "cpu-reference", "webgpu", "gpujs", "cuda"',
    );
  });
});

describe('lrw --backend', () => {
  it('train, compare, demo and eval document it', async () => {
    for (const command of ['train', 'compare', 'demo', 'eval']) {
      const r = await lrw(command, '--help');
      // commander wraps long help lines: compare with the whitespace collapsed
      expect(r.stdout.replace(/\s+/g, ' '), command).toMatch(
        /--backend <name> tensor backend(: | of the model: )cpu, cpu-reference, webgpu, gpujs, cuda/,
      );
    }
  });

  it('a bad value names the allowed ones', async () => {
    const r = await lrw('train', '--backend', 'webgpuu', '--steps', '1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Use one of cpu, cpu-reference, webgpu, gpujs, cuda (did you mean webgpu?)',
    );
  });
});

describe('a backend that cannot start', () => {
  it('is a TrainerError keeping the cause, with a HINT to fall back or install', async () => {
    const error = await loadTrainerBackend('webgpu').catch((e: unknown) => e);
    expect(TrainerError.isInstance(error)).toBe(true);
    const e = error as TrainerError;
    expect(e.code).toBe('backend');
    expect(e.message).toContain(`The 'webgpu' backend could not be started: ${NO_ADAPTER}`);
    expect(e.message).toMatch(/\nHINT: train on the CPU with backend "cpu" \(--backend cpu/);
    expect(e.hint).toContain('npm install webgpu');
    expect((e as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });

  it("cuda: keeps the backend's explanation, with a HINT to fall back to cpu", async () => {
    const e = (await loadTrainerBackend('cuda').catch((x: unknown) => x)) as TrainerError;
    expect(TrainerError.isInstance(e)).toBe(true);
    expect(e.message).toContain(`The 'cuda' backend could not be started: ${NO_GPU}`);
    expect(e.hint).toMatch(
      /--backend cpu.*NVIDIA GPU.*cuBLAS.*LRW_CUDA_LIB_DIR.*npm install koffi/,
    );
  });

  it('trainRun stops with it before reading any data', async () => {
    await expect(
      trainRun({ backend: 'webgpu', steps: 1000 }, { dataDir: '/nonexistent', progress: false }),
    ).rejects.toThrow(/'webgpu' backend could not be started: .*no WebGPU adapter[\s\S]*HINT:/);
  });

  it('a name outside the list is refused with the allowed ones', async () => {
    await expect(loadTrainerBackend('tpu')).rejects.toThrow(
      /backend = "tpu" is not a backend the trainer runs on\.\nHINT: use one of "cpu", "cpu-reference", "webgpu", "gpujs", "cuda"/,
    );
  });

  it('gpujs without an X display says what headless-gl needs (not mocked)', async () => {
    const display = process.env.DISPLAY;
    delete process.env.DISPLAY;
    try {
      const error = await loadTrainerBackend('gpujs').catch((e: unknown) => e);
      expect(TrainerError.isInstance(error)).toBe(true);
      const e = error as TrainerError;
      expect(e.code).toBe('backend');
      expect(e.message).toMatch(
        /The 'gpujs' backend could not be started: .*(gpu\.js|headless-gl|'gl')/,
      );
      expect(e.hint).toContain('headless-gl');
    } finally {
      if (display !== undefined) process.env.DISPLAY = display;
    }
  });

  it('cpu and cpu-reference load', async () => {
    expect((await loadTrainerBackend('cpu')).name).toBe('cpu');
    expect((await loadTrainerBackend('cpu-reference')).name).toBe('cpu-reference');
  });
});

describe('modelBackend', () => {
  it("returns the parameters' backend and refuses one that differs from the config's", () => {
    const p = tensor([1, 2], { backend: 'cpu' });
    const model = { parameters: () => [p] } as unknown as CausalLM;
    expect(modelBackend(model, 'cpu')).toBe('cpu');
    expect(() => modelBackend(model, 'webgpu')).toThrow(
      /parameters live on backend 'cpu', but the trainer config has backend = "webgpu"[\s\S]*HINT: build the model with createModel\(modelConfig, \{ backend: 'webgpu' \}\)/,
    );
    p.dispose();
  });
});
