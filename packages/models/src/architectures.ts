/**
 * The architectures @lrw/models builds, one spec each (see architecture.ts). Adding one: write
 * its spec beside its model class and list it here; `ModelConfig`, the presets' checks, the
 * parameter counts, `describe`, `createModel` and the Hugging Face functions follow.
 */
import type { ArchitectureSpec } from './architecture.js';
import { gpt2Architecture } from './gpt2.js';
import { llamaArchitecture } from './llama.js';

export const ARCHITECTURES = {
  gpt2: gpt2Architecture,
  llama: llamaArchitecture,
} as const;

type Specs = (typeof ARCHITECTURES)[keyof typeof ARCHITECTURES];

/** The config of any architecture: `arch` says which. */
export type ModelConfig = Parameters<Specs['create']>[0];

/** A model of any architecture. */
export type Model = ReturnType<Specs['create']>;

export type ArchitectureName = keyof typeof ARCHITECTURES;

/** The spec of `arch`; an unknown name is an error listing the known ones. */
export function architecture(arch: string, where = 'model config: arch'): ArchitectureSpec {
  if (!Object.hasOwn(ARCHITECTURES, arch)) {
    throw new RangeError(
      `${where} = ${JSON.stringify(arch)} is not a known architecture; use one of ` +
        `${Object.keys(ARCHITECTURES).join(', ')}`,
    );
  }
  return ARCHITECTURES[arch as ArchitectureName] as unknown as ArchitectureSpec;
}
