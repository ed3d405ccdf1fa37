// A CPU emulation of the slice of the CUDA driver API (libcuda.so.1) that @lrw/tensor's cuda
// backend calls, for tests on machines without a GPU. Built together with cuda/kernels.cu (as
// host C++ against emu.h) into a fake libcuda.so.1: cuLaunchKernel runs the named kernel's
// host build over the grid, each CUDA thread a fiber, one block at a time. Device memory is host
// memory (each allocation ends at a guard page and starts filled with NaN bytes), copies are
// immediate and every event is complete. It enforces what the real driver enforces where the
// backend could get it wrong: the launch parameter buffer's size against the kernel's struct,
// block size, dynamic shared memory above 48 KiB only after cuFuncSetAttribute, module images
// that are a fatbin or PTX text, barrier divergence (a deadlock is reported, not hung).
// Fault injection for the backend's error tests: LRW_CUDA_EMU_INIT=<CUresult> makes cuInit fail,
// LRW_CUDA_EMU_DEVICES=<n> sets the GPU count, LRW_CUDA_EMU_REJECT_FATBIN=1 refuses fatbin images;
// LRW_CUDA_EMU_REVERSE=1 runs blocks and threads in reverse order (a race check).
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "emu.h"

// ---- the kernel registry -----------------------------------------------------------------------
struct Kernel {
  EmuEntry entry;
  size_t paramBytes;
  int maxDynamicSmem;
  std::string name;
};
static std::map<std::string, Kernel>& registry() {
  static std::map<std::string, Kernel> r;
  return r;
}
EmuReg::EmuReg(const char* name, EmuEntry entry, size_t bytes) {
  registry()[name] = Kernel{entry, bytes, 48 * 1024, name};
}

// ---- fibers ------------------------------------------------------------------------------------
enum State { RUNNABLE, AT_BLOCK_BARRIER, AT_WARP_BARRIER, EXITED };
struct Fiber {
  void* sp;
  char* stack;
  State state;
  dim3 tid;
  unsigned linear;
};

static const size_t STACK_BYTES = 256 * 1024;
static std::vector<Fiber> fibers;
static void* schedulerSp;
static int current = -1;
static dim3 blockIdxV, blockDimV, gridDimV;
static const void* launchParams;
static EmuEntry launchEntry;
static std::vector<unsigned char> dynamicSmem;
static uint64_t warpSlots[32][32];
static const char* launchName = "";

dim3& emu_thread_idx() { return fibers[current].tid; }
dim3& emu_block_idx() { return blockIdxV; }
dim3& emu_block_dim() { return blockDimV; }
dim3& emu_grid_dim() { return gridDimV; }
void* emu_dynamic_smem() { return dynamicSmem.data(); }

#if defined(__x86_64__)
// Saves the callee-saved registers and the stack pointer in *save, switches to `to`.
extern "C" void emu_switch(void** save, void* to);
asm(R"(
.text
.globl emu_switch
.type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch, .-emu_switch
)");
#else
#error "the CUDA emulator's fibers are written for x86-64"
#endif

static void yield_to_scheduler() { emu_switch(&fibers[current].sp, schedulerSp); }

static void fiber_main() {
  launchEntry(launchParams);
  fibers[current].state = EXITED;
  yield_to_scheduler();
  abort();  // never resumed
}

static void fail(const char* what) {
  fprintf(stderr, "lrw cuda emulator: kernel %s, block (%u,%u,%u): %s\n", launchName, blockIdxV.x, blockIdxV.y,
          blockIdxV.z, what);
  fflush(stderr);
  abort();
}

void emu_syncthreads() {
  fibers[current].state = AT_BLOCK_BARRIER;
  yield_to_scheduler();
}

uint64_t emu_shfl_xor_bits(unsigned mask, uint64_t bits, int laneMask) {
  if (mask != 0xffffffffu) fail("only full-warp shuffles are emulated");
  const unsigned t = fibers[current].linear, warp = t / 32, lane = t % 32;
  const unsigned partner = warp * 32 + (lane ^ (unsigned)laneMask);
  if (partner >= fibers.size()) fail("shuffle with a lane outside the block (block size not a multiple of 32)");
  warpSlots[warp][lane] = bits;
  fibers[current].state = AT_WARP_BARRIER;
  yield_to_scheduler();
  if (fibers[partner].state == EXITED) fail("shuffle with a lane that has exited");
  const uint64_t got = warpSlots[warp][lane ^ (unsigned)laneMask];
  fibers[current].state = AT_WARP_BARRIER;  // nobody overwrites a slot before all have read
  yield_to_scheduler();
  return got;
}

static int env_int(const char* name, int fallback);

static void run_block() {
  const unsigned n = blockDimV.x * blockDimV.y * blockDimV.z;
  if (fibers.size() != n) {
    for (auto& f : fibers) munmap(f.stack, STACK_BYTES);
    fibers.assign(n, Fiber{});
    for (auto& f : fibers) {
      f.stack = (char*)mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (f.stack == MAP_FAILED) fail("no memory for fiber stacks");
    }
  }
  for (unsigned i = 0; i < n; i++) {
    Fiber& f = fibers[i];
    f.linear = i;
    f.tid = dim3{i % blockDimV.x, (i / blockDimV.x) % blockDimV.y, i / (blockDimV.x * blockDimV.y)};
    f.state = RUNNABLE;
    uintptr_t top = ((uintptr_t)(f.stack + STACK_BYTES)) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;               // fiber_main's return address slot (never used)
    *--sp = (void*)&fiber_main;    // popped by emu_switch's ret
    for (int r = 0; r < 6; r++) *--sp = nullptr;  // r15 .. rbp
    f.sp = sp;
  }
  const bool reverse = env_int("LRW_CUDA_EMU_REVERSE", 0) != 0;
  for (;;) {
    for (unsigned j = 0; j < n; j++) {
      const unsigned i = reverse ? n - 1 - j : j;
      if (fibers[i].state != RUNNABLE) continue;
      current = (int)i;
      emu_switch(&schedulerSp, fibers[i].sp);
    }
    unsigned live = 0, atBlock = 0;
    for (auto& f : fibers) {
      if (f.state != EXITED) live++;
      if (f.state == AT_BLOCK_BARRIER) atBlock++;
    }
    if (live == 0) break;
    bool released = false;
    if (atBlock == live) {
      for (auto& f : fibers)
        if (f.state == AT_BLOCK_BARRIER) f.state = RUNNABLE;
      continue;
    }
    for (unsigned w = 0; w * 32 < n; w++) {
      unsigned liveW = 0, atW = 0;
      for (unsigned i = w * 32; i < n && i < w * 32 + 32; i++) {
        if (fibers[i].state != EXITED) liveW++;
        if (fibers[i].state == AT_WARP_BARRIER) atW++;
      }
      if (atW > 0 && atW == liveW) {
        for (unsigned i = w * 32; i < n && i < w * 32 + 32; i++)
          if (fibers[i].state == AT_WARP_BARRIER) fibers[i].state = RUNNABLE;
        released = true;
      }
    }
    if (!released) {
      char msg[200];
      snprintf(msg, sizeof msg, "deadlock: %u live threads, %u at __syncthreads, the rest at a warp shuffle with lanes elsewhere", live, atBlock);
      fail(msg);
    }
  }
  current = -1;
}

// ---- the driver API ----------------------------------------------------------------------------
typedef int CUresult;
enum {
  OK = 0,
  INVALID_VALUE = 1,
  OUT_OF_MEMORY = 2,
  NOT_INITIALIZED = 3,
  NO_DEVICE = 100,
  INVALID_IMAGE = 200,
  NOT_FOUND = 500,
  LAUNCH_OUT_OF_RESOURCES = 701,
};
static bool initialized = false;
static long long liveDeviceBytes = 0;
static std::map<uint64_t, std::pair<void*, size_t>> allocations;  // device ptr -> (mapping, bytes)
static const long long TOTAL = 8LL << 30;
static int fakeContext, fakeStream, fakeModule, fakeEvent;

static int env_int(const char* name, int fallback) {
  const char* v = getenv(name);
  return v && *v ? atoi(v) : fallback;
}

extern "C" {
CUresult cuInit(unsigned) {
  const int forced = env_int("LRW_CUDA_EMU_INIT", 0);
  if (forced) return forced;
  initialized = true;
  return OK;
}
CUresult cuDriverGetVersion(int* v) {
  *v = 13000;
  return OK;
}
CUresult cuDeviceGetCount(int* count) {
  if (!initialized) return NOT_INITIALIZED;
  *count = env_int("LRW_CUDA_EMU_DEVICES", 1);
  return OK;
}
CUresult cuDeviceGet(int* dev, int ordinal) {
  if (ordinal < 0 || ordinal >= env_int("LRW_CUDA_EMU_DEVICES", 1)) return INVALID_VALUE;
  *dev = ordinal;
  return OK;
}
CUresult cuDeviceGetName(char* name, int len, int) {
  snprintf(name, len, "lrw CPU emulator of a CUDA device");
  return OK;
}
CUresult cuDeviceGetAttribute(int* v, int attrib, int) {
  switch (attrib) {
    case 16: *v = 132; return OK;        // multiprocessors
    case 75: *v = 9; return OK;          // compute capability major
    case 76: *v = 0; return OK;          // minor
    case 97: *v = 232448; return OK;     // max shared memory per block (opt-in), as an H100
    default: return INVALID_VALUE;
  }
}
CUresult cuDeviceTotalMem_v2(uint64_t* bytes, int) {
  *bytes = TOTAL;
  return OK;
}
CUresult cuMemGetInfo_v2(uint64_t* freeBytes, uint64_t* total) {
  *freeBytes = TOTAL - liveDeviceBytes;
  *total = TOTAL;
  return OK;
}
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) {
  *ctx = &fakeContext;
  return OK;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) { return OK; }
CUresult cuCtxSetCurrent(void* ctx) { return ctx == &fakeContext ? OK : INVALID_VALUE; }
CUresult cuCtxSynchronize() { return OK; }
CUresult cuStreamCreate(void** s, unsigned) {
  *s = &fakeStream;
  return OK;
}
CUresult cuStreamSynchronize(void*) { return OK; }
CUresult cuStreamDestroy_v2(void*) { return OK; }

// Each allocation ends at a PROT_NONE page, so a kernel reading past a buffer's size class
// crashes the test instead of reading a neighbour; new memory is NaN-filled (0xff bytes).
CUresult cuMemAlloc_v2(uint64_t* dptr, size_t bytes) {
  if (bytes == 0) return INVALID_VALUE;
  if (liveDeviceBytes + (long long)bytes > TOTAL) return OUT_OF_MEMORY;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t span = (bytes + page - 1) / page * page + page;
  char* m = (char*)mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return OUT_OF_MEMORY;
  mprotect(m + span - page, page, PROT_NONE);
  char* p = m + span - page - bytes;
  if ((uintptr_t)p % 256 != 0) {  // sizes from the backend are multiples of 256
    munmap(m, span);
    return INVALID_VALUE;
  }
  memset(p, 0xff, bytes);
  allocations[(uint64_t)p] = {m, span};
  liveDeviceBytes += (long long)bytes;
  *dptr = (uint64_t)p;
  return OK;
}
CUresult cuMemFree_v2(uint64_t dptr) {
  auto it = allocations.find(dptr);
  if (it == allocations.end()) return INVALID_VALUE;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  liveDeviceBytes -= (long long)(it->second.second - page - (dptr - (uint64_t)it->second.first));
  munmap(it->second.first, it->second.second);
  allocations.erase(it);
  return OK;
}
CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
  *p = aligned_alloc(256, (bytes + 255) / 256 * 256);
  return *p ? OK : OUT_OF_MEMORY;
}
CUresult cuMemFreeHost(void* p) {
  free(p);
  return OK;
}
CUresult cuMemcpyHtoDAsync_v2(uint64_t dst, const void* src, size_t n, void*) {
  memcpy((void*)dst, src, n);
  return OK;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, uint64_t src, size_t n, void*) {
  memcpy(dst, (const void*)src, n);
  return OK;
}
CUresult cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t n, void*) {
  memmove((void*)dst, (const void*)src, n);
  return OK;
}
CUresult cuMemsetD32Async(uint64_t dst, unsigned v, size_t count, void*) {
  unsigned* d = (unsigned*)dst;
  for (size_t i = 0; i < count; i++) d[i] = v;
  return OK;
}
// A fatbin (magic 0xBA55ED50) or PTX text; the functions come from the host-built kernels.
CUresult cuModuleLoadData(void** mod, const void* image) {
  const unsigned char* b = (const unsigned char*)image;
  const bool fatbin = b[0] == 0x50 && b[1] == 0xed && b[2] == 0x55 && b[3] == 0xba;
  const bool ptx = strstr((const char*)image, ".version") != nullptr;
  if (!fatbin && !ptx) return INVALID_IMAGE;
  // LRW_CUDA_EMU_REJECT_FATBIN=1: answer as a driver older than the image's toolkit would.
  if (fatbin && env_int("LRW_CUDA_EMU_REJECT_FATBIN", 0)) return 222;  // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
  *mod = &fakeModule;
  return OK;
}
CUresult cuModuleUnload(void*) { return OK; }
CUresult cuModuleGetFunction(void** fn, void*, const char* name) {
  auto it = registry().find(name);
  if (it == registry().end()) return NOT_FOUND;
  *fn = &it->second;
  return OK;
}
CUresult cuFuncSetAttribute(void* fn, int attrib, int value) {
  if (attrib != 8) return INVALID_VALUE;
  if (value > 232448) return INVALID_VALUE;
  ((Kernel*)fn)->maxDynamicSmem = value;
  return OK;
}
CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned smem, void*, void** params, void** extra) {
  Kernel* k = (Kernel*)fn;
  launchName = k->name.c_str();
  if (params != nullptr || extra == nullptr) {
    fprintf(stderr, "lrw cuda emulator: %s: parameters must come through `extra`\n", launchName);
    return INVALID_VALUE;
  }
  // extra = {CU_LAUNCH_PARAM_BUFFER_POINTER (1), buf, CU_LAUNCH_PARAM_BUFFER_SIZE (2), &size, END (0)}
  if (extra[0] != (void*)1 || extra[2] != (void*)2 || extra[4] != nullptr) return INVALID_VALUE;
  const size_t size = *(const size_t*)extra[3];
  if (size != k->paramBytes) {
    fprintf(stderr, "lrw cuda emulator: %s: parameter buffer of %zu bytes, the kernel's struct has %zu\n", launchName,
            size, k->paramBytes);
    return INVALID_VALUE;
  }
  if (bx * by * bz == 0 || bx * by * bz > 1024 || gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535)
    return INVALID_VALUE;
  if ((int)smem > k->maxDynamicSmem) return INVALID_VALUE;
  if ((bx * by * bz) % 32 != 0 && bx * by * bz > 32) {
    fprintf(stderr, "lrw cuda emulator: %s: block of %u threads (not whole warps)\n", launchName, bx * by * bz);
  }
  std::vector<unsigned char> copy((const unsigned char*)extra[1], (const unsigned char*)extra[1] + size);
  launchParams = copy.data();
  launchEntry = k->entry;
  blockDimV = dim3{bx, by, bz};
  gridDimV = dim3{gx, gy, gz};
  dynamicSmem.assign(smem > 0 ? smem : 1, 0xff);
  // LRW_CUDA_EMU_REVERSE=1 runs blocks (and threads between barriers) last to first: a kernel
  // whose result depends on the order has a race that the GPU's scheduler may expose.
  const bool reverse = env_int("LRW_CUDA_EMU_REVERSE", 0) != 0;
  for (unsigned zz = 0; zz < gz; zz++)
    for (unsigned yy = 0; yy < gy; yy++)
      for (unsigned xx = 0; xx < gx; xx++) {
        const unsigned x = reverse ? gx - 1 - xx : xx, y = reverse ? gy - 1 - yy : yy, z = reverse ? gz - 1 - zz : zz;
        blockIdxV = dim3{x, y, z};
        memset(dynamicSmem.data(), 0xff, dynamicSmem.size());
        run_block();
      }
  return OK;
}
CUresult cuEventCreate(void** e, unsigned) {
  *e = &fakeEvent;
  return OK;
}
CUresult cuEventRecord(void*, void*) { return OK; }
CUresult cuEventQuery(void*) { return OK; }
CUresult cuEventSynchronize(void*) { return OK; }
CUresult cuEventDestroy_v2(void*) { return OK; }
CUresult cuEventElapsedTime(float* ms, void*, void*) {
  *ms = 0.0f;
  return OK;
}
CUresult cuEventElapsedTime_v2(float* ms, void* a, void* b) { return cuEventElapsedTime(ms, a, b); }

static const char* error_name(int code) {
  switch (code) {
    case 0: return "CUDA_SUCCESS";
    case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY";
    case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER";
    case 100: return "CUDA_ERROR_NO_DEVICE";
    case 200: return "CUDA_ERROR_INVALID_IMAGE";
    case 222: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
    case 500: return "CUDA_ERROR_NOT_FOUND";
    default: return nullptr;
  }
}
CUresult cuGetErrorName(int code, const char** name) {
  *name = error_name(code);
  return *name ? OK : INVALID_VALUE;
}
CUresult cuGetErrorString(int code, const char** text) {
  switch (code) {
    case 100: *text = "no CUDA-capable device is detected"; return OK;
    case 34: *text = "CUDA driver is a stub library"; return OK;
    case 35: *text = "CUDA driver version is insufficient for CUDA runtime version"; return OK;
    default: *text = error_name(code); return *text ? OK : INVALID_VALUE;
  }
}
}
