import type { ModelConfig } from './config.js';

/** One tiny config per architecture (GPT-2 tied, Llama with grouped kv heads) for the HF tests. */
export const TINY_HF_CONFIGS: ModelConfig[] = [
  { arch: 'gpt2', vocabSize: 23, contextLength: 8, dModel: 8, nLayers: 2, nHeads: 2 },
  {
    arch: 'llama',
    vocabSize: 19,
    contextLength: 8,
    dModel: 8,
    nLayers: 2,
    nHeads: 2,
    nKvHeads: 1,
    dFF: 12,
  },
];
