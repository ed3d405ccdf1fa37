// A stand-in for NVRTC (libnvrtc.so.13) in the test emulator: it checks the program and the
// options the backend passes and returns PTX text that the emulated driver accepts (the kernels
// themselves are the emulator's host builds). It exercises the run-time compilation path's
// plumbing, not a compiler.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>

namespace {
struct Program {
  std::string source, ptx, log;
};
}  // namespace

extern "C" {
const char* nvrtcGetErrorString(int r) {
  switch (r) {
    case 0: return "NVRTC_SUCCESS";
    case 3: return "NVRTC_ERROR_INVALID_INPUT";
    case 5: return "NVRTC_ERROR_INVALID_OPTION";
    case 6: return "NVRTC_ERROR_COMPILATION";
    default: return "NVRTC_ERROR";
  }
}
int nvrtcCreateProgram(void** prog, const char* src, const char*, int numHeaders, void*, void*) {
  if (!src || numHeaders != 0) return 3;
  *prog = new Program{src, "", ""};
  return 0;
}
int nvrtcCompileProgram(void* prog, int numOptions, const char** options) {
  Program* p = (Program*)prog;
  bool arch = false;
  for (int i = 0; i < numOptions; i++) {
    if (strncmp(options[i], "--gpu-architecture=compute_", 27) == 0) arch = true;
    else if (strcmp(options[i], "--std=c++17") != 0) return 5;
  }
  if (!arch) return 5;
  if (p->source.find("#include") != std::string::npos) {
    p->log = "the source still has #include lines (it must be flattened)";
    return 6;
  }
  p->ptx = "//\n// lrw cuda emulator: stand-in PTX\n//\n.version 8.0\n.target sm_90\n.address_size 64\n";
  return 0;
}
int nvrtcGetPTXSize(void* prog, size_t* size) {
  *size = ((Program*)prog)->ptx.size() + 1;
  return 0;
}
int nvrtcGetPTX(void* prog, char* out) {
  memcpy(out, ((Program*)prog)->ptx.c_str(), ((Program*)prog)->ptx.size() + 1);
  return 0;
}
int nvrtcGetProgramLogSize(void* prog, size_t* size) {
  *size = ((Program*)prog)->log.size() + 1;
  return 0;
}
int nvrtcGetProgramLog(void* prog, char* out) {
  memcpy(out, ((Program*)prog)->log.c_str(), ((Program*)prog)->log.size() + 1);
  return 0;
}
int nvrtcDestroyProgram(void** prog) {
  delete (Program*)*prog;
  *prog = nullptr;
  return 0;
}
}
