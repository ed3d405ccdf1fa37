// Host-side definitions that let the CUDA kernels of cuda/*.cu build as ordinary C++ and run on
// the CPU inside the test emulator (emu-driver.cpp): each CUDA thread of a block is a fiber, and
// __syncthreads / warp shuffles switch between them, so barriers, shared memory and the
// per-thread index math behave as on a GPU (one block at a time, deterministically). It checks
// the kernels' logic; it says nothing about the GPU's memory model, races between blocks or speed.
#pragma once
#define LRW_EMULATE 1
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dim3 {
  unsigned x, y, z;
};

dim3& emu_thread_idx();
dim3& emu_block_idx();
dim3& emu_block_dim();
dim3& emu_grid_dim();
void emu_syncthreads();
uint64_t emu_shfl_xor_bits(unsigned mask, uint64_t bits, int lane_mask);
void* emu_dynamic_smem();

typedef void (*EmuEntry)(const void* params);
struct EmuReg {
  EmuReg(const char* name, EmuEntry entry, size_t param_bytes);
};

#define threadIdx (emu_thread_idx())
#define blockIdx (emu_block_idx())
#define blockDim (emu_block_dim())
#define gridDim (emu_grid_dim())
#define __syncthreads() emu_syncthreads()
#define __shared__ static
#define LRW_DEVICE static inline
#define LRW_DYNAMIC_SMEM(T, name) T* name = (T*)emu_dynamic_smem()
#define LRW_KERNEL(name, P)                                                \
  extern "C" void name(const P p);                                         \
  static void name##_emu_entry(const void* a) { name(*(const P*)a); }      \
  static EmuReg name##_emu_reg(#name, name##_emu_entry, sizeof(P));        \
  extern "C" void name(const P p)

template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof(T));
  const uint64_t got = emu_shfl_xor_bits(mask, bits, lane_mask);
  T r;
  memcpy(&r, &got, sizeof(T));
  return r;
}

// Fibers never run at the same time, so read-modify-writes are atomic as they are.
static inline int atomicAdd(int* a, int v) {
  const int old = *a;
  *a = old + v;
  return old;
}
static inline int atomicCAS(int* a, int compare, int v) {
  const int old = *a;
  if (old == compare) *a = v;
  return old;
}
static inline float __int_as_float(int v) {
  float f;
  memcpy(&f, &v, 4);
  return f;
}
static inline int __float_as_int(float v) {
  int i;
  memcpy(&i, &v, 4);
  return i;
}
static inline unsigned __float_as_uint(float v) {
  unsigned i;
  memcpy(&i, &v, 4);
  return i;
}
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
