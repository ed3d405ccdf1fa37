/**
 * Every CUDA kernel compiles for sm_80 and sm_90: `npm run build` runs nvcc (scripts/build-cuda.mjs)
 * where it exists, into a fatbin with SASS for both architectures (ptxas ran for each) and
 * compute_80 PTX, and a manifest with ptxas's resource report. This checks the image is there and
 * current (same source hash), holds every kernel of the sources for both architectures, and that
 * no kernel spills registers except the one known to (dkdv at head size 128). Without nvcc the
 * build has no image and the backend compiles with NVRTC at run time: the checks skip, saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { flattenSource, kernelNames, sourceHash } from '../../src/cuda/kernel-source.js';
import type { KernelManifest } from '../../src/cuda/module.js';
import { SOURCE_ENTRY } from '../../src/cuda/module.js';

const dir = fileURLToPath(new URL('../../dist/cuda-kernels/', import.meta.url));
const manifestFile = join(dir, 'lrw-kernels.json');
const nvcc = [process.env.NVCC, 'nvcc', '/usr/local/cuda/bin/nvcc']
  .filter(Boolean)
  .find((c) => !spawnSync(c!, ['--version']).error);
const built = existsSync(manifestFile);
const reason = built
  ? ''
  : nvcc
    ? ''
    : ' (skipped: nvcc not found at build time; the kernels compile with NVRTC at run time)';

/** Kernels allowed to spill (ptxas), with why. */
const MAY_SPILL: Record<string, string> = {
  lrw_attn_dkdv_128: 'two 128-float accumulators per thread (dK, dV) exceed 255 registers',
};

describe(`cuda kernels compile ahead of time${reason}`, () => {
  it.skipIf(!built && !nvcc)('nvcc built an image (npm run build) when nvcc exists', () => {
    expect(
      built,
      `${manifestFile} is missing although nvcc (${nvcc}) exists: run npm run build`,
    ).toBe(true);
  });

  it.skipIf(!built)(
    'the image is current and holds every kernel for sm_80 and sm_90, without spills',
    () => {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as KernelManifest & {
        report: Record<string, Record<string, { registers: number; spillStores: number }>>;
      };
      const source = flattenSource(SOURCE_ENTRY);
      expect(manifest.hash, 'the sources changed since the build: run npm run build').toBe(
        sourceHash(source),
      );
      const names = kernelNames(source);
      expect(manifest.kernels).toEqual(names);
      expect(manifest.archs).toEqual([80, 90]);
      for (const arch of ['80', '90']) {
        expect(
          Object.keys(manifest.report[arch] ?? {}).sort(),
          `ptxas report for sm_${arch}`,
        ).toEqual([...names].sort());
        for (const [k, r] of Object.entries(manifest.report[arch]!)) {
          if (!MAY_SPILL[k]) expect(r.spillStores, `${k} spills on sm_${arch}`).toBe(0);
          expect(r.registers).toBeLessThanOrEqual(255);
        }
      }
      const image = readFileSync(join(dir, 'lrw-kernels.fatbin'));
      expect(image.readUInt32LE(0)).toBe(0xba55ed50); // fatbin magic
    },
  );
});
