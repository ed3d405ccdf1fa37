// A few AdamW steps of the gpt2-nano preset on a fixed byte batch, on one @lrw/tensor backend.
// The same module runs in Node (`node` resolves the bare imports through the workspace) and in
// a browser (index.html maps them to the packages' dist/ files with an import map), so the
// browser check compares the two runs of one piece of code.
import { causalTargets, GPT2, preset } from '@lrw/models';
import {
  adamwStep,
  cpuProvider,
  loadBackend,
  noGrad,
  tensor,
  tidy,
  wasmKernelsOf,
  zerosLike,
} from '@lrw/tensor';

/** The training text: its UTF-8 bytes are the tokens (byte-level vocabulary, 257 ids). */
export const TEXT =
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the ' +
  'age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the ' +
  'season of Light, it was the season of Darkness, it was the spring of hope, it was the winter ' +
  'of despair, we had everything before us, we had nothing before us.';

/**
 * Trains `gpt2-nano` (seeded) for `steps` AdamW steps on `batch` rows of `seqLen + 1` bytes of
 * TEXT with the mean per-sample loss, on backend `backend`. Returns the loss before each update
 * and after the last one (`steps + 1` values), the kernels the backend used, and the time.
 */
export async function trainNano(options = {}) {
  const {
    backend = 'cpu',
    steps = 3,
    lr = 1e-3,
    batch = 4,
    seqLen = 32,
    seed = 0,
    weightDecay = 0.01,
  } = options;
  const t0 = performance.now();
  const be = await loadBackend(backend);
  const bytes = new TextEncoder().encode(TEXT);
  if (bytes.length < batch * (seqLen + 1)) {
    throw new RangeError(`trainNano: batch ${batch} x (seqLen ${seqLen} + 1) exceeds the text`);
  }
  const { inputs, targets } = causalTargets(
    Int32Array.from(bytes.subarray(0, batch * (seqLen + 1))),
    batch,
  );
  const model = new GPT2(preset('gpt2-nano'), { seed, backend });
  const params = model.namedParameters();
  // Moments on the parameters' backend; weight decay on matrices only (nanoGPT's grouping).
  const slots = params.map(([name, p]) => ({
    p,
    m: noGrad(() => zerosLike(p)),
    v: noGrad(() => zerosLike(p)),
    decay: p.rank >= 2 && !name.includes('emb') ? weightDecay : 0,
  }));
  const ids = tensor(inputs, { shape: [batch, seqLen], dtype: 'int32', backend });
  // Mean per-sample loss of the batch; with `train`, its gradients accumulate in the parameters.
  const lossAt = async (train) => {
    const loss = noGrad(
      () =>
        tidy(() => {
          const l = model.perSampleLoss(ids, targets).losses.mean();
          if (train) l.backward();
          return l;
        }),
      train,
    );
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };
  const losses = [];
  for (let step = 1; step <= steps; step++) {
    losses.push(await lossAt(true));
    for (const s of slots) {
      adamwStep(s.p, s.p.grad, s.m, s.v, { lr, step, weightDecay: s.decay });
    }
    model.zeroGrad();
  }
  losses.push(await lossAt(false));
  const kernels = describeKernels(be);
  ids.dispose();
  for (const s of slots) {
    s.m.dispose();
    s.v.dispose();
  }
  model.dispose();
  return { backend, kernels, losses, ms: Math.round(performance.now() - t0) };
}

/**
 * One forward and backward pass of `gpt2-nano` (seeded) on the first batch of trainNano, on
 * backend `backend`: the mean per-sample loss and every parameter's gradient (name -> values),
 * for comparing a backend's training step with the CPU's.
 */
export async function stepGradients(options = {}) {
  const { backend = 'cpu', batch = 4, seqLen = 32, seed = 0 } = options;
  await loadBackend(backend);
  const bytes = new TextEncoder().encode(TEXT);
  const { inputs, targets } = causalTargets(
    Int32Array.from(bytes.subarray(0, batch * (seqLen + 1))),
    batch,
  );
  const model = new GPT2(preset('gpt2-nano'), { seed, backend });
  const ids = tensor(inputs, { shape: [batch, seqLen], dtype: 'int32', backend });
  const loss = tidy(() => {
    const l = model.perSampleLoss(ids, targets).losses.mean();
    l.backward();
    return l;
  });
  const value = (await loss.data())[0];
  const grads = {};
  for (const [name, p] of model.namedParameters()) grads[name] = await p.grad.data();
  loss.dispose();
  ids.dispose();
  model.dispose();
  return { backend, loss: value, grads };
}

/**
 * Largest gradient error of `run` against `ref` (both from stepGradients), each parameter's
 * max |difference| over its max |gradient| (the scale of that tensor's gradient).
 */
export function gradientError(run, ref) {
  let worst = { name: '', error: 0 };
  for (const [name, want] of Object.entries(ref.grads)) {
    const got = run.grads[name];
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
    }
    const error = scale > 0 ? diff / scale : diff;
    if (!(error <= worst.error)) worst = { name, error };
  }
  return {
    lossRelative: Math.abs(run.loss - ref.loss) / Math.abs(ref.loss),
    maxGradError: worst.error,
    worstParameter: worst.name,
  };
}

/**
 * The kernels behind `backend`: for the fast CPU backend its matmul provider ('openblas' in Node
 * where the native BLAS is installed) and the wasm build with its thread count, else the name.
 */
function describeKernels(backend) {
  const mm = wasmKernelsOf(backend);
  if (!mm) return backend.renderer ? `${backend.name} (${backend.renderer})` : backend.name;
  const wasm = `wasm ${mm.instructionSet}, ${mm.threads} thread${mm.threads > 1 ? 's' : ''}`;
  const provider = cpuProvider(backend);
  return provider === 'wasm' ? wasm : `${provider} matmul, ${wasm}`;
}
