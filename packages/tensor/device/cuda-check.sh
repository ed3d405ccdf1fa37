#!/usr/bin/env bash
# The GPU check of the cuda backend, in one command on a machine with an NVIDIA GPU (the device
# machine: CUDA, PyTorch, python3, no Node). Prepare here first (bash
# packages/tensor/device/prepare.sh), carry .device, then from the repository root:
#
#   bash packages/tensor/device/cuda-check.sh
#
# It runs, writing logs and JSON under $OUT (default ./out/cuda-check):
#  - packages/tensor/device/cuda-check.mjs: backend start-up, the conformance suite twice (fused
#    and composed), kernel paths vs the CPU, matmul 4096^3 fp32/TF32 vs torch.matmul and WebGPU;
#  - packages/trainer/device/cuda-training-check.mjs: gpt2-nano training parity vs the CPU,
#    resume on cuda, GPT-2 124M tokens/s (B 8, T 1024) fp32/TF32 vs PyTorch eager and WebGPU;
# then prints the summary. Expected 3-6 minutes on an H100 (each half is capped: 4 and 5
# minutes); give the device tool a timeout_s of 600. Exit status: 0 all passed, 1 a check
# failed, 2 this machine cannot run it (no GPU, nothing prepared). LRW_CUDA_CHECK_ARGS is passed
# to both drivers (e.g. --small for a dry run on the CPU emulator of the driver).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT="${OUT:-$PWD/out/cuda-check}"
mkdir -p "$OUT"
say() { echo "cuda-check: $*"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  say "no NVIDIA GPU here (nvidia-smi is missing or lists no GPU): this check runs on a GPU machine; nothing was run."
  exit 2
fi
if [ ! -f .device/node.xz ] || [ ! -f .device/payload.tar.xz ]; then
  say ".device/node.xz or .device/payload.tar.xz is missing: run bash packages/tensor/device/prepare.sh on the build machine and carry .device."
  exit 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee "$OUT/nvidia-smi.csv"

xz -dc .device/node.xz >/tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
tar -xJf .device/payload.tar.xz
for f in .device/*.deb; do [ -f "$f" ] && dpkg -x "$f" / && ldconfig 2>/dev/null; done
icd=$(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -name 'nvidia_icd*.json' 2>/dev/null | head -1)
[ -n "$icd" ] && export VK_DRIVER_FILES="$icd"

# cuBLAS and NVRTC from PyTorch's nvidia wheels (searched first), then the toolkit.
wheel_libs=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
dirs = []
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    for lib in glob.glob(os.path.join(sp, 'nvidia', '*', 'lib')):
        if glob.glob(os.path.join(lib, 'libcublas.so.*')) or glob.glob(os.path.join(lib, 'libnvrtc.so.*')):
            dirs.append(lib)
print(':'.join(dirs))
PY
)
export LRW_CUDA_LIB_DIR="${LRW_CUDA_LIB_DIR:+$LRW_CUDA_LIB_DIR:}${wheel_libs}"
say "node $(node --version); LRW_CUDA_LIB_DIR=$LRW_CUDA_LIB_DIR"

status=0
timeout 240 node packages/tensor/device/cuda-check.mjs --out "$OUT" ${LRW_CUDA_CHECK_ARGS:-} 2>&1 | tee "$OUT/tensor.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
timeout 300 node packages/trainer/device/cuda-training-check.mjs --out "$OUT" ${LRW_CUDA_CHECK_ARGS:-} 2>&1 | tee "$OUT/training.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

echo
echo "==== cuda-check summary ($(date -u +%FT%TZ)) ===="
grep -h '^summary:' "$OUT/tensor.log" "$OUT/training.log" | sed 's/^summary: /  /'
say "results in $OUT (tensor.json, training.json, *.log); exit $status"
exit $status
