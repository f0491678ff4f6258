#!/usr/bin/env python3
"""Float64 fixtures for Float64Tests: weights (F64 safetensors) and inputs
(<f8 npy, and a CSV with 17 significant digits) that float32 cannot represent,
with the plain-JAX float64 reference (shared/bench/reference.py, jax_enable_x64)
of the outputs, the Jacobian, the trace and full NTK and the collective variables.

    python make_f64.py /path/to/shared/bench/reference.py

Rerun only to regenerate; the tests read the files, not this script.
"""
import json
import os
import sys
import importlib.util

import numpy as np

spec_path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/bench/reference.py"
s = importlib.util.spec_from_file_location("reference", spec_path)
ref = importlib.util.module_from_spec(s)
s.loader.exec_module(ref)
ref.jax.config.update("jax_enable_x64", True)

CASES = {
    "dense": {
        "input_shape": [3], "parameterization": "ntk",
        "layers": [
            {"type": "dense", "units": 5, "w_std": 1.3, "b_std": 0.7},
            {"type": "tanh"},
            {"type": "dense", "units": 4, "bias": False, "w_std": 0.9},
            {"type": "gelu"},
            {"type": "dense", "units": 2, "b_std": 0.3},
        ],
    },
    "conv": {
        "input_shape": [5, 5, 2], "parameterization": "standard",
        "layers": [
            {"type": "conv2d", "filters": 3, "kernel": [2, 2], "padding": "same"},
            {"type": "silu"},
            {"type": "avgpool2d", "window": [2, 2]},
            {"type": "flatten"},
            {"type": "dense", "units": 2},
        ],
    },
}

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261202)
for name, spec in CASES.items():
    layout = ref.param_layout(spec)
    params = []
    for e in layout:
        sd = 1.0 if spec["parameterization"] == "ntk" else 1.0 / np.sqrt(e["fan_in"])
        k = rng.normal(0.0, sd, e["kernel_shape"])
        b = rng.normal(0.0, 0.5, e["bias_shape"]) if e["bias_shape"] else None
        params.append((k, b))
    x = rng.normal(0.0, 1.0, [4] + spec["input_shape"])
    # Not float32-representable: the float32 rounding differs by ~1e-8 relative.
    assert np.all(x.astype(np.float32).astype(np.float64) != x)
    tensors = ref.params_to_tensors(spec, params)
    with open(os.path.join(here, f"{name}.model.json"), "w") as fh:
        json.dump(spec, fh, indent=1)
    ref.write_safetensors(os.path.join(here, f"{name}.f64.safetensors"), tensors,
                          dtypes={k: "F64" for k in tensors})
    np.save(os.path.join(here, f"{name}.inputs.npy"), x)
    out = np.asarray(ref.apply(spec, params, ref.jnp.asarray(x)))
    J = ref.jacobian(spec, params, x)
    trace, full = ref.ntk_from_jacobian(J)
    cv = ref.collective_variables(trace)
    np.save(os.path.join(here, f"{name}.forward.npy"), out)
    np.save(os.path.join(here, f"{name}.jacobian.npy"), J)
    np.save(os.path.join(here, f"{name}.ntk_trace.npy"), trace)
    np.save(os.path.join(here, f"{name}.ntk_full.npy"), full)
    full_cv = ref.collective_variables(full.reshape(full.shape[0] * full.shape[1], -1))
    with open(os.path.join(here, f"{name}.cv.json"), "w") as fh:
        json.dump({"trace": cv["trace"], "entropy": cv["entropy"], "lambda_max": cv["lambda_max"],
                   "full_trace": full_cv["trace"], "full_entropy": full_cv["entropy"],
                   "full_lambda_max": full_cv["lambda_max"]}, fh, indent=1)
    if len(spec["input_shape"]) == 1:
        with open(os.path.join(here, f"{name}.inputs.csv"), "w") as fh:
            fh.write(",".join(f"x{i}" for i in range(x.shape[1])) + "\n")
            for row in x:
                fh.write(",".join(repr(float(v)) for v in row) + "\n")
    print(name, "P =", J.shape[2], "outputs", out.shape)
