/**
 * The GPU check script's parts that run without a GPU: cuda-check.sh stops at once with a clear
 * message and exit status 2 where no NVIDIA GPU is visible (it never half-runs), and its Node
 * driver (device/cuda-check.mjs) runs end to end on the CPU emulator of the driver with tiny
 * shapes (--small): start-up, the conformance suite twice, the kernel-path comparisons and the
 * matmul timing with its peers missing reported as such. (The payload size is checked by
 * device/prepare.sh itself, which refuses to exceed the device tool's budget.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCudaEmulator } from '../../src/cuda/index.js';

const pkg = fileURLToPath(new URL('../../', import.meta.url));
const emu = buildCudaEmulator();
const built = (() => {
  try {
    readFileSync(join(pkg, 'dist/cuda/index.js'));
    return true;
  } catch {
    return false;
  }
})();

describe('device/cuda-check', () => {
  it('without a GPU: stops at once with the reason and exit status 2', () => {
    const r = spawnSync('bash', [join(pkg, 'device/cuda-check.sh')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/usr/bin:/bin', OUT: mkdtempSync(join(tmpdir(), 'lrw-cc-')) },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(
      /no NVIDIA GPU here \(nvidia-smi is missing or lists no GPU\).*nothing was run/,
    );
  });

  it.skipIf(!emu.dir || !built)(
    `the Node driver runs end to end on the CPU emulator (--small)${emu.dir ? '' : ` (skipped: ${emu.reason})`}`,
    () => {
      const out = mkdtempSync(join(tmpdir(), 'lrw-cc-out-'));
      const r = spawnSync(
        process.execPath,
        [join(pkg, 'device/cuda-check.mjs'), '--small', '--out', out],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            LRW_CUDA_LIB_DIR: emu.dir,
            LRW_CUDA_CACHE_DIR: mkdtempSync(join(tmpdir(), 'lrw-cc-cache-')),
          },
          timeout: 240_000,
        },
      );
      const summary = r.stdout.split('\n').filter((l) => l.startsWith('summary:'));
      expect(summary.join('\n')).toMatch(/conformance cuda \(fused\): \d+ passed, 0 failed/);
      expect(summary.join('\n')).toMatch(/conformance cuda-composed: \d+ passed, 0 failed/);
      expect(summary.join('\n')).toMatch(/kernel paths vs cpu: 8 ok, 0 failed/);
      const json = JSON.parse(readFileSync(join(out, 'tensor.json'), 'utf8'));
      expect(Object.values(json.sections).every((s) => (s as { ok: boolean }).ok)).toBe(true);
      expect(r.status).toBe(0);
    },
    300_000,
  );
});
