#!/usr/bin/env bash
# Runs bench/webgpu.ts on a GPU machine that has no Node, no npm registry and maybe no Vulkan loader (the device
# tool's nvidia-h200: /work/.library/device/README.md). Two steps:
#   bash bench/webgpu-device.sh prepare          here: bundles the benchmark (esbuild), packs Node, Dawn's dawn.node,
#                                                the native addon and its libraries into .gpubench/payload.tar.xz,
#                                                downloads the Vulkan/GL loader .debs into .gpubench/gl, records the commit
#   bash bench/webgpu-device.sh run [ARGS...]    there, with .gpubench carried: installs the loaders (dpkg -x, as root),
#                                                points Vulkan at NVIDIA's ICD, prints nvidia-smi, runs the bundle with
#                                                ARGS (bench:webgpu's; --json-out and a log go to $OUT when set)
# Native runs on AIAYN_THREADS threads (default 2, the project's reference machine). Needs, here: node, npm ci done,
# the native addon built, apt-get; there: bash, tar (or python3), dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.gpubench

prepare() {
  rm -rf "$dir" && mkdir -p "$dir/x/lib" "$dir/x/node_modules/webgpu/dist/linux-x64" "$dir/gl"
  grep -qx "/$dir/" "$(git rev-parse --git-path info/exclude)" 2>/dev/null || echo "/$dir/" >> "$(git rev-parse --git-path info/exclude)"
  npx esbuild bench/webgpu.ts --bundle --platform=node --format=esm --target=node20 --external:webgpu --log-level=warning \
    --outfile="$dir/x/webgpu.mjs"
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$dir/x/node_modules/webgpu/"
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$dir/x/node_modules/webgpu/dist/linux-x64/"
  cp "$(readlink -f "$(command -v node)")" "$dir/x/node"
  cp build/Release/aiayn_native.node "$dir/x/"
  for lib in $(ldd build/Release/aiayn_native.node | awk '/libdnnl|libgomp|libOpenCL/ {print $3}'); do cp -L "$lib" "$dir/x/lib/"; done
  tar -C "$dir" -cf - x | xz -T0 -6 > "$dir/payload.tar.xz" && rm -rf "$dir/x"
  (git rev-parse --short=12 HEAD; git status --porcelain --untracked-files=no | grep -q . && echo -dirty || true) | tr -d '\n' > "$dir/COMMIT"
  local o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64"
  mkdir -p /tmp/amd64/partial && apt-get $o update -qq
  (cd "$dir/gl" && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  du -sh "$dir"/* && echo "carry: [\"$dir\"]; commit $(cat "$dir/COMMIT")"
}

run() {
  [ -f "$dir/payload.tar.xz" ] || { echo "no $dir/payload.tar.xz: run 'bash bench/webgpu-device.sh prepare' here and carry $dir" >&2; exit 1; }
  local x=/tmp/gpubench
  rm -rf "$x" && mkdir -p "$x"
  tar -C "$x" -xJf "$dir/payload.tar.xz" 2>/dev/null ||
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$dir/payload.tar.xz" "$x"
  if ! ldconfig -p | grep -q libvulkan.so.1; then for f in "$dir"/gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then
    export VK_DRIVER_FILES=$icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>/dev/null || echo "nvidia-smi: not found"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; libvulkan: $(ldconfig -p | grep -m1 libvulkan.so.1 || echo missing)"
  local out=${OUT:-/tmp}
  export AIAYN_COMMIT; AIAYN_COMMIT=$(cat "$dir/COMMIT")
  export AIAYN_NATIVE_PATH=$x/x/aiayn_native.node AIAYN_THREADS=${AIAYN_THREADS:-2}
  export LD_LIBRARY_PATH=$x/x/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  set -o pipefail
  "$x/x/node" "$x/x/webgpu.mjs" --json-out "$out/webgpu-bench.json" "$@" 2>&1 | tee "$out/webgpu-bench.log"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/webgpu-device.sh prepare | run [bench:webgpu args]" >&2; exit 2 ;;
esac
