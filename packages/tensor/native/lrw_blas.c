// lrw_blas: a small N-API addon that runs float32 gemm on the system's OpenBLAS.
//
// The BLAS is found at run time with dlopen (no headers, no link-time dependency), so the addon
// builds wherever a C compiler and Node's headers exist, and `load()` reports why it could not
// use a BLAS instead of failing to load. Operands are Float32Arrays (ArrayBuffer or
// SharedArrayBuffer backed) used in place: no copies. Every extent is bounds-checked here
// before the pointer reaches BLAS.
//
// It also runs its own blocked sgemm (lrw_gemm.c, no BLAS needed) through `nativeSgemm`, the
// same arguments and checks as `sgemm`: the CPU backend's provider where no OpenBLAS loads.
//
// It also exports the SIMD row kernels of lrw_rows.c (log-sum-exp, softmax gradient, GELU and
// blockwise attention's tile steps), which need no BLAS either: `rowsIsa()` names their
// instruction set, '' where this CPU lacks it.
//
// Build: node scripts/build-native.mjs (cc -shared -fPIC -O2 -I<node>/include/node lrw_blas.c
// lrw_gemm.c lrw_rows.c).
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrw_gemm.h"
#include "lrw_rows.h"

// CBLAS constants (cblas.h): row-major order, transpose flags.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm32_fn)(int, int, int, int32_t, int32_t, int32_t, float, const float*, int32_t,
                           const float*, int32_t, float, float*, int32_t);
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t,
                           const float*, int64_t, float, float*, int64_t);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char* (*get_config_fn)(void);

static void* lib = NULL;
static char lib_name[512];
static char load_error[1024];
static sgemm32_fn sgemm32 = NULL;
static sgemm64_fn sgemm64 = NULL;  // ILP64 builds (openblas_get_config mentions USE64BITINT)
static set_threads_fn set_threads = NULL;
static get_threads_fn get_threads = NULL;
static get_config_fn get_config = NULL;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "lrw_blas: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value make_string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static void set_prop(napi_env env, napi_value obj, const char* key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

// { loaded, library, error, threads, config, ilp64 }
static napi_value info_object(napi_env env) {
  napi_value obj, b, n;
  napi_create_object(env, &obj);
  napi_get_boolean(env, lib != NULL, &b);
  set_prop(env, obj, "loaded", b);
  set_prop(env, obj, "library", make_string(env, lib ? lib_name : ""));
  set_prop(env, obj, "error", make_string(env, load_error));
  napi_create_int32(env, (lib && get_threads) ? get_threads() : 0, &n);
  set_prop(env, obj, "threads", n);
  set_prop(env, obj, "config", make_string(env, (lib && get_config) ? get_config() : ""));
  napi_get_boolean(env, sgemm64 != NULL, &b);
  set_prop(env, obj, "ilp64", b);
  return obj;
}

// load(names: string[]): tries each library name with dlopen; first one with cblas_sgemm wins.
static napi_value js_load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (lib != NULL) return info_object(env);
  uint32_t count = 0;
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "lrw_blas.load: expected an array of library names");
    return NULL;
  }
  CHECK(napi_get_array_length(env, argv[0], &count));
  load_error[0] = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    char name[512];
    size_t len = 0;
    CHECK(napi_get_element(env, argv[0], i, &item));
    if (napi_get_value_string_utf8(env, item, name, sizeof name, &len) != napi_ok) continue;
    void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
      const char* e = dlerror();
      size_t used = strlen(load_error);
      snprintf(load_error + used, sizeof load_error - used, "%s%s", used ? "; " : "",
               e ? e : name);
      continue;
    }
    void* f = dlsym(h, "cblas_sgemm");
    if (f == NULL) {
      size_t used = strlen(load_error);
      snprintf(load_error + used, sizeof load_error - used, "%s%s: no cblas_sgemm",
               used ? "; " : "", name);
      dlclose(h);
      continue;
    }
    lib = h;
    snprintf(lib_name, sizeof lib_name, "%s", name);
    set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
    get_config = (get_config_fn)dlsym(h, "openblas_get_config");
    const char* config = get_config ? get_config() : "";
    if (config && strstr(config, "USE64BITINT")) {
      sgemm64 = (sgemm64_fn)f;
    } else {
      sgemm32 = (sgemm32_fn)f;
    }
    load_error[0] = 0;
    break;
  }
  return info_object(env);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  return info_object(env);
}

// setThreads(n): openblas_set_num_threads where the library has it; returns the thread count.
static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, NULL, "lrw_blas.setThreads: expected a positive integer");
    return NULL;
  }
  if (lib && set_threads) set_threads(n);
  CHECK(napi_create_int32(env, (lib && get_threads) ? get_threads() : 0, &out));
  return out;
}

static int get_f32(napi_env env, napi_value v, float** data, size_t* length, const char* what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "lrw_blas.sgemm: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = (float*)ptr;
  return 1;
}

static int get_i64(napi_env env, napi_value v, int64_t* out, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != d || d < 0 || d > 9007199254740991.0 ||
      d != (double)(int64_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "lrw_blas.sgemm: %s must be a non-negative integer", what);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

// The last element index a [rows, cols] operand with leading dimension ld touches, batch items
// `stride` apart; -1 when it touches nothing.
static int64_t extent(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  if (rows == 0 || cols == 0 || batch == 0) return -1;
  return (batch - 1) * stride + (rows - 1) * ld + (cols - 1);
}

// sgemm(transA, transB, M, N, K, alpha, A, offA, lda, B, offB, ldb, beta, C, offC, ldc,
//       batch, strideA, strideB, strideC)
// For b < batch: C[b] = alpha op(A[b]) op(B[b]) + beta C[b], row-major; A[b] starts at
// offA + b strideA (elements), likewise B and C. op(A) is [M, K]: stored [M, lda] or, with
// transA, [K, lda]. Stride 0 broadcasts an operand (not C).
// engine: the loaded BLAS, or lrw_gemm.c's kernels (ENGINE_NATIVE: the best this CPU has).
enum { ENGINE_BLAS = 0, ENGINE_NATIVE = 1, ENGINE_NATIVE_PORTABLE = 2 };
static napi_value sgemm_call(napi_env env, napi_callback_info info, int engine) {
  size_t argc = 20;
  napi_value argv[20];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 20) {
    napi_throw_type_error(env, NULL, "lrw_blas.sgemm: expected 20 arguments");
    return NULL;
  }
  if (engine == ENGINE_BLAS && lib == NULL) {
    napi_throw_error(env, NULL, "lrw_blas.sgemm: no BLAS loaded (call load first)");
    return NULL;
  }
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, argv[0], &ta));
  CHECK(napi_get_value_bool(env, argv[1], &tb));
  int64_t M, N, K, offA, lda, offB, ldb, offC, ldc, batch, sA, sB, sC;
  double alpha, beta;
  float *A, *B, *C;
  size_t lenA, lenB, lenC;
  if (!get_i64(env, argv[2], &M, "M") || !get_i64(env, argv[3], &N, "N") ||
      !get_i64(env, argv[4], &K, "K"))
    return NULL;
  CHECK(napi_get_value_double(env, argv[5], &alpha));
  if (!get_f32(env, argv[6], &A, &lenA, "A") || !get_i64(env, argv[7], &offA, "offA") ||
      !get_i64(env, argv[8], &lda, "lda") || !get_f32(env, argv[9], &B, &lenB, "B") ||
      !get_i64(env, argv[10], &offB, "offB") || !get_i64(env, argv[11], &ldb, "ldb"))
    return NULL;
  CHECK(napi_get_value_double(env, argv[12], &beta));
  if (!get_f32(env, argv[13], &C, &lenC, "C") || !get_i64(env, argv[14], &offC, "offC") ||
      !get_i64(env, argv[15], &ldc, "ldc") || !get_i64(env, argv[16], &batch, "batch") ||
      !get_i64(env, argv[17], &sA, "strideA") || !get_i64(env, argv[18], &sB, "strideB") ||
      !get_i64(env, argv[19], &sC, "strideC"))
    return NULL;
  if (M == 0 || N == 0 || batch == 0) return NULL;
  // Leading dimensions as BLAS requires them (>= the stored row length, >= 1).
  const int64_t rowA = ta ? M : K, rowB = tb ? K : N;
  char msg[256];
  if (lda < (rowA > 1 ? rowA : 1) || ldb < (rowB > 1 ? rowB : 1) || ldc < (N > 1 ? N : 1)) {
    snprintf(msg, sizeof msg,
             "lrw_blas.sgemm: leading dimensions lda=%lld ldb=%lld ldc=%lld are below the row "
             "lengths %lld, %lld, %lld",
             (long long)lda, (long long)ldb, (long long)ldc, (long long)rowA, (long long)rowB,
             (long long)N);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  const int64_t eA = extent(ta ? K : M, rowA, lda, batch, sA);
  const int64_t eB = extent(tb ? N : K, rowB, ldb, batch, sB);
  const int64_t eC = extent(M, N, ldc, batch, sC);
  if (offA + eA >= (int64_t)lenA || offB + eB >= (int64_t)lenB || offC + eC >= (int64_t)lenC) {
    snprintf(msg, sizeof msg,
             "lrw_blas.sgemm: operand out of bounds (A needs %lld of %zu, B %lld of %zu, C %lld "
             "of %zu elements)",
             (long long)(offA + eA + 1), lenA, (long long)(offB + eB + 1), lenB,
             (long long)(offC + eC + 1), lenC);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  if (batch > 1 && sC < (M - 1) * ldc + N) {
    napi_throw_range_error(env, NULL, "lrw_blas.sgemm: strideC makes output batch items overlap");
    return NULL;
  }
  if (engine == ENGINE_BLAS && !sgemm64 && (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || lda > INT32_MAX ||
                   ldb > INT32_MAX || ldc > INT32_MAX)) {
    napi_throw_range_error(env, NULL, "lrw_blas.sgemm: a dimension exceeds the BLAS's 32-bit int");
    return NULL;
  }
  const int opA = ta ? TRANS : NO_TRANS, opB = tb ? TRANS : NO_TRANS;
  for (int64_t b = 0; b < batch; b++) {
    const float* a = A + offA + b * sA;
    const float* bb = B + offB + b * sB;
    float* c = C + offC + b * sC;
    if (K == 0) {  // BLAS still scales C by beta; do it ourselves to skip odd K=0 handling.
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) c[i * ldc + j] = beta == 0 ? 0.0f : (float)beta * c[i * ldc + j];
      continue;
    }
    if (engine != ENGINE_BLAS) {
      const enum lrw_gemm_isa isa = engine == ENGINE_NATIVE ? LRW_GEMM_BEST : LRW_GEMM_PORTABLE;
      if (lrw_sgemm(isa, ta, tb, M, N, K, (float)alpha, a, lda, bb, ldb, (float)beta, c, ldc) != 0) {
        napi_throw_error(env, NULL, "lrw_blas.nativeSgemm: out of memory for the packing buffers");
        return NULL;
      }
    } else if (sgemm64)
      sgemm64(ROW_MAJOR, opA, opB, M, N, K, (float)alpha, a, lda, bb, ldb, (float)beta, c, ldc);
    else
      sgemm32(ROW_MAJOR, opA, opB, (int32_t)M, (int32_t)N, (int32_t)K, (float)alpha, a,
              (int32_t)lda, bb, (int32_t)ldb, (float)beta, c, (int32_t)ldc);
  }
  return NULL;
}

static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  return sgemm_call(env, info, ENGINE_BLAS);
}

// nativeSgemm(...the 20 arguments of sgemm): lrw_gemm.c's kernel, no BLAS needed.
static napi_value js_native_sgemm(napi_env env, napi_callback_info info) {
  return sgemm_call(env, info, ENGINE_NATIVE);
}

// nativeSgemmPortable(...): lrw_gemm.c's portable kernel on any CPU (to test it where the
// best one is AVX2).
static napi_value js_native_sgemm_portable(napi_env env, napi_callback_info info) {
  return sgemm_call(env, info, ENGINE_NATIVE_PORTABLE);
}

// gemmIsa(): the instruction set nativeSgemm runs on ('avx2-fma' or 'portable').
static napi_value js_gemm_isa(napi_env env, napi_callback_info info) {
  (void)info;
  return make_string(env, lrw_gemm_isa_name());
}

// ---- Row kernels (lrw_rows.c) ----

// A Float32Array argument of a row kernel, or a thrown TypeError naming it.
static int row_f32(napi_env env, napi_value v, float** data, size_t* length, const char* op,
                   const char* what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "lrw_blas.%s: %s must be a Float32Array", op, what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = (float*)ptr;
  return 1;
}

static int row_count(napi_env env, napi_value v, int64_t* out, int64_t min, const char* op,
                     const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != d || d < (double)min ||
      d > 9007199254740991.0 || d != (double)(int64_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "lrw_blas.%s: %s must be an integer >= %lld", op, what,
             (long long)min);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

static int rows_ready(napi_env env, const char* op) {
  if (lrw_rows_available()) return 1;
  char msg[200];
  snprintf(msg, sizeof msg, "lrw_blas.%s: this CPU lacks AVX2 + FMA (check rowsIsa() first)", op);
  napi_throw_error(env, NULL, msg);
  return 0;
}

static int too_short(napi_env env, const char* op, const char* what, size_t have, int64_t need) {
  if ((int64_t)have >= need) return 0;
  char msg[200];
  snprintf(msg, sizeof msg, "lrw_blas.%s: %s has %zu elements, needs %lld", op, what, have,
           (long long)need);
  napi_throw_range_error(env, NULL, msg);
  return 1;
}

static int is_exception_pending(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

static int arity(napi_env env, const char* op, size_t argc, size_t want) {
  if (argc == want) return 1;
  char msg[160];
  snprintf(msg, sizeof msg, "lrw_blas.%s: expected %zu arguments, got %zu", op, want, argc);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

static napi_value js_rows_isa(napi_env env, napi_callback_info info) {
  (void)info;
  return make_string(env, lrw_rows_isa());
}

// logSumExpRows(logits, rows, V, out)
static napi_value js_lse_rows(napi_env env, napi_callback_info info) {
  const char* op = "logSumExpRows";
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *L, *out;
  size_t nL, nOut;
  int64_t rows, V;
  if (!arity(env, op, argc, 4) || !rows_ready(env, op) || !row_f32(env, argv[0], &L, &nL, op, "logits") ||
      !row_count(env, argv[1], &rows, 0, op, "rows") || !row_count(env, argv[2], &V, 1, op, "V") ||
      !row_f32(env, argv[3], &out, &nOut, op, "out") || too_short(env, op, "logits", nL, rows * V) ||
      too_short(env, op, "out", nOut, rows))
    return NULL;
  lrw_lse_rows(L, rows, V, out);
  return NULL;
}

// softmaxGradRows(logits, rows, V, z, g)
static napi_value js_softmax_grad_rows(napi_env env, napi_callback_info info) {
  const char* op = "softmaxGradRows";
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *L, *z, *g;
  size_t nL, nz, ng;
  int64_t rows, V;
  if (!arity(env, op, argc, 5) || !rows_ready(env, op) || !row_f32(env, argv[0], &L, &nL, op, "logits") ||
      !row_count(env, argv[1], &rows, 0, op, "rows") || !row_count(env, argv[2], &V, 1, op, "V") ||
      !row_f32(env, argv[3], &z, &nz, op, "z") || !row_f32(env, argv[4], &g, &ng, op, "g") ||
      too_short(env, op, "logits", nL, rows * V) || too_short(env, op, "z", nz, rows) ||
      too_short(env, op, "g", ng, rows))
    return NULL;
  lrw_softmax_grad_rows(L, rows, V, z, g);
  return NULL;
}

// gelu(x, y): y = gelu(x), the same lengths.
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  const char* op = "gelu";
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *y;
  size_t nx, ny;
  if (!arity(env, op, argc, 2) || !rows_ready(env, op) || !row_f32(env, argv[0], &x, &nx, op, "x") ||
      !row_f32(env, argv[1], &y, &ny, op, "y") || too_short(env, op, "y", ny, (int64_t)nx))
    return NULL;
  lrw_gelu(x, y, (int64_t)nx);
  return NULL;
}

// geluBackward(x, g, dx): dx = g gelu'(x), the same lengths.
static napi_value js_gelu_backward(napi_env env, napi_callback_info info) {
  const char* op = "geluBackward";
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *g, *dx;
  size_t nx, ng, nd;
  if (!arity(env, op, argc, 3) || !rows_ready(env, op) || !row_f32(env, argv[0], &x, &nx, op, "x") ||
      !row_f32(env, argv[1], &g, &ng, op, "g") || !row_f32(env, argv[2], &dx, &nd, op, "dx") ||
      too_short(env, op, "g", ng, (int64_t)nx) || too_short(env, op, "dx", nd, (int64_t)nx))
    return NULL;
  lrw_gelu_backward(x, g, dx, (int64_t)nx);
  return NULL;
}

// The tile arguments shared by the attention kernels: (s, rows, cols, scale, causal, diag).
static int tile_args(napi_env env, napi_value* argv, const char* op, float** s, int64_t* rows,
                     int64_t* cols, double* scale, bool* causal, int64_t* diag) {
  size_t ns;
  if (!row_f32(env, argv[0], s, &ns, op, "s") || !row_count(env, argv[1], rows, 0, op, "rows") ||
      !row_count(env, argv[2], cols, 0, op, "cols"))
    return 0;
  if (napi_get_value_double(env, argv[3], scale) != napi_ok ||
      napi_get_value_bool(env, argv[4], causal) != napi_ok ||
      !row_count(env, argv[5], diag, -((int64_t)1 << 52), op, "diag")) {
    if (!is_exception_pending(env)) {
      char msg[160];
      snprintf(msg, sizeof msg, "lrw_blas.%s: scale must be a number and causal a boolean", op);
      napi_throw_type_error(env, NULL, msg);
    }
    return 0;
  }
  return !too_short(env, op, "s", ns, *rows * *cols);
}

// attentionSoftmaxTile(s, rows, cols, scale, causal, diag, m, l, alpha)
static napi_value js_attn_softmax_tile(napi_env env, napi_callback_info info) {
  const char* op = "attentionSoftmaxTile";
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *S, *m, *l, *a;
  size_t nm, nl, na;
  int64_t rows, cols, diag;
  double scale;
  bool causal;
  if (!arity(env, op, argc, 9) || !rows_ready(env, op) ||
      !tile_args(env, argv, op, &S, &rows, &cols, &scale, &causal, &diag) ||
      !row_f32(env, argv[6], &m, &nm, op, "m") || !row_f32(env, argv[7], &l, &nl, op, "l") ||
      !row_f32(env, argv[8], &a, &na, op, "alpha") || too_short(env, op, "m", nm, rows) ||
      too_short(env, op, "l", nl, rows) || too_short(env, op, "alpha", na, rows))
    return NULL;
  lrw_attn_softmax_tile(S, rows, cols, (float)scale, causal, diag, m, l, a);
  return NULL;
}

// attentionProbTile(s, rows, cols, scale, causal, diag, lse)
static napi_value js_attn_prob_tile(napi_env env, napi_callback_info info) {
  const char* op = "attentionProbTile";
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *S, *z;
  size_t nz;
  int64_t rows, cols, diag;
  double scale;
  bool causal;
  if (!arity(env, op, argc, 7) || !rows_ready(env, op) ||
      !tile_args(env, argv, op, &S, &rows, &cols, &scale, &causal, &diag) ||
      !row_f32(env, argv[6], &z, &nz, op, "lse") || too_short(env, op, "lse", nz, rows))
    return NULL;
  lrw_attn_prob_tile(S, rows, cols, (float)scale, causal, diag, z);
  return NULL;
}

// attentionScoreGradTile(p, ds, rows, cols, scale, d)
static napi_value js_attn_score_grad_tile(napi_env env, napi_callback_info info) {
  const char* op = "attentionScoreGradTile";
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *P, *dS, *d;
  size_t np, nds, nd;
  int64_t rows, cols;
  double scale;
  if (!arity(env, op, argc, 6) || !rows_ready(env, op) || !row_f32(env, argv[0], &P, &np, op, "p") ||
      !row_f32(env, argv[1], &dS, &nds, op, "ds") ||
      !row_count(env, argv[2], &rows, 0, op, "rows") ||
      !row_count(env, argv[3], &cols, 0, op, "cols"))
    return NULL;
  if (napi_get_value_double(env, argv[4], &scale) != napi_ok) {
    napi_throw_type_error(env, NULL, "lrw_blas.attentionScoreGradTile: scale must be a number");
    return NULL;
  }
  if (!row_f32(env, argv[5], &d, &nd, op, "d") || too_short(env, op, "p", np, rows * cols) ||
      too_short(env, op, "ds", nds, rows * cols) || too_short(env, op, "d", nd, rows))
    return NULL;
  lrw_attn_score_grad_tile(P, dS, rows, cols, (float)scale, d);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"load", NULL, js_load, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, js_sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"nativeSgemm", NULL, js_native_sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"nativeSgemmPortable", NULL, js_native_sgemm_portable, NULL, NULL, NULL, napi_default,
       NULL},
      {"gemmIsa", NULL, js_gemm_isa, NULL, NULL, NULL, napi_default, NULL},
      {"rowsIsa", NULL, js_rows_isa, NULL, NULL, NULL, napi_default, NULL},
      {"logSumExpRows", NULL, js_lse_rows, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxGradRows", NULL, js_softmax_grad_rows, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, js_gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluBackward", NULL, js_gelu_backward, NULL, NULL, NULL, napi_default, NULL},
      {"attentionSoftmaxTile", NULL, js_attn_softmax_tile, NULL, NULL, NULL, napi_default, NULL},
      {"attentionProbTile", NULL, js_attn_prob_tile, NULL, NULL, NULL, napi_default, NULL},
      {"attentionScoreGradTile", NULL, js_attn_score_grad_tile, NULL, NULL, NULL, napi_default,
       NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}
