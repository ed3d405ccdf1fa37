// @lrw/tensor and @lrw/models in a browser: (1) a browser bundle of the built packages reaches
// no `node:` module (package.json "browser" fields swap in the platform stand-ins), and (2) the
// page in ../browser-check/ trains gpt2-nano in headless Chromium on the 'cpu' backend (wasm
// kernels, one thread) and on 'webgpu', with losses compared against Node's 'cpu' run of the
// same module. Needs the packages built (npm test builds first) and /usr/bin/chromium for (2).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TrainNanoResult, trainNano } from '../browser-check/nano-train.mjs';
import {
  findChromium,
  formatRuns,
  type PageResult,
  runInChromium,
} from '../browser-check/run-headless.mjs';
import { importMap } from '../browser-check/serve.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRIES = [
  'packages/tensor/dist/index.js',
  'packages/tensor/dist/cpu-wasm/index.js',
  'packages/tensor/dist/testing/index.js',
  'packages/models/dist/index.js',
];

/** Bundles `entry` as esbuild does for a page (platform 'browser') or with no platform rules. */
async function bundle(entry: string, platform: 'browser' | 'neutral') {
  try {
    const r = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      bundle: true,
      platform,
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return { inputs: Object.keys(r.metafile.inputs), errors: [] as string[] };
  } catch (error) {
    const errors = (error as { errors?: { text: string }[] }).errors ?? [];
    return { inputs: [], errors: errors.map((e) => e.text) };
  }
}

describe('browser bundle of the built packages', () => {
  it.each(ENTRIES)('%s reaches no node: module', async (entry) => {
    const { inputs, errors } = await bundle(entry, 'browser');
    expect(errors).toEqual([]);
    expect(inputs.some((f) => f.startsWith('node:'))).toBe(false);
    expect(inputs).toContain('packages/tensor/dist/platform/browser.js');
    expect(inputs).not.toContain('packages/tensor/dist/platform/node.js');
    // the registry's lazily imported WebGPU backend is part of the checked graph
    if (!entry.includes('cpu-wasm'))
      expect(inputs).toContain('packages/tensor/dist/webgpu/index.js');
    if (entry.startsWith('packages/models')) {
      expect(inputs).toContain('packages/models/dist/platform/browser.js');
      expect(inputs).not.toContain('packages/models/dist/platform/node.js');
    }
  });

  it('without the "browser" fields the same bundle fails on the node: imports', async () => {
    const { errors } = await bundle('packages/models/dist/index.js', 'neutral');
    const text = errors.join('\n');
    for (const m of ['node:os', 'node:v8', 'node:worker_threads', 'node:fs/promises']) {
      expect(text).toContain(m);
    }
  });

  it("the page's import map maps the packages and their stand-ins", async () => {
    const { imports } = await importMap();
    expect(imports['@lrw/tensor']).toBe('/packages/tensor/dist/index.js');
    expect(imports['@lrw/models']).toBe('/packages/models/dist/index.js');
    expect(imports['/packages/tensor/dist/platform/node.js']).toBe(
      '/packages/tensor/dist/platform/browser.js',
    );
    expect(imports['/packages/models/dist/platform/node.js']).toBe(
      '/packages/models/dist/platform/browser.js',
    );
  });
});

const CHROMIUM = findChromium();
if (CHROMIUM === undefined) {
  console.warn(
    'browser-check: Chromium part skipped: no /usr/bin/chromium (apt-get install chromium)',
  );
}
const STEPS = 3;

/** Largest |a - b| / |b| over the two loss sequences (Infinity when the lengths differ). */
function maxRelative(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.abs(b[i]!)));
}

describe.skipIf(CHROMIUM === undefined)('nano GPT-2 in headless Chromium', () => {
  let page: PageResult;
  let node: TrainNanoResult;
  let nodeReference: TrainNanoResult;

  beforeAll(async () => {
    node = await trainNano({ backend: 'cpu', steps: STEPS });
    nodeReference = await trainNano({ backend: 'cpu-reference', steps: STEPS });
    page = await runInChromium({
      executablePath: CHROMIUM!,
      steps: STEPS,
      backends: ['cpu', 'cpu-reference', 'webgpu', 'gpujs'],
    });
    console.log(
      `browser-check: ${page.userAgent}\n` +
        formatRuns({ ...page, runs: { cpu: node, 'cpu-reference': nodeReference } }, '  node') +
        '\n' +
        formatRuns(page, '  chromium'),
    );
    expect(page.problems).toEqual([]);
  }, 240_000);

  it("'cpu' trains with Node's losses (within 1e-5 relative)", () => {
    const cpu = page.runs.cpu!;
    if (!('losses' in cpu)) throw new Error(`cpu run failed in Chromium: ${cpu.error}`);
    expect(cpu.kernels).toMatch(/^wasm (relaxed-)?simd, 1 thread$/);
    expect(node.losses[STEPS]!).toBeLessThan(node.losses[0]! - 0.5); // it does learn
    expect(maxRelative(cpu.losses, node.losses)).toBeLessThan(1e-5);
  });

  it("'cpu-reference' trains with Node's 'cpu-reference' losses (within 1e-6 relative)", () => {
    const ref = page.runs['cpu-reference']!;
    if (!('losses' in ref)) throw new Error(`cpu-reference run failed in Chromium: ${ref.error}`);
    expect(ref.kernels).toBe('cpu-reference');
    // The same JavaScript kernels on two V8 builds: bit-identical here (logged), 1e-6 allowed.
    const exact = ref.losses.every((l, i) => l === nodeReference.losses[i]);
    console.log(`browser-check: cpu-reference bit-identical to Node's: ${exact}`);
    expect(maxRelative(ref.losses, nodeReference.losses)).toBeLessThan(1e-6);
  });

  it("'webgpu' trains with the CPU losses (within 1e-4 relative)", (ctx) => {
    const gpu = page.runs.webgpu!;
    if ('skipped' in gpu && gpu.skipped) {
      console.warn(`browser-check: webgpu skipped: ${gpu.skipped}`);
      ctx.skip();
    }
    if (!('losses' in gpu)) throw new Error(`webgpu run failed in Chromium: ${gpu.error}`);
    expect(gpu.kernels).toBe('webgpu');
    expect(maxRelative(gpu.losses, node.losses)).toBeLessThan(1e-4);
  });

  it("'gpujs' trains with the CPU losses (within 1e-5 relative) and one step's gradients match", (ctx) => {
    const gl = page.runs.gpujs!;
    if ('skipped' in gl && gl.skipped) {
      console.warn(`browser-check: gpujs skipped: ${gl.skipped}`);
      ctx.skip();
    }
    if (!('losses' in gl)) throw new Error(`gpujs run failed in Chromium: ${gl.error}`);
    expect(gl.kernels).toMatch(/^gpujs \(/);
    expect(maxRelative(gl.losses, node.losses)).toBeLessThan(1e-5);
    const g = page.gradients?.gpujs;
    if (!g || 'error' in g) throw new Error(`gpujs gradient parity failed: ${g?.error}`);
    // Loss of the step within 1e-6 relative; each parameter's gradient within 1e-5 of its scale.
    expect(g.lossRelative).toBeLessThan(1e-6);
    expect(g.maxGradError).toBeLessThan(1e-5);
  });
});
