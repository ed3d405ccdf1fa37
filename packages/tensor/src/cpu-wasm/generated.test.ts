import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  KERNELS_ASC_VERSION,
  KERNELS_ENTRY,
  KERNELS_SOURCE_HASH,
  KERNELS_VARIANT_FLAGS,
} from './generated/kernels-wasm.js';
import { kernelBytes } from './kernels.js';
import { wasm } from './wasm-api.js';

const assemblyDir = fileURLToPath(new URL('../../assembly/', import.meta.url));

/** Same algorithm as `sourceHash` in scripts/build-wasm.mjs. */
function kernelSourceHash(ascVersion: string): string {
  const files = readdirSync(assemblyDir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => [f, readFileSync(assemblyDir + f, 'utf8')]);
  const payload = JSON.stringify({
    asc: ascVersion,
    entry: KERNELS_ENTRY,
    variants: KERNELS_VARIANT_FLAGS,
    files,
  });
  return createHash('sha256').update(payload).digest('hex');
}

describe('generated kernels module', () => {
  it('was built from the current assembly/ sources with the installed compiler', () => {
    const ascVersion = createRequire(import.meta.url)('assemblyscript/package.json').version;
    expect(ascVersion, 'installed assemblyscript differs: run node scripts/build-wasm.mjs').toBe(
      KERNELS_ASC_VERSION,
    );
    expect(existsSync(assemblyDir + KERNELS_ENTRY)).toBe(true);
    expect(
      kernelSourceHash(ascVersion),
      'assembly/ changed since the last build: run node scripts/build-wasm.mjs and commit',
    ).toBe(KERNELS_SOURCE_HASH);
  });

  it('embeds valid wasm for every variant that this engine supports', () => {
    for (const variant of Object.keys(
      KERNELS_VARIANT_FLAGS,
    ) as (keyof typeof KERNELS_VARIANT_FLAGS)[]) {
      const bytes = kernelBytes(variant);
      // "\0asm" magic and version 1.
      expect([...bytes.subarray(0, 8)]).toEqual([0, 97, 115, 109, 1, 0, 0, 0]);
    }
    expect(wasm.validate(kernelBytes('simd'))).toBe(true);
    expect(wasm.validate(kernelBytes('simdShared'))).toBe(true);
  });
});
