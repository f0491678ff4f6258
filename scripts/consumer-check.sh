#!/usr/bin/env bash
# Builds and runs a package that depends on NTKit *by version* (Tests/Consumer),
# the way another project would: a clone of this repository's committed HEAD,
# tagged 0.4.0 in that clone, is the dependency. Fails if SwiftPM refuses the
# dependency (e.g. unsafe build flags in a library target) or if the result is wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/ntkit"
git -C "$work/ntkit" tag -f 0.4.0 >/dev/null
mkdir -p "$work/consumer"
cp -R "$root/Tests/Consumer/Sources" "$work/consumer/"
sed "s#@NTKIT_URL@#$work/ntkit#" "$root/Tests/Consumer/Package.swift.in" > "$work/consumer/Package.swift"
cd "$work/consumer"
swift build -q 2>&1 | grep -v '^\[' || true
test -x .build/debug/ntkit-consumer || { echo "consumer-check: the versioned dependency did not build" >&2; exit 1; }
.build/debug/ntkit-consumer "$root/Tests/NTKitTests/Fixtures/golden/01_dense_relu_standard"
echo "consumer-check: 1 passed, 0 failed"
