// Decoding, feature detection and compilation of the embedded wasm kernel variants.
import { platform } from '../platform/node.js';
import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';
import { type WasmModule, wasm } from './wasm-api.js';

/** One of the compiled variants (see scripts/build-wasm.mjs). */
export type KernelVariant = keyof typeof KERNELS_WASM_BASE64;

/** Exports of every kernel module. Pointers are byte offsets into the shared memory. */
export interface KernelExports {
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    flags: number,
    batch: number,
    strideA: number,
    strideB: number,
    strideC: number,
    row0: number,
    row1: number,
    col0: number,
    col1: number,
    scratch: number,
  ): void;
  gemmScratchBytes(): number;
  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    decay: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    stepSize: number,
    invBc2Sqrt: number,
    eps: number,
  ): void;
  axpy(y: number, x: number, n: number, alpha: number): void;
  binaryRows(op: number, out: number, a: number, b: number, n: number, period: number): void;
  logSumExpRows(logits: number, rows: number, V: number, out: number): void;
  softmaxGradRows(logits: number, rows: number, V: number, z: number, g: number): void;
  attnSoftmaxTile(
    s: number,
    rows: number,
    cols: number,
    scale: number,
    causal: number,
    diag: number,
    m: number,
    l: number,
    alpha: number,
  ): void;
  attnProbTile(
    s: number,
    rows: number,
    cols: number,
    scale: number,
    causal: number,
    diag: number,
    lse: number,
  ): void;
  attnScoreGradTile(
    p: number,
    ds: number,
    rows: number,
    cols: number,
    scale: number,
    d: number,
  ): void;
  geluForward(x: number, y: number, n: number): void;
  geluBackward(x: number, g: number, dx: number, n: number): void;
  sumOfSquares(x: number, n: number): number;
  layerNormForward(
    x: number,
    w: number,
    b: number,
    y: number,
    stats: number,
    rows: number,
    C: number,
    eps: number,
    flags: number,
  ): void;
  layerNormBackward(
    x: number,
    w: number,
    g: number,
    stats: number,
    dx: number,
    dw: number,
    db: number,
    rows: number,
    C: number,
    flags: number,
  ): void;
}

/** layerNorm flag bits (assembly/norm.ts). */
export const NORM_HAS_W = 1;
export const NORM_HAS_B = 2;
export const NORM_WANT_DX = 4;
export const NORM_WANT_DW = 8;
export const NORM_WANT_DB = 16;

/** gemm flag bits (assembly/gemm.ts). */
export const GEMM_TRANS_A = 1;
export const GEMM_TRANS_B = 2;
export const GEMM_ACCUMULATE = 4;
/**
 * Register tile of the relaxed-SIMD (FMA) micro-kernel, rows x columns; thread splits are aligned
 * to it. The plain-SIMD build uses 4 x 8 (assembly/gemm.ts): its splits may cut a tile, which
 * stays correct and costs a few percent.
 */
export const GEMM_MR = 3;
export const GEMM_NR = 12;

/** The wasm bytes of one variant. */
export function kernelBytes(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  const text = atob(KERNELS_WASM_BASE64[variant]);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let relaxedCache: boolean | undefined;

/**
 * Whether this engine runs relaxed SIMD. Node 20 (V8 11.3) ships it behind
 * `--experimental-wasm-relaxed-simd`, which NODE_OPTIONS rejects but `v8.setFlagsFromString`
 * accepts before the module is compiled (measured +10-13% from FMA, docs TENSOR.md).
 * With `enableFlag` false, only reports whether it already validates.
 */
export function relaxedSimdSupported(enableFlag: boolean): boolean {
  if (relaxedCache === true) return true;
  const bytes = kernelBytes('relaxed');
  if (wasm.validate(bytes)) return (relaxedCache = true);
  if (!enableFlag) return false;
  if (relaxedCache === false) return false;
  try {
    if (!platform.setV8Flags('--experimental-wasm-relaxed-simd')) return (relaxedCache = false);
  } catch {
    // An engine without the flag keeps the plain SIMD build.
  }
  const ok = wasm.validate(bytes);
  relaxedCache = ok;
  return ok;
}

/** Whether shared WebAssembly memory (and so the worker pool) is available. */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Compiles one variant; throws a clear error where the engine lacks wasm SIMD. */
export async function compileKernel(variant: KernelVariant): Promise<WasmModule> {
  return wasm.compile(validatedBytes(variant));
}

/** `compileKernel` without awaiting (`new WebAssembly.Module`; fine in Node for any size). */
export function compileKernelSync(variant: KernelVariant): WasmModule {
  return new wasm.Module(validatedBytes(variant));
}

function validatedBytes(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  const bytes = kernelBytes(variant);
  if (!wasm.validate(bytes)) {
    throw new Error(
      `@lrw/tensor cpu-wasm: this JavaScript engine cannot run the '${variant}' wasm kernels ` +
        '(needs WebAssembly SIMD, Node >= 16.4); use the reference CPU kernels instead.',
    );
  }
  return bytes;
}
