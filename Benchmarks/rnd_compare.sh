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
for isa in "" avx2; do
  for i in 1 2 3 4 5; do NTKIT_ISA=$isa /usr/bin/time -f "ntk select 50 of 1000${isa:+ (NTKIT_ISA=$isa)}, whole process: %e s" $NTK select --pool "$TMP/p1k.npy" --size 50 --model "$TMP/peer.json" --out "$TMP/i.npy" >/dev/null; done
done
# Idle spinning: OpenBLAS's pool is parked, so a selection makes (almost) no sched_yield calls.
if command -v strace >/dev/null; then
  strace -f -c -e trace=sched_yield $NTK select --pool "$TMP/p1k.npy" --size 50 --model "$TMP/peer.json" --out "$TMP/i.npy" 2>&1 >/dev/null \
    | awk '/sched_yield/ && $NF == "sched_yield" {print "sched_yield calls during ntk select 50 of 1000: " $(NF-1)}'
fi
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$PEER" select --pool-size 1000 --size 50
for N in 10000 100000 1000000; do env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$PEER" step --pool-size $N; done
rm -rf "$TMP"
