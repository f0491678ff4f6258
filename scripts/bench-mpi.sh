#!/usr/bin/env bash
# Overhead of ntk-mpi against ntk on one machine (issue 11), whole processes,
# release builds, repeated; prints every run and the best of each.
#   gram:   Fuel net 8-128-128-1 (Benchmarks/models), N = 16384, trace, f32
#   select: RND, 100 picks from a 10^6 × 8 pool
# Usage: scripts/bench-mpi.sh [repeats=3] [ranks=2]   (after make release and
# swift build -c release --product ntk-mpi --static-swift-stdlib)
set -euo pipefail
repeats=${1:-3}
ranks=${2:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import array, random, struct, sys
def save(path, rows, cols, seed):
    rng = random.Random(seed)
    data = array.array('f', (rng.gauss(0, 1) for _ in range(rows * cols)))
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += ' ' * (63 - (10 + len(header)) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + data.tobytes())
save(sys.argv[1] + '/x.npy', 16384, 8, 0)
save(sys.argv[1] + '/pool.npy', 1000000, 8, 1)
PY
echo "CPU: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
model=Benchmarks/models/fuel_8_128_128_1.model.json
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
g1=(); g2=(); s1=(); s2=()
for r in $(seq "$repeats"); do
  g1+=("$(secs .build/release/ntk gram --model $model --seed 0 --inputs "$dir/x.npy" --device cpu --out "$dir/k1.npy")")
  g2+=("$(secs mpirun -q -n "$ranks" .build/release/ntk-mpi gram --model $model --seed 0 --inputs "$dir/x.npy" --out "$dir/k2.npy")")
  s1+=("$(secs .build/release/ntk select --pool "$dir/pool.npy" --size 100 --seed 0 --out "$dir/p1.npy")")
  s2+=("$(secs mpirun -q -n "$ranks" .build/release/ntk-mpi select --pool "$dir/pool.npy" --size 100 --seed 0 --out "$dir/p2.npy")")
  echo "run $r: gram ntk ${g1[-1]} s, ntk-mpi -n $ranks ${g2[-1]} s; select ntk ${s1[-1]} s, ntk-mpi -n $ranks ${s2[-1]} s"
  cmp -s "$dir/p1.npy" "$dir/p2.npy" || { echo "picks differ" >&2; exit 1; }
done
bg1=$(best "${g1[@]}"); bg2=$(best "${g2[@]}"); bs1=$(best "${s1[@]}"); bs2=$(best "${s2[@]}")
echo "best: gram ntk $bg1 s, ntk-mpi $bg2 s (ratio $(echo "scale=2; $bg2 / $bg1" | bc)); select ntk $bs1 s, ntk-mpi $bs2 s (ratio $(echo "scale=2; $bs2 / $bs1" | bc))"
