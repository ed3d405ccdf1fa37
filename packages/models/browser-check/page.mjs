// Runs trainNano on each requested backend and publishes the result as
// `window.lrwBrowserCheck` (read by test/browser-check.test.ts) and as a table.
import { gradientError, stepGradients, trainNano } from './nano-train.mjs';

const query = new URLSearchParams(location.search);
const steps = Number(query.get('steps') ?? 3);
// repeat=N trains N times per backend and keeps the last run (kernels compiled, pools warm):
// what bench/browser-nano.mjs times.
const repeat = Number(query.get('repeat') ?? 1);
const backends = (query.get('backends') ?? 'cpu,cpu-reference,webgpu,gpujs').split(',');

/** Why WebGPU cannot run here, or undefined when an adapter is available. */
async function webGpuUnavailable() {
  if (!('gpu' in navigator)) {
    return 'navigator.gpu is undefined (needs a secure context and a browser with WebGPU; Chromium on Linux: --enable-unsafe-webgpu)';
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)';
  return undefined;
}

/** Why gpu.js cannot run here (no WebGL2), or undefined. */
function gpuJsUnavailable() {
  const gl = document.createElement('canvas').getContext('webgl2');
  return gl ? undefined : 'this browser gives no WebGL2 context';
}

const result = { userAgent: navigator.userAgent, steps, runs: {} };
for (const backend of backends) {
  const status = document.getElementById('status');
  status.textContent = `running ${backend}…`;
  if (backend === 'webgpu' || backend === 'gpujs') {
    const reason = backend === 'webgpu' ? await webGpuUnavailable() : gpuJsUnavailable();
    if (reason) {
      result.runs[backend] = { backend, skipped: reason };
      continue;
    }
  }
  try {
    for (let r = 0; r < repeat; r++) result.runs[backend] = await trainNano({ backend, steps });
  } catch (error) {
    result.runs[backend] = { backend, error: String(error?.stack ?? error) };
  }
}

// Training-step parity of the GPU backends: loss and every gradient of one step against 'cpu'.
const gpus = backends.filter((b) => (b === 'gpujs' || b === 'webgpu') && result.runs[b]?.losses);
if (gpus.length > 0 && query.get('gradients') !== '0') {
  result.gradients = {};
  const ref = await stepGradients({ backend: 'cpu' });
  for (const b of gpus) {
    try {
      result.gradients[b] = gradientError(await stepGradients({ backend: b }), ref);
    } catch (error) {
      result.gradients[b] = { error: String(error?.stack ?? error) };
    }
  }
}

const table = document.getElementById('losses');
const head = ['backend', 'kernels', ...Array.from({ length: steps + 1 }, (_, i) => `loss ${i}`)];
table.innerHTML = `<tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>`;
for (const run of Object.values(result.runs)) {
  const cells = run.losses
    ? [run.backend, `${run.kernels} (${run.ms} ms)`, ...run.losses.map((l) => l.toFixed(6))]
    : [run.backend, run.skipped ? `skipped: ${run.skipped}` : `error: ${run.error}`];
  const row = document.createElement('tr');
  for (const c of cells) row.appendChild(document.createElement('td')).textContent = c;
  table.appendChild(row);
}
if (result.gradients) {
  for (const [b, g] of Object.entries(result.gradients)) {
    const row = document.createElement('tr');
    const text = g.error
      ? `error: ${g.error}`
      : `one step vs cpu: loss ${g.lossRelative.toExponential(1)} rel., gradients ${g.maxGradError.toExponential(1)} of scale (worst: ${g.worstParameter})`;
    for (const c of [b, text]) row.appendChild(document.createElement('td')).textContent = c;
    table.appendChild(row);
  }
}
document.getElementById('json').textContent = JSON.stringify(result, null, 2);
document.getElementById('status').textContent = 'done';
window.lrwBrowserCheck = result;
