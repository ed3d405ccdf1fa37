// Where the milliseconds of one training step go (Trainer.trainStep: forward, per-sample
// losses, weights, backward, clip, AdamW) on @lrw/tensor's cpu backend, beside PyTorch's own
// profile of the same step (bench/torch_profile_step.py, torch.autograd.profiler, jemalloc).
// Ours is measured by wrapping the backend's kernel dispatch (`run`), each fused routine's
// forward and backward, and buffer alloc/free with wall-clock timers (exclusive time: a routine's
// inner kernels count for the kernel), scaled by the step's process CPU time / wall time so that
// time other tenants take is spread evenly; what is left of the step is the op layer above the
// kernels (autograd tape, views, broadcasting, dispatch) and the trainer. The timers cost well
// under 1 us per call: compare the shares, not the step time, with the bench's.
// PyTorch's figures are its profiler's self CPU time per aten op (wall clock of its thread).
//
//   node bench/profile-step.mjs [--models nano,micro,tiny] [--steps 5] [--threads 1] [--detail]
//     [--top 25] [--no-torch]
// Build first (npx tsc -b); PyTorch: Debian python3-torch + libjemalloc2 (skipped if absent).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel } from '@lrw/models';
import { blasProviderOf, cpuProvider, getBackend } from '@lrw/tensor';
import { parseTrainerConfig, TRAINER_MODELS, Trainer } from '../dist/index.js';
import { randomSource } from './random-source.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
);
const models = (args.models ?? 'nano,micro,tiny').split(',');
const steps = Number(args.steps ?? 5);
const threads = Number(args.threads ?? 1);
const detail = 'detail' in args; // label kernels with their operands' shapes and strides
const B = 8;
const T = 128;

const cpu = getBackend('cpu');
blasProviderOf(cpu)?.setThreads(threads);

// ---- timers: exclusive time per label, on the cheap wall clock (process.cpuUsage costs a
// system call, tens of us on these VMs: more than many kernels); each step's labels are then
// scaled by its CPU / wall time, as PyTorch's below ----
const clock = () => performance.now();
const cpuClock = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
let acc = new Map();
const stack = [];
let now = clock();
function enter(label) {
  const t = clock();
  if (stack.length) {
    const top = stack.at(-1);
    acc.set(top, (acc.get(top) ?? 0) + (t - now));
  }
  stack.push(label);
  now = t;
}
function leave() {
  const t = clock();
  const top = stack.pop();
  acc.set(top, (acc.get(top) ?? 0) + (t - now));
  now = t;
}
const timed = (label, fn) => {
  enter(typeof label === 'function' ? label() : label);
  try {
    return fn();
  } finally {
    leave();
  }
};

function matmulLabel(call) {
  const [a, b] = call.inputs;
  const M = a.shape.at(-2);
  const K = a.shape.at(-1);
  const N = b.shape.at(-1);
  const batch = call.output.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  return `matmul ${batch > 1 ? `${batch}x` : ''}[${M}x${K}]@[${K}x${N}]`;
}
const run = cpu.run.bind(cpu);
cpu.run = (call) =>
  timed(
    () =>
      call.kernel === 'matmul'
        ? matmulLabel(call)
        : detail
          ? `kernel ${call.kernel} ${call.inputs.map((v) => `[${v.shape}]/[${v.strides}]`).join(' ')} -> [${call.output.shape}]`
          : `kernel ${call.kernel}`,
    () => run(call),
  );
const alloc = cpu.alloc.bind(cpu);
cpu.alloc = (bytes) => timed('alloc/free', () => alloc(bytes));
const free = cpu.free.bind(cpu);
cpu.free = (buf) => timed('alloc/free', () => free(buf));
for (const op of [
  'linearCrossEntropy',
  'crossEntropy',
  'logSoftmax',
  'softmax',
  'layerNorm',
  'rmsNorm',
  'gelu',
  'silu',
  'scaledDotProductAttention',
  'adamwStep',
  'logsumexp',
  'dropout',
]) {
  const r = cpu.routine(op);
  if (!r) continue;
  const wrapped = {
    ...r,
    forward: (inputs, attrs, ctx) =>
      timed(`routine ${op} forward`, () => r.forward(inputs, attrs, ctx)),
  };
  Object.setPrototypeOf(wrapped, Object.getPrototypeOf(r));
  if (r.backward)
    wrapped.backward = (grad, ctx) => timed(`routine ${op} backward`, () => r.backward(grad, ctx));
  cpu.registerRoutine(op, wrapped);
}

async function profileOurs(name) {
  const modelConfig = {
    ...TRAINER_MODELS[name],
    contextLength: Math.max(T, TRAINER_MODELS[name].contextLength),
  };
  const config = parseTrainerConfig({
    model: name,
    seqLen: T,
    batchSize: B,
    steps: 2 + steps,
    method: 'uniform',
    lr: { kind: 'constant', lr: 5e-4 },
    evalInterval: 0,
    checkpointInterval: 0,
  });
  const dir = mkdtempSync(join(tmpdir(), 'lrw-profile-'));
  const model = createModel(modelConfig, { seed: 0 });
  const trainer = await Trainer.create({
    config,
    model,
    train: randomSource(modelConfig.vocabSize, B, T),
    domains: ['random'],
    outDir: dir,
    progress: false,
  });
  const runs = [];
  for (let i = 0; i < 2 + steps; i++) {
    acc = new Map();
    const c0 = cpuClock();
    const t0 = clock();
    enter('op layer, autograd, trainer (rest)');
    await trainer.trainStep();
    leave();
    const wallMs = clock() - t0;
    const ms = cpuClock() - c0;
    for (const [k, v] of acc) acc.set(k, (v * ms) / wallMs);
    if (i >= 2) runs.push({ ms, wallMs, acc });
  }
  trainer.close();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
  runs.sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)];
}

function profileTorch(name) {
  const script = fileURLToPath(new URL('./torch_profile_step.py', import.meta.url));
  if (!existsSync('/usr/bin/python3')) return undefined;
  const c = TRAINER_MODELS[name];
  const r = spawnSync(
    '/usr/bin/python3',
    [
      script,
      ...['--vocab', c.vocabSize, '--layers', c.nLayers, '--heads', c.nHeads, '--embd', c.dModel],
      ...['--seq', T, '--batch', B, '--threads', threads, '--steps', steps],
    ].map(String),
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    console.warn(`torch_profile_step.py failed: ${r.stderr.slice(-400)}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

// Where each side's time goes, in the same categories. PyTorch's vocabulary head is its
// products and log-softmax with the vocabulary among their shapes; its attention is bmm,
// softmax and the mask; ours are the fused routines.
function ourCategory(label) {
  if (label.startsWith('routine linearCrossEntropy')) return 'vocabulary head + cross-entropy';
  if (label.startsWith('routine scaledDotProductAttention'))
    return 'attention (products, mask, softmax)';
  if (label.startsWith('matmul')) return 'other products (linear layers)';
  if (label.startsWith('routine adamwStep')) return 'AdamW';
  if (label === 'alloc/free') return 'allocation';
  if (label.startsWith('kernel copy') || label.startsWith('kernel fill')) return 'copies, fills';
  if (label.startsWith('op layer')) return 'op layer, autograd, trainer (rest)';
  return 'elementwise, norms, reductions, indexing';
}
function torchCategory([name, , , shapes], vocab) {
  const hasVocab = JSON.stringify(shapes ?? []).includes(String(vocab));
  if (
    /log_softmax|nll_loss|cross_entropy/.test(name) ||
    (hasVocab && /::(mm|addmm|matmul)$/.test(name))
  )
    return 'vocabulary head + cross-entropy';
  if (/::(bmm|_softmax|_softmax_backward_data|masked_fill_?)$/.test(name))
    return 'attention (products, mask, softmax)';
  if (/::(mm|addmm)$/.test(name)) return 'other products (linear layers)';
  if (/Optimizer|addcdiv|addcmul|lerp|_foreach|sqrt/.test(name)) return 'AdamW';
  if (/::(empty|empty_strided|resize_)/.test(name)) return 'allocation';
  if (/::(copy_|fill_|zero_|zeros|cat|clone|contiguous|_to_copy)$/.test(name))
    return 'copies, fills';
  if (
    /^aten::(gelu|native_layer_norm|add|mul|div|sum|sub|neg|embedding|index|norm|mean|where|clamp|max|min|exp|log|pow|rsub|scatter|gather)/.test(
      name,
    )
  )
    return 'elementwise, norms, reductions, indexing';
  return 'op layer, autograd, trainer (rest)';
}

const pct = (x, total) => `${((100 * x) / total).toFixed(1)}%`;
console.log(
  `ours: cpu provider ${cpuProvider(cpu)}, ${threads} thread(s); B=${B}, T=${T}; the median of ${steps} profiled steps; ${new Date().toISOString()}`,
);
for (const name of models) {
  const ours = await profileOurs(name);
  const rows = [...ours.acc].sort((a, b) => b[1] - a[1]);
  console.log(
    `\n## ${name}: ours, step ${ours.ms.toFixed(1)} CPU-ms (${ours.wallMs.toFixed(1)} ms wall, timed); labels x ${(ours.ms / ours.wallMs).toFixed(2)}`,
  );
  for (const [label, ms] of rows.slice(0, Number(args.top ?? 25))) {
    console.log(`  ${ms.toFixed(2).padStart(9)} ms ${pct(ms, ours.ms).padStart(6)}  ${label}`);
  }
  const t = 'no-torch' in args ? undefined : profileTorch(name);
  const cats = new Map();
  for (const [label, ms] of ours.acc) {
    const c = ourCategory(label);
    cats.set(c, [(cats.get(c)?.[0] ?? 0) + ms, 0]);
  }
  if (t) {
    const scale = t.step_cpu_ms / t.step_ms;
    let named = 0;
    for (const op of t.ops) {
      const c = torchCategory(op, TRAINER_MODELS[name].vocabSize);
      const e = cats.get(c) ?? [0, 0];
      e[1] += op[1] * scale;
      named += op[1] * scale;
      cats.set(c, e);
    }
    // What the profiler's op self times do not cover (Python, the autograd engine between ops).
    const rest = cats.get('op layer, autograd, trainer (rest)') ?? [0, 0];
    rest[1] += Math.max(0, t.step_cpu_ms - named);
    cats.set('op layer, autograd, trainer (rest)', rest);
  }
  console.log(`\n| ${name}: CPU-ms per step | ours | PyTorch |`);
  console.log('| --- | --- | --- |');
  for (const [c, [o, p]] of [...cats].sort((a, b) => b[1][0] - a[1][0])) {
    console.log(
      `| ${c} | ${o.toFixed(1)} (${pct(o, ours.ms)}) | ${t ? `${p.toFixed(1)} (${pct(p, t.step_cpu_ms)})` : 'n/a'} |`,
    );
  }
  console.log(`| step | ${ours.ms.toFixed(1)} | ${t ? t.step_cpu_ms.toFixed(1) : 'n/a'} |`);
  if (t) {
    // The profiler clocks wall time: scaled by the step's CPU / wall time, so that time other
    // tenants took from the process is spread evenly instead of landing on whichever op ran.
    const scale = t.step_cpu_ms / t.step_ms;
    console.log(
      `## ${name}: PyTorch (${t.allocator}), step ${t.step_cpu_ms} CPU-ms (${t.step_ms} ms wall, profiled); ops' self time x ${scale.toFixed(2)}`,
    );
    for (const [label, wallMs, calls] of t.ops.slice(0, Number(args.top ?? 20))) {
      const ms = wallMs * scale;
      console.log(
        `  ${ms.toFixed(2).padStart(9)} ms ${pct(ms, t.step_cpu_ms).padStart(6)}  ${label} (${calls} calls)`,
      );
    }
  }
}
