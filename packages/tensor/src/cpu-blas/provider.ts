// Optional native BLAS for the CPU backend: the lrw_blas N-API addon (../../native/lrw_blas.c,
// built by scripts/build-native.mjs into dist/native/) dlopens the system's OpenBLAS at run
// time. Everything here loads lazily and synchronously through `process.getBuiltinModule`, so
// importing this module costs nothing and browsers (no `process`) simply get "unavailable".
// The same addon also carries its own blocked sgemm (../../native/lrw_gemm.c: packed panels, an
// AVX2 + FMA 6 x 16 micro-kernel chosen at run time, a portable one elsewhere): the 'native'
// provider of `loadNativeGemmProvider`, for machines with a C compiler but no OpenBLAS.
import type { GemmFn, MatmulOptions } from '../cpu/gemm.js';
import type { AttentionTileKernels, ElementwiseKernels } from '../cpu-wasm/elementwise.js';
import { platform } from '../platform/node.js';

/** The addon's raw interface (see native/lrw_blas.c). */
interface Addon {
  load(names: string[]): AddonInfo;
  info(): AddonInfo;
  setThreads(n: number): number;
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    offA: number,
    lda: number,
    B: Float32Array,
    offB: number,
    ldb: number,
    beta: number,
    C: Float32Array,
    offC: number,
    ldc: number,
    batch: number,
    strideA: number,
    strideB: number,
    strideC: number,
  ): void;
  /** lrw_gemm.c's sgemm: the arguments and checks of `sgemm`, no BLAS needed (absent in old builds). */
  nativeSgemm?: Addon['sgemm'];
  /** The same on the portable kernel whatever the CPU. */
  nativeSgemmPortable?: Addon['sgemm'];
  /** The instruction set of `nativeSgemm`: 'avx2-fma' or 'portable'. */
  gemmIsa?(): string;
  rowsIsa(): string;
  logSumExpRows(logits: Float32Array, rows: number, V: number, out: Float32Array): void;
  softmaxGradRows(
    logits: Float32Array,
    rows: number,
    V: number,
    z: Float32Array,
    g: Float32Array,
  ): void;
  gelu(x: Float32Array, y: Float32Array): void;
  geluBackward(x: Float32Array, g: Float32Array, dx: Float32Array): void;
  attentionSoftmaxTile(
    s: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    causal: boolean,
    diag: number,
    m: Float32Array,
    l: Float32Array,
    alpha: Float32Array,
  ): void;
  attentionProbTile(
    s: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    causal: boolean,
    diag: number,
    lse: Float32Array,
  ): void;
  attentionScoreGradTile(
    p: Float32Array,
    ds: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    d: Float32Array,
  ): void;
}

interface AddonInfo {
  loaded: boolean;
  library: string;
  error: string;
  threads: number;
  config: string;
  ilp64: boolean;
}

/** Library names tried in order (override: LRW_TENSOR_BLAS_LIB, comma-separated). */
export const DEFAULT_BLAS_LIBRARIES: readonly string[] = [
  'libopenblas.so.0',
  'libopenblas.so',
  'libopenblasp.so.0',
  'libopenblas.0.dylib',
  'libopenblas.dylib',
];

/** One gemm on the native BLAS, on Float32Arrays in place (offsets and strides in elements). */
export interface SgemmArgs {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** 0 (default) overwrites C; 1 accumulates. */
  beta?: number;
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  /** Leading dimensions (row lengths as stored); default the dense ones. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Batched products: `batch` items, strides in elements (0 broadcasts A or B). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/**
 * The addon's native SIMD row kernels (native/lrw_rows.c), the same contracts as the wasm
 * kernels of the same names (`ElementwiseKernels`): eight lanes with FMA (AVX2) where the wasm
 * ones have four. Operands are read and written in place (no staging into the wasm memory); sizes
 * are checked in the addon.
 */
export interface NativeRowKernels
  extends AttentionTileKernels,
    Pick<ElementwiseKernels, 'logSumExpRows' | 'softmaxGradRows' | 'gelu' | 'geluBackward'> {
  /** The instruction set they run on, e.g. 'avx2-fma'. */
  readonly isa: string;
}

/**
 * A loaded native gemm: the system's OpenBLAS ('openblas'), or the addon's own blocked sgemm
 * ('native', see `loadNativeGemmProvider`).
 */
export interface BlasProvider {
  readonly name: 'openblas' | 'native';
  /** The library that was opened (e.g. 'libopenblas.so.0'); for 'native', the addon file. */
  readonly library: string;
  /**
   * `openblas_get_config()`, e.g. 'OpenBLAS 0.3.21 ... Zen MAX_THREADS=64'; for 'native', its
   * kernel, e.g. 'lrw_gemm avx2-fma 6x16'.
   */
  readonly config: string;
  /**
   * For 'native': the instruction set of its micro-kernel, 'avx2-fma' or 'portable' (4-lane
   * vectors without FMA: slower than the wasm gemm, so `blas: 'auto'` does not pick it).
   * Undefined for OpenBLAS.
   */
  readonly isa?: string;
  /** Threads OpenBLAS uses (process-wide); 'native' is single-threaded: 1. */
  readonly threads: number;
  /** Sets OpenBLAS's thread count (process-wide) and returns it; 'native' ignores it (1). */
  setThreads(n: number): number;
  /**
   * `C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C`, row-major, batched. Every extent is
   * bounds-checked in the addon (RangeError naming the sizes).
   */
  sgemm: GemmFn<SgemmArgs>;
  /** The wasm kernels' `matmul` signature on dense operands (drop-in for the vocabulary head). */
  matmul: GemmFn<MatmulOptions>;
  /**
   * The addon's SIMD row kernels where this CPU has their instruction set (x86-64 with AVX2 +
   * FMA), else undefined (the wasm kernels stay). LRW_TENSOR_NATIVE_ROWS=off leaves them out.
   */
  readonly rows: NativeRowKernels | undefined;
}

/** Result of `loadBlasProvider`: the provider, or why there is none. */
export type BlasLoadResult =
  | { provider: BlasProvider; reason?: undefined }
  | { provider?: undefined; reason: string };

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

let cached: BlasLoadResult | undefined;
let cachedAddon: { addon: Addon; path: string } | { reason: string } | undefined;
const cachedNative = new Map<NativeGemmIsa, BlasLoadResult>();

/** The addon file: LRW_TENSOR_BLAS_ADDON, else dist/native/lrw_blas.node of this package. */
function addonPath(proc: NodeProcess): string | undefined {
  const override = proc.env?.LRW_TENSOR_BLAS_ADDON;
  if (override) return override;
  const url = proc.getBuiltinModule?.('node:url') as { fileURLToPath(u: URL): string } | undefined;
  // From src/cpu-blas/ (tests) and dist/cpu-blas/ alike: the package root is two levels up.
  return url?.fileURLToPath(new URL('../../dist/native/lrw_blas.node', import.meta.url));
}

/** The addon, loaded once per process, or why it cannot be. */
function loadAddon(): { addon: Addon; path: string } | { reason: string } {
  if (cachedAddon) return cachedAddon;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.getBuiltinModule) {
    cachedAddon = { reason: 'not running in Node >= 20.16 (no process.getBuiltinModule)' };
    return cachedAddon;
  }
  const path = addonPath(proc);
  const fs = proc.getBuiltinModule('node:fs') as { existsSync(p: string): boolean } | undefined;
  if (!path || !fs?.existsSync(path)) {
    cachedAddon = {
      reason:
        `the addon ${path ?? 'dist/native/lrw_blas.node'} is not built ` +
        '(run `node scripts/build-native.mjs` in @lrw/tensor; it needs a C compiler and Node headers)',
    };
    return cachedAddon;
  }
  const mod = proc.getBuiltinModule('node:module') as {
    createRequire(from: string): (id: string) => unknown;
  };
  try {
    cachedAddon = { addon: mod.createRequire(import.meta.url)(path) as Addon, path };
  } catch (error) {
    cachedAddon = { reason: `the addon ${path} failed to load: ${(error as Error).message}` };
  }
  return cachedAddon;
}

function load(threads: number | undefined): BlasLoadResult {
  const loadedAddon = loadAddon();
  if (!('addon' in loadedAddon)) return { reason: loadedAddon.reason };
  const { addon } = loadedAddon;
  const proc = (globalThis as { process?: NodeProcess }).process!;
  const names = proc.env?.LRW_TENSOR_BLAS_LIB
    ? proc.env.LRW_TENSOR_BLAS_LIB.split(',').map((s) => s.trim())
    : [...DEFAULT_BLAS_LIBRARIES];
  const info = addon.load(names);
  if (!info.loaded) {
    return {
      reason:
        `no OpenBLAS found (tried ${names.join(', ')}: ${info.error}); install it ` +
        '(Debian/Ubuntu: apt-get install libopenblas0-pthread) or set LRW_TENSOR_BLAS_LIB',
    };
  }
  addon.setThreads(threads ?? platform.defaultThreads());
  return { provider: makeProvider(addon, info, nativeRowsOff()) };
}

/** LRW_TENSOR_NATIVE_ROWS=off leaves the addon's row kernels out (both providers). */
function nativeRowsOff(): boolean {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return proc?.env?.LRW_TENSOR_NATIVE_ROWS === 'off';
}

/**
 * Loads the native BLAS once per process (later calls return the same result; `threads`
 * re-applies OpenBLAS's process-wide thread count, default all cores). Never throws: without
 * the addon or the library it returns `{ reason }`.
 */
export function loadBlasProvider(options: { threads?: number } = {}): BlasLoadResult {
  if (!cached) {
    try {
      cached = load(options.threads);
    } catch (error) {
      cached = { reason: `loading the BLAS addon threw: ${(error as Error).message}` };
    }
  } else if (cached.provider && options.threads !== undefined) {
    cached.provider.setThreads(options.threads);
  }
  return cached;
}

/**
 * Micro-kernel of the native gemm: 'best' (default) is AVX2 + FMA where this CPU has them, else
 * the portable one; 'portable' forces the portable kernel (tests, benchmarks).
 */
export type NativeGemmIsa = 'best' | 'portable';

/**
 * The addon's own blocked sgemm (native/lrw_gemm.c) as a provider named 'native': no BLAS
 * library needed, only the built addon. Single-threaded and deterministic (the same inputs give
 * bit-identical outputs on every call). Loaded once per process and `isa`; never throws: without
 * the addon (or with one built before the native gemm existed) it returns `{ reason }`.
 */
export function loadNativeGemmProvider(options: { isa?: NativeGemmIsa } = {}): BlasLoadResult {
  const isa = options.isa ?? 'best';
  if (isa !== 'best' && isa !== 'portable') {
    throw new Error(`loadNativeGemmProvider: isa=${String(isa)}: expected 'best' or 'portable'`);
  }
  let result = cachedNative.get(isa);
  if (result) return result;
  const loadedAddon = loadAddon();
  if (!('addon' in loadedAddon)) {
    result = { reason: loadedAddon.reason };
  } else {
    const { addon, path } = loadedAddon;
    const fn = isa === 'best' ? addon.nativeSgemm : addon.nativeSgemmPortable;
    if (typeof fn !== 'function' || typeof addon.gemmIsa !== 'function') {
      result = {
        reason:
          `the addon ${path} was built before the native gemm existed; rebuild it ` +
          '(`node scripts/build-native.mjs` in @lrw/tensor)',
      };
    } else {
      const kernel = isa === 'best' ? addon.gemmIsa() : 'portable';
      const info = { library: path, config: `lrw_gemm ${kernel} 6x16` };
      result = {
        provider: {
          ...makeProvider(addon, info, nativeRowsOff(), 'native', fn.bind(addon)),
          isa: kernel,
        },
      };
    }
  }
  cachedNative.set(isa, result);
  return result;
}

/** The wasm tile kernels' size contract: exactly rows x cols, per-row arrays of `rows`. */
function tileSizes(op: string, s: Float32Array, rows: number, cols: number, per: Float32Array[]) {
  if (s.length !== rows * cols || per.some((a) => a.length !== rows)) {
    throw new RangeError(
      `${op}: tile has ${s.length} elements for ${rows} x ${cols} and per-row arrays of ` +
        `${per.map((a) => a.length).join(', ')} (need ${rows * cols} and ${rows} each)`,
    );
  }
}

function nativeRows(addon: Addon): NativeRowKernels | undefined {
  // An addon built before the row kernels existed has no rowsIsa.
  const isa = typeof addon.rowsIsa === 'function' ? addon.rowsIsa() : '';
  if (!isa) return undefined;
  return {
    isa,
    logSumExpRows(logits, rows, V, out) {
      addon.logSumExpRows(logits, rows, V, out);
      return out;
    },
    softmaxGradRows(logits, rows, V, z, g) {
      addon.softmaxGradRows(logits, rows, V, z, g);
      return logits;
    },
    gelu(x, y) {
      if (x.length !== y.length) {
        throw new RangeError(
          `gelu: y has ${y.length} elements but x has ${x.length}; they must match`,
        );
      }
      addon.gelu(x, y);
      return y;
    },
    geluBackward(x, g, dx) {
      if (g.length !== x.length || dx.length !== x.length) {
        throw new RangeError(
          `geluBackward: x, g and dx have ${x.length}, ${g.length} and ${dx.length} elements; they must match`,
        );
      }
      addon.geluBackward(x, g, dx);
      return dx;
    },
    attentionSoftmaxTile({ s, rows, cols, scale, causal, diag, m, l, alpha }) {
      tileSizes('attentionSoftmaxTile', s, rows, cols, [m, l, alpha]);
      addon.attentionSoftmaxTile(s, rows, cols, scale, causal, diag, m, l, alpha);
    },
    attentionProbTile({ s, rows, cols, scale, causal, diag, lse }) {
      tileSizes('attentionProbTile', s, rows, cols, [lse]);
      addon.attentionProbTile(s, rows, cols, scale, causal, diag, lse);
    },
    attentionScoreGradTile(p, ds, rows, cols, scale, d) {
      tileSizes('attentionScoreGradTile', ds, rows, cols, [d]);
      tileSizes('attentionScoreGradTile', p, rows, cols, [d]);
      addon.attentionScoreGradTile(p, ds, rows, cols, scale, d);
    },
  };
}

function makeProvider(
  addon: Addon,
  info: Pick<AddonInfo, 'library' | 'config'>,
  rowsOff: boolean,
  name: BlasProvider['name'] = 'openblas',
  run: Addon['sgemm'] = addon.sgemm.bind(addon),
): BlasProvider {
  const sgemm: BlasProvider['sgemm'] = (a, b, c, m, n, k, args = {}) => {
    const ta = args.transA ?? false;
    const tb = args.transB ?? false;
    run(
      ta,
      tb,
      m,
      n,
      k,
      args.alpha ?? 1,
      a,
      args.offsetA ?? 0,
      args.lda ?? Math.max(1, ta ? m : k),
      b,
      args.offsetB ?? 0,
      args.ldb ?? Math.max(1, tb ? k : n),
      args.beta ?? 0,
      c,
      args.offsetC ?? 0,
      args.ldc ?? Math.max(1, n),
      args.batch ?? 1,
      args.strideA ?? m * k,
      args.strideB ?? k * n,
      args.strideC ?? m * n,
    );
  };
  // OpenBLAS's thread count is process-wide and settable; the native gemm runs on one thread.
  const fixedThreads = name === 'native' ? 1 : undefined;
  return {
    name,
    library: info.library,
    config: info.config,
    get threads() {
      return fixedThreads ?? addon.info().threads;
    },
    setThreads: (n) => fixedThreads ?? addon.setThreads(n),
    rows: rowsOff ? undefined : nativeRows(addon),
    sgemm,
    matmul(a, b, c, m, n, k, options = {}) {
      sgemm(a, b, c, m, n, k, {
        transA: options.transA,
        transB: options.transB,
        beta: options.accumulate ? 1 : 0,
        batch: options.batch,
        strideA: options.strideA,
        strideB: options.strideB,
        strideC: options.strideC,
      });
    },
  };
}
