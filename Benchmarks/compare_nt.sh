#!/usr/bin/env bash
# NTKit vs neural-tangents (implementation 3) on the CPU issue's nets, in one run.
# `ntk gram` is timed as a whole process (load, compute, write to tmpfs) with
# its peak RSS, best of 3 runs (each printed); neural-tangents' compiled call
# is timed by nt_bench.py (best of ≥ 3, compile excluded). Usage: Benchmarks/compare_nt.sh [VENV_PYTHON] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-/work/venv-nt/bin/python}
SHARED=${2:-../shared}
NTK=.build/release/ntk
OUT=${TMPDIR:-/tmp}/ntk-compare-$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT" /dev/shm/ntk-compare-$$.npy' EXIT
nt() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$SHARED/bench/nt_bench.py" "$@" 2>/dev/null | tail -1; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), NTKIT_ISA=${NTKIT_ISA:-default}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
$NTK bench --nets fuel --sizes 256 --gemm-size 4096 | grep -i "^sgemm"
echo "numpy sgemm 4096 and jax matmul 4096 (neural-tangents venv): $(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$SHARED/bench/nt_bench.py" matmul 2>/dev/null | tr -d "\n " | grep -oE "\"(sgemm_4096|jax_matmul_4096)_gflops\":[0-9.]+" | tr "\n" " ")"
for spec in "fuel_8_128_128_1 dense_fuel 16384 8" "mnist_dense_784_128_128_10 dense_mnist 4096 784" "conv_mnist conv_mnist 2048 28,28,1"; do
  set -- $spec
  "$PY" -c "import numpy as np; s=tuple(int(v) for v in '$4'.split(',')); np.save('$OUT/x.npy', np.random.default_rng(1).normal(size=($3,)+s).astype(np.float32))"
  # Three whole-process runs (the peer's figure is its best of >= 3 calls),
  # each timed to the microsecond with its peak RSS. Before each, the previous
  # output is removed, untimed (replacing it would charge freeing its pages,
  # up to 1 GiB, to this process), and the previous process (a peer holds up
  # to 6.8 GB) gets two seconds to be torn down. The first run is printed too:
  # right after a large process exits, this VM's first touches of memory cost
  # up to 1.3x more (freed pages go back to the host).
  read wall runs rss compute <<EOF2
$("$PY" - "$NTK" "$1" "$OUT" /dev/shm/ntk-compare-$$.npy <<'PYEOF'
import json, os, subprocess, sys, time
ntk, model, out, target = sys.argv[1:5]
runs = []
for _ in range(3):
    if os.path.exists(target): os.remove(target)
    time.sleep(2)
    t0 = time.perf_counter()
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f"{out}/time", ntk, "gram", "--model", f"Benchmarks/models/{model}.model.json",
                    "--seed", "0", "--inputs", f"{out}/x.npy", "--out", target, "--json"], check=True, stdout=open(f"{out}/json", "w"))
    wall = time.perf_counter() - t0
    runs.append((wall, int(open(f"{out}/time").read().split()[-1]), json.load(open(f"{out}/json"))["seconds"]))
best = min(runs)
print(f"{best[0]:.3f} {'/'.join(f'{r[0]:.3f}' for r in runs)} {max(r[1] for r in runs)} {best[2]:.3f}")
PYEOF
)
EOF2
  ntj=$(nt one $2 $3 nt3)
  ntbest=$("$PY" -c "import json,sys; d=json.loads(sys.argv[1]); print(round(d['best_s'],3), round(d['peak_rss_gb'],2), round(d['best_s'] / $wall, 2), round(d['best_s'] / float('$runs'.split('/')[0]), 2))" "$ntj")
  set -- $2 $3 $ntbest
  echo "$1 N=$2: ntk gram whole process best of 3 ${wall} s (runs ${runs} s; compute ${compute} s), peak RSS $((rss / 1024)) MiB; neural-tangents nt3 best $3 s, peak RSS $4 GB; ratio $5× (first run: $6×)"
done
