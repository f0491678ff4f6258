#!/usr/bin/env python3
"""Python overhead of ntkit.ntk over the engine's own compute time.

For the MNIST dense net (784-128-128-10, Benchmarks/models/) at N = 4096, float32,
trace mode, CPU: times the whole `ntkit.ntk(...)` call from Python (argument
conversion, parameter packing, the C call in a worker thread, result) and compares
it with the `seconds` the engine reports for its own NTK computation (the same
figure `ntk gram --verbose` prints). The numpy sgemm rate of the same run is
printed as the machine's reference. Not a test: run it by hand.

    NTKIT_LIBRARY=.build-py/release/libntkit_c.so .venv-py/bin/python Benchmarks/python_overhead.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import ntkit  # noqa: E402


def sgemm_gflops(n: int = 2048) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(3))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default=str(ROOT / "Benchmarks" / "models" / "mnist_dense_784_128_128_10.model.json"))
    args = ap.parse_args()

    model = ntkit.Model(args.model)
    params = model.init(seed=0)
    # The bundled MNIST images (uint8 NHWC), fed as x / 255 in float32 prepared up front.
    x = (np.load(ROOT / "Data" / "mnist_x.npy")[:args.n].astype(np.float32) / 255).reshape(args.n, *model.input_shape)
    ntkit.ntk(model, params, x[:64], device="cpu")  # warm-up: library load, thread pools
    rows = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        K, info = ntkit.ntk(model, params, x, device="cpu", return_info=True)
        wall = time.perf_counter() - t
        rows.append((wall, info["seconds"]))
        del K
    print(f"library: {ntkit._lib.library_path()}")
    print(f"model: {args.model} (P = {model.parameter_count}), N = {args.n}, float32 trace NTK on the CPU")
    for wall, engine in rows:
        print(f"  python call {wall:.4f} s  engine {engine:.4f} s  overhead {wall - engine:.4f} s "
              f"({100 * (wall - engine) / engine:.2f} %)")
    walls, engines = np.array(rows).T
    overheads = walls - engines
    med = float(np.median(overheads / engines))
    print(f"median overhead: {np.median(overheads) * 1e3:.1f} ms = {100 * med:.2f} % of the engine time "
          f"(median engine {np.median(engines):.3f} s); goal < 5 %")
    print(f"numpy sgemm 2048^3 in this run: {sgemm_gflops():.1f} GFLOP/s")


if __name__ == "__main__":
    main()
