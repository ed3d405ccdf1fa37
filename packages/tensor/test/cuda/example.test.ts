/**
 * The README's CUDA example (examples/cuda-linear-classifier.ts) runs, on the CPU emulator of
 * the CUDA driver standing in for the GPU ('cuda' re-registered before its first load), and the
 * README shows the file verbatim.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The example imports the package by name (the built dist/): register on the same instance.
import { assertNoLeaks, registerBackend } from '@lrw/tensor';
import { buildCudaEmulator, createCudaBackend } from '@lrw/tensor/cuda';
import { describe, expect, it } from 'vitest';
import { trainOnCuda } from '../../examples/cuda-linear-classifier.js';

const emu = buildCudaEmulator();
if (emu.dir) {
  process.env.LRW_CUDA_CACHE_DIR = mkdtempSync(join(tmpdir(), 'lrw-cuda-cache-'));
  registerBackend('cuda', () => createCudaBackend({ libDirs: [emu.dir!], systemSearch: false }));
}

describe('README CUDA example', () => {
  it.skipIf(!emu.dir)(
    `trains on cuda: the loss falls, and nothing leaks${emu.dir ? '' : ` (skipped: ${emu.reason})`}`,
    async () => {
      const losses = await assertNoLeaks(() => trainOnCuda(20));
      expect(losses).toHaveLength(20);
      expect(losses[19]).toBeLessThan(losses[0]! * 0.7);
    },
  );

  it('the README shows the example file verbatim', () => {
    const ex = readFileSync(
      new URL('../../examples/cuda-linear-classifier.ts', import.meta.url),
      'utf8',
    );
    const body = ex.slice(ex.indexOf('// region readme\n') + 17, ex.indexOf('// endregion readme'));
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(body.trim());
  });
});
