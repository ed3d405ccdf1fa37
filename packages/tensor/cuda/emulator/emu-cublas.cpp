// A CPU emulation of the cuBLAS calls the cuda backend makes (libcublas.so.13), for tests
// without a GPU: cublasSgemmStridedBatched as defined by the cuBLAS documentation (column-major,
// op(A) m x k, lda >= max(1, rows of the stored A), beta 0 never reads C), with the argument
// checks cuBLAS makes (CUBLAS_STATUS_INVALID_VALUE), and TF32 math mode rounding the operands
// to TF32 (10 explicit mantissa bits) as the tensor cores do. Device pointers are host pointers.
#include <math.h>
#include <stdint.h>
#include <string.h>

extern "C" size_t cublasLtGetVersion();

namespace {
struct Handle {
  void* stream;
  int math;
};
float tf32(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  u = (u + 0x1000u) & 0xffffe000u;  // round to nearest at bit 13
  memcpy(&x, &u, 4);
  return x;
}
Handle handles[16];
int used = 0;
}  // namespace

extern "C" {
int cublasCreate_v2(void** h) {
  if (used >= 16) return 3;
  handles[used] = Handle{nullptr, 0};
  *h = &handles[used++];
  return 0;
}
int cublasDestroy_v2(void*) { return 0; }
int cublasSetStream_v2(void* h, void* s) {
  ((Handle*)h)->stream = s;
  return 0;
}
int cublasSetMathMode(void* h, int mode) {
  if (mode != 0 && mode != 1 && mode != 2 && mode != 3) return 7;
  ((Handle*)h)->math = mode;
  return 0;
}
int cublasGetVersion_v2(void*, int* v) {
  *v = (int)cublasLtGetVersion();
  return 0;
}
int cublasSgemmStridedBatched(void* h, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, long long strideA, const float* B, int ldb, long long strideB,
                              const float* beta, float* C, int ldc, long long strideC, int batch) {
  const bool ta = transa != 0, tb = transb != 0;
  if (m < 0 || n < 0 || k < 0 || batch < 0) return 7;
  const int rowsA = ta ? k : m, rowsB = tb ? n : k;
  if (lda < (rowsA > 1 ? rowsA : 1) || ldb < (rowsB > 1 ? rowsB : 1) || ldc < (m > 1 ? m : 1)) return 7;
  const bool round = ((Handle*)h)->math == 3;
  for (int b = 0; b < batch; b++) {
    const float* a = A + b * strideA;
    const float* bb = B + b * strideB;
    float* c = C + b * strideC;
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < m; i++) {
        float acc = 0.0f;
        for (int l = 0; l < k; l++) {
          float x = ta ? a[l + (long long)i * lda] : a[i + (long long)l * lda];
          float y = tb ? bb[j + (long long)l * ldb] : bb[l + (long long)j * ldb];
          if (round) {
            x = tf32(x);
            y = tf32(y);
          }
          acc += x * y;
        }
        float* out = c + i + (long long)j * ldc;
        *out = *beta == 0.0f ? *alpha * acc : *alpha * acc + *beta * *out;
      }
    }
  }
  return 0;
}
}
