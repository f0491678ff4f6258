#!/usr/bin/env bash
# gpu-bundle.sh — prepare an `ntk` for a machine without Swift (the GPU device
# machine): a release binary with the Swift runtime linked in, stripped and
# xz-compressed into dist/, plus the shared libraries it needs as Debian
# packages in gpu-libs/ (both folders are git-ignored). Run from anywhere on
# the build machine; then carry dist/ and gpu-libs/ and run scripts/gpu-run.sh
# there (clarifications.md "OpenCL backend", platform.md).
#
# The libraries are the binary's non-Swift dependencies: the OpenCL ICD
# loader (`ldd dist/ntk`), and OpenBLAS (also provides libblas.so.3 /
# liblapack.so.3 in its openblas-pthread/ folder), LAPACKE (+ libtmglib3,
# liblapack3), gfortran and quadmath, which `ntk` dlopen()s on first use
# (CNTKitBLAS; `ntk devices` below loads them). libstdc++/libgcc_s go to
# gpu-libs/fallback/: gpu-run.sh uses them only if the device machine lacks
# them, since an older libstdc++ ahead of the system's could break the
# NVIDIA driver's own libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "== release build (static Swift runtime)"
swift build -c release --static-swift-stdlib --product ntk
bin=$(swift build -c release --static-swift-stdlib --product ntk --show-bin-path)/ntk

mkdir -p dist
cp "$bin" dist/ntk
strip dist/ntk
echo "== dist/ntk: $(du -h dist/ntk | cut -f1) stripped"
echo "-- ldd dist/ntk"
ldd dist/ntk | sed 's/ (0x.*//'
if ldd dist/ntk | grep -qiE 'icu|FoundationInternationalization'; then
  echo "warning: the binary links ICU (Foundation imported somewhere); expect +34 MB" >&2
fi
xz -T0 -9 -k -f dist/ntk
echo "== dist/ntk.xz: $(du -h dist/ntk.xz | cut -f1)"

echo "== Debian packages into gpu-libs/"
mkdir -p gpu-libs/fallback
chmod 777 gpu-libs gpu-libs/fallback 2>/dev/null || true   # apt's _apt user writes here
(cd gpu-libs && rm -f ./*.deb && apt-get download \
  libopenblas0-pthread liblapack3 liblapacke libtmglib3 libgfortran5 libquadmath0 ocl-icd-libopencl1)
(cd gpu-libs/fallback && rm -f ./*.deb && apt-get download libstdc++6 libgcc-s1)
ls -la gpu-libs gpu-libs/fallback
echo "== carry: dist/ntk.xz ($(du -h dist/ntk.xz | cut -f1)) + gpu-libs/ ($(du -sh gpu-libs | cut -f1)) + scripts/gpu-run.sh"
echo "   on the device: bash scripts/gpu-run.sh"

# Local check: unpack the packages the way gpu-run.sh does and run the copy.
check=$(mktemp -d)
for deb in gpu-libs/*.deb; do dpkg -x "$deb" "$check"; done
libs="$check/usr/lib/x86_64-linux-gnu/openblas-pthread:$check/usr/lib/x86_64-linux-gnu:$check/lib/x86_64-linux-gnu"
echo "-- ldd with LD_LIBRARY_PATH at the unpacked packages"
LD_LIBRARY_PATH=$libs ldd dist/ntk | sed 's/ (0x.*//'
LD_LIBRARY_PATH=$libs ./dist/ntk devices
rm -rf "$check"
echo "== bundle ready ($root/dist, $root/gpu-libs)"
