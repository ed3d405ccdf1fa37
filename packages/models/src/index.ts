/**
 * @lrw/models: GPT-2 and Llama on @lrw/tensor with per-sample language-model loss, presets,
 * and Hugging Face safetensors. See README.md.
 */
export type {
  ArchitectureSpec,
  BaseModelConfig,
  HfNumberField,
} from './architecture.js';
export { ARCHITECTURES, type ArchitectureName, architecture, type Model } from './architectures.js';
export { CausalLM, type LossOptions, type ModelOptions } from './causal-lm.js';
export {
  countParameters,
  describe,
  type GPT2Config,
  type LlamaConfig,
  llamaHiddenSize,
  type ModelConfig,
  type ModelDescription,
  type ParameterCounts,
  PRESETS,
  type PresetName,
  preset,
  resolveConfig,
} from './config.js';
export { GPT2, gpt2Architecture } from './gpt2.js';
export {
  createModel,
  fromHuggingFaceConfig,
  type HfName,
  hfName,
  loadHuggingFace,
  loadHuggingFaceState,
  type SaveOptions,
  saveHuggingFace,
  toHuggingFaceConfig,
  toHuggingFaceState,
  toHuggingFaceStateAsync,
} from './hugging-face.js';
export {
  hasFusedHead,
  type LinearCrossEntropyOptions,
  linearCrossEntropy,
} from './linear-cross-entropy.js';
export { Llama, llamaArchitecture } from './llama.js';
export { type AttentionOptions, CausalSelfAttention } from './nn/attention.js';
export { TransformerBlock } from './nn/block.js';
export { Dropout } from './nn/dropout.js';
export { Embedding } from './nn/embedding.js';
export { ParamInit } from './nn/init.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { MLP, SwiGLU } from './nn/mlp.js';
export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  ModuleList,
  type StateValue,
} from './nn/module.js';
export { LayerNorm, RMSNorm } from './nn/norm.js';
export { Rope } from './nn/rope.js';
export {
  causalTargets,
  type MaskInput,
  type PerSampleLoss,
  type PerSampleLossOptions,
  perSampleLoss,
  type TokenInput,
} from './per-sample-loss.js';

export {
  decodeFloat32,
  parseSafetensors,
  readSafetensors,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsDType,
  type SafetensorsEntry,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsInput,
  serializeSafetensors,
  writeSafetensors,
} from './safetensors.js';

/** The package name, as published. */
export const packageName = '@lrw/models';
