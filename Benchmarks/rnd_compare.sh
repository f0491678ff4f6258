#!/bin/sh
# RND speed against the JAX peer, in one run (release binary; quiet machine).
# Usage: Benchmarks/rnd_compare.sh [VENV_PYTHON]
set -e
PY=${1:-/work/venv-nt/bin/python}
NTK=.build/release/ntk
PEER=../shared/bench/rnd_jax.py
[ -f "$PEER" ] || PEER=/work/shared/bench/rnd_jax.py
TMP=$(mktemp -d)
$NTK bench --make-pool 1000 --out "$TMP/p1k.npy" >/dev/null
cat > "$TMP/peer.json" <<'J'
{"input_shape": [8], "parameterization": "standard", "layers": [{"type": "dense", "units": 32}, {"type": "relu"}, {"type": "dense", "units": 32}, {"type": "relu"}, {"type": "dense", "units": 32}, {"type": "relu"}, {"type": "dense", "units": 1}]}
J
$NTK bench --rnd --rnd-pools 10000,100000,1000000
NTKIT_ISA=avx2 $NTK bench --rnd --rnd-pools 1000000 | tail -2 | sed 's/^/NTKIT_ISA=avx2: /'
# Whole processes, 20 runs each, timed to the microsecond (/usr/bin/time rounds to 10 ms).
for isa in "" avx2; do
  NTKIT_ISA=$isa "$PY" - "$NTK" "$TMP" "${isa:-default}" <<'PYEOF'
import subprocess, sys, time
ntk, tmp, isa = sys.argv[1:4]
cmd = [ntk, "select", "--pool", f"{tmp}/p1k.npy", "--size", "50", "--model", f"{tmp}/peer.json", "--out", f"{tmp}/i.npy"]
runs = []
for _ in range(20):
    t0 = time.perf_counter(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL); runs.append(time.perf_counter() - t0)
runs.sort()
print(f"ntk select 50 of 1000 (NTKIT_ISA={isa}), whole process, 20 runs: min {runs[0]:.4f} s, median {runs[10]:.4f} s")
PYEOF
done
# Idle spinning: OpenBLAS's pool is parked, so a selection makes (almost) no sched_yield calls.
if command -v strace >/dev/null; then
  strace -f -c -e trace=sched_yield $NTK select --pool "$TMP/p1k.npy" --size 50 --model "$TMP/peer.json" --out "$TMP/i.npy" 2>&1 >/dev/null \
    | awk '/sched_yield/ && $NF == "sched_yield" {print "sched_yield calls during ntk select 50 of 1000: " $(NF-1)}'
fi
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$PEER" select --pool-size 1000 --size 50
for N in 10000 100000 1000000; do env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$PEER" step --pool-size $N; done
rm -rf "$TMP"
