/** The README's WebGPU example: shown verbatim, and it runs (losses fall, 3 live buffers at the end). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { webGpuForTests } from './setup.js';

const gpu = await webGpuForTests();
const example = new URL('../../bench/webgpu-example.mjs', import.meta.url);

describe('README WebGPU example', () => {
  it('the README shows bench/webgpu-example.mjs verbatim', () => {
    const ex = readFileSync(example, 'utf8');
    const body = ex.slice(ex.indexOf('// region readme\n') + 17, ex.indexOf('// endregion readme'));
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(body.length).toBeGreaterThan(200);
    expect(readme).toContain(body.trim());
  });

  it.skipIf(!gpu.backend)('runs: the losses fall and only w, x, y stay allocated', () => {
    const r = spawnSync(process.execPath, [example.pathname], {
      encoding: 'utf8',
      env: { ...process.env, EGL_PLATFORM: 'surfaceless' },
    });
    expect(r.status, r.stderr).toBe(0);
    const [first, mem] = r.stdout.trim().split('\n');
    const losses = first.split(' ').map(Number);
    expect(losses).toHaveLength(20);
    expect(losses[19]).toBeLessThan(losses[0] * 0.5);
    expect(mem).toMatch(/buffers: 3,/);
  });
});
