// The one translation unit of the cuda backend's kernels (one module, loaded once).
#include "elementwise.cu"
#include "reduce.cu"
#include "index.cu"
#include "random.cu"
#include "rows.cu"
#include "pointwise.cu"
#include "attention.cu"
