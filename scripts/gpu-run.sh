#!/usr/bin/env bash
# gpu-run.sh — run ON the device machine (no Swift there): unpack the bundle
# made by scripts/gpu-bundle.sh, point the loader at the unpacked libraries,
# make sure the NVIDIA OpenCL ICD is registered, and time `ntk` on the GPU.
# Results (text and JSON) go to $OUT (default ./gpu-out).
#
#   bash scripts/gpu-run.sh            # in the repository root, dist/ and gpu-libs/ carried
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$(pwd)/gpu-out}
mkdir -p "$out"
work=$(mktemp -d)
log() { echo "$*" | tee -a "$out/summary.txt"; }

# 1. The binary and its libraries.
[ -f dist/ntk.xz ] || { echo "dist/ntk.xz missing: run scripts/gpu-bundle.sh on the build machine" >&2; exit 1; }
xz -dc dist/ntk.xz > "$work/ntk" && chmod +x "$work/ntk"
mkdir -p "$work/libs" "$work/fallback"
for deb in gpu-libs/*.deb; do dpkg -x "$deb" "$work/libs"; done
lib=$work/libs/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH="$lib/openblas-pthread:$lib:$work/libs/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ldd "$work/ntk" | grep -q "not found"; then
  # Only what the machine lacks (libstdc++, libgcc_s), after its own libraries.
  for deb in gpu-libs/fallback/*.deb; do [ -f "$deb" ] && dpkg -x "$deb" "$work/fallback"; done
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$work/fallback/usr/lib/x86_64-linux-gnu:$work/fallback/lib/x86_64-linux-gnu"
fi
ldd "$work/ntk" > "$out/ldd.txt" 2>&1
if grep -q "not found" "$out/ldd.txt"; then log "missing libraries:"; grep "not found" "$out/ldd.txt" | tee -a "$out/summary.txt"; fi
ntk="$work/ntk"

# 2. The GPU and its OpenCL driver.
log "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$work/pocl-cache}
"$ntk" devices > "$out/devices.txt" 2>&1
if ! grep -qi nvidia "$out/devices.txt"; then
  # The loader lists no NVIDIA platform: register the driver's ICD ourselves.
  mkdir -p "$work/vendors"
  echo "libnvidia-opencl.so.1" > "$work/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$work/vendors"
  log "registered the NVIDIA ICD in $OCL_ICD_VENDORS (libnvidia-opencl.so.1)"
  "$ntk" devices > "$out/devices.txt" 2>&1
fi
cat "$out/devices.txt" | tee -a "$out/summary.txt"
"$ntk" devices --json > "$out/devices.json" 2>&1

# 3. Timings: our GEMM at 4096³ and the Fuel trace NTK at N = 16384, strict
#    maths and fast-relaxed maths, each with the device peak beside it.
for fm in "" "--fast-math"; do
  tag=${fm:+-fastmath}
  log "== ntk bench --device opencl --nets fuel --sizes 16384 --gemm-size 4096 $fm"
  timeout 150 "$ntk" bench --device opencl --nets fuel --sizes 16384 --gemm-size 4096 --repeats 2 $fm \
    > "$out/bench$tag.txt" 2> "$out/bench$tag.err"
  log "exit $?"; cat "$out/bench$tag.txt" "$out/bench$tag.err" | tee -a "$out/summary.txt"
done
timeout 100 "$ntk" bench --device opencl --nets fuel --sizes 16384 --gemm-size 4096 --json \
  > "$out/bench.json" 2> "$out/bench-json.err"

# 4. RND pool-distance step, when this build has it.
if "$ntk" bench --help 2>&1 | grep -q -- "--rnd"; then
  log "== ntk bench --device opencl --rnd"
  timeout 100 "$ntk" bench --device opencl --rnd > "$out/bench-rnd.txt" 2>&1
  log "exit $?"; cat "$out/bench-rnd.txt" | tee -a "$out/summary.txt"
else
  log "(ntk bench has no --rnd in this build: RND step timing skipped)"
fi
rm -rf "$work"
log "results in $out"
