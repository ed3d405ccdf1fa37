// The one cuBLASLt call the cuda backend makes (a version check), for the test emulator.
#include <stddef.h>
extern "C" size_t cublasLtGetVersion() { return 130000; }
