#!/bin/sh
# Fuzzes NTKit's parsers (npy, safetensors, model spec JSON, CSV) with libFuzzer
# (issue 16): builds an instrumented NTKit (`-sanitize=fuzzer`) into .build-fuzz,
# links Tests/Fuzz/NTKitFuzz.swift against it, and runs each parser from the
# seed corpus in Tests/Fuzz/corpus.
#
#   scripts/fuzz.sh               10⁶ executions per parser (the reliability figure)
#   scripts/fuzz.sh --runs N      N executions per parser
#   scripts/fuzz.sh --seconds S   S seconds per parser (make test: a short pass)
#
# Prints one line per parser: executions, crashes (a crash stops libFuzzer and
# leaves crash-* in .build-fuzz/findings), and exits 1 on any crash.
set -eu
cd "$(dirname "$0")/.."
limit="-runs=1000000"
case "${1:-}" in
  --runs) limit="-runs=$2" ;;
  --seconds) limit="-max_total_time=$2" ;;
  "") ;;
  *) echo "usage: scripts/fuzz.sh [--runs N | --seconds S]" >&2; exit 2 ;;
esac
B=.build-fuzz
swift build --build-path "$B" -c release -Xswiftc -sanitize=fuzzer --target NTKit >"$B.log" 2>&1 || { cat "$B.log" >&2; exit 1; }
R="$B/release"
# Swift objects of this build only (a stale .o of a file since moved would clash), then the C ones.
swift_objects() {
  grep -o '"object": *"[^"]*"' "$R/$1.build/output-file-map.json" | sed 's/.*: *"//; s/"$//' | while read -r o; do
    [ -f "$o" ] && echo "$o"
  done
}
objects="$(swift_objects NTKitIO) $(swift_objects NTKit) $(swift_objects NTKitKernels) $(find "$R/CNTKitCPU.build" "$R/CFastMLP.build" "$R/CNTKitSafety.build" "$R/CNTKitBLAS.build" -name '*.o' | sort)"
if [ ! -x "$B/ntk-fuzz" ] || [ -n "$(find Tests/Fuzz/NTKitFuzz.swift $objects -newer "$B/ntk-fuzz" | head -1)" ]; then
  swiftc -O -sanitize=fuzzer -parse-as-library -module-name NTKitFuzz Tests/Fuzz/NTKitFuzz.swift \
    -I "$R/Modules" -I "$R" -I Sources/COpenBLAS -I Sources/COpenCL \
    -I Sources/CNTKitCPU/include -I Sources/CFastMLP/include -I Sources/CNTKitSafety/include \
    -I Sources/CNTKitBLAS/include $objects -lOpenCL -o "$B/ntk-fuzz"
fi
mkdir -p "$B/findings"
status=0
for t in npy safetensors spec csv; do
  work="$B/corpus-$t"
  mkdir -p "$work"
  log="$B/fuzz-$t.log"
  if NTK_FUZZ_TARGET=$t "$B/ntk-fuzz" $limit -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$B/findings/$t-" -print_final_stats=1 "$work" "Tests/Fuzz/corpus/$t" >"$log" 2>&1; then
    crashes=0
  else
    crashes=1
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz $t: $runs executions, $crashes crashes$( [ $crashes = 0 ] || echo " (see $log and $B/findings)")"
done
exit $status
