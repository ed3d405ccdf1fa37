import type { CausalLM } from '@lrw/models';
import { type Backend, loadBackend } from '@lrw/tensor';
import { TRAINER_BACKENDS, type TrainerBackend } from './config.js';
import { TrainerError } from './trainer-error.js';

export { TRAINER_BACKENDS, type TrainerBackend };

/**
 * Loads the backend `name` through @lrw/tensor's registry (`loadBackend`; the current backend
 * stays as it is: the trainer puts its tensors on `name` explicitly). A backend that cannot be
 * created (no WebGPU adapter, the `webgpu` package missing, no NVIDIA driver or GPU for cuda)
 * becomes a TrainerError whose message
 * keeps the backend's own explanation and whose hint says how to fix it or fall back.
 */
export async function loadTrainerBackend(name: TrainerBackend | string): Promise<Backend> {
  if (!(TRAINER_BACKENDS as readonly string[]).includes(name)) {
    throw new TrainerError(
      'invalid-config',
      `backend = ${JSON.stringify(name)} is not a backend the trainer runs on.`,
      `use one of ${TRAINER_BACKENDS.map((b) => `"${b}"`).join(', ')}.`,
    );
  }
  try {
    return await loadBackend(name);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new TrainerError(
      'backend',
      `The '${name}' backend could not be started: ${why}`,
      name === 'webgpu'
        ? 'train on the CPU with backend "cpu" (--backend cpu, the default), or give this machine a WebGPU adapter: a GPU driver plus `npm install webgpu`, or without a GPU the Mesa EGL packages (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) for the OpenGL ES software route (slow: for tests).'
        : name === 'gpujs'
          ? 'train with backend "cpu" (the default). gpujs in Node needs headless-gl (the npm package `gl`, built from source with X11/GL development packages) and an X display (Xvfb without a GPU); it is meant for browsers and machines whose GPU only WebGL reaches, and is slow on software rasterizers.'
          : name === 'cuda'
            ? 'train on the CPU with backend "cpu" (--backend cpu, the default), or fix what the message above names: the cuda backend needs an NVIDIA GPU with its driver, cuBLAS (the CUDA toolkit or PyTorch\'s nvidia-cublas wheel; LRW_CUDA_LIB_DIR if elsewhere) and `npm install koffi`.'
            : /LRW_TENSOR_\w+=/.test(why)
              ? 'fix or unset the environment variable the message names (see @lrw/tensor docs/cpu.md).'
              : 'train with backend "cpu" (the default).',
      { cause: error },
    );
  }
}

/**
 * The backend the model's parameters live on, checked against the config's `backend`: the
 * trainer's own tensors (token ids, loss weights, reduced gradients, optimizer moments) go to
 * the same backend.
 */
export function modelBackend(model: CausalLM, configured: string): string {
  const names = [...new Set(model.parameters().map((p) => p.backend.name))];
  if (names.length > 1) {
    throw new TrainerError(
      'invalid-config',
      `The model's parameters live on several backends (${names.join(', ')}).`,
      'build the whole model on one backend: createModel(config, { backend }).',
    );
  }
  const name = names[0] ?? configured;
  if (name !== configured) {
    throw new TrainerError(
      'invalid-config',
      `The model's parameters live on backend '${name}', but the trainer config has backend = "${configured}".`,
      `build the model with createModel(modelConfig, { backend: '${configured}' }), or set the config's backend to "${name}".`,
    );
  }
  return name;
}
