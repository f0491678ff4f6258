#!/usr/bin/env python3
"""Generates the extra golden cases in this folder (see README.md).

Writes model.json, weights.safetensors (reference.py's own writer: F32/F16/BF16/F64),
inputs.npy (<f4, N(0,1), seeded) for each case, then runs the float64 reference
    reference.py ntk --model model.json --weights weights.safetensors --inputs inputs.npy --mode trace|full --out ntk_{mode}.npy
Run from anywhere:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /work/venv-nt/bin/python make_cases.py [--reference PATH]
"""
import argparse, json, os, subprocess, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def dense(u, **kw): return dict(type="dense", units=u, **kw)
def conv(f, k, **kw): return dict(type="conv2d", filters=f, kernel=k, **kw)
def act(t, **kw): return dict(type=t, **kw)


DENSE_ACTS = {
    "input_shape": [5],
    "parameterization": "ntk",
    "layers": [
        dense(9, w_std=1.3, b_std=0.2), act("softplus"),
        dense(8, w_std=0.9, b_std=0.5), act("silu"),
        dense(7, w_std=1.5, b_std=0.1), act("leaky_relu", alpha=0.2),
        dense(6), act("identity"),
        dense(3, w_std=1.1, b_std=0.05),
    ],
}

CASES = [
    dict(name="a_dense_acts_ntk", spec=DENSE_ACTS, N=10, seed=101, dtype="F32"),
    dict(name="b_dense_acts_f16", spec=DENSE_ACTS, N=8, seed=102, dtype="F16"),
    dict(name="c_dense_acts_bf16", spec=DENSE_ACTS, N=8, seed=103, dtype="BF16"),
    dict(name="d_dense_acts_f64", spec=DENSE_ACTS, N=8, seed=104, dtype="F64"),
    dict(name="e_single_sample", N=1, seed=105, dtype="F32", spec={
        "input_shape": [4], "parameterization": "standard",
        "layers": [dense(11), act("sigmoid"), dense(6), act("tanh"), dense(2)]}),
    dict(name="f_conv_pool_stride_same", N=6, seed=106, dtype="F32", spec={
        "input_shape": [6, 7, 2], "parameterization": "standard",
        "layers": [conv(3, [3, 3]), act("relu"),
                   dict(type="avgpool2d", window=[2, 2], stride=[1, 1]),
                   conv(4, [2, 4], stride=[2, 1], padding="same"), act("tanh"),
                   dict(type="flatten"), dense(2)]}),
    dict(name="g_dense_nobias_middle", N=9, seed=107, dtype="F32", spec={
        "input_shape": [6], "parameterization": "standard",
        "layers": [dense(10), act("tanh"), dense(8, bias=False), act("relu"), dense(2)]}),
    dict(name="h_conv_gelu", N=7, seed=108, dtype="F32", spec={
        "input_shape": [5, 5, 1], "parameterization": "ntk",
        "layers": [conv(4, [3, 3], padding="same", w_std=1.4, b_std=0.3), act("gelu"),
                   dict(type="avgpool2d", window=[2, 2]),
                   conv(3, [2, 2]), act("gelu"),
                   dict(type="flatten"), dense(3, w_std=0.8)]}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default="/work/shared/bench/reference.py")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(a.reference)))
    import reference as ref  # noqa: E402  (write_safetensors, init_params, _round_to)

    for case in CASES:
        if a.only and case["name"] not in a.only:
            continue
        d = os.path.join(HERE, case["name"])
        os.makedirs(d, exist_ok=True)
        spec, dt = case["spec"], case["dtype"]
        rng = np.random.default_rng(case["seed"])
        tensors = ref.params_to_tensors(spec, ref.init_params(spec, rng))
        if dt == "F64":  # values that float32 cannot hold exactly: f32 rounds them, f64 keeps them
            tensors = {k: v.astype(np.float64) + rng.normal(0.0, 1e-4, v.shape) for k, v in tensors.items()}
        else:
            tensors = {k: ref._round_to(dt, v) for k, v in tensors.items()}
        with open(os.path.join(d, "model.json"), "w") as fh:
            json.dump(spec, fh, indent=2)
        ref.write_safetensors(os.path.join(d, "weights.safetensors"), tensors, {k: dt for k in tensors})
        x = rng.normal(0.0, 1.0, (case["N"], *spec["input_shape"])).astype(np.float32)
        np.save(os.path.join(d, "inputs.npy"), x)
        for mode in ("trace", "full"):
            cmd = [sys.executable, a.reference, "ntk", "--model", os.path.join(d, "model.json"),
                   "--weights", os.path.join(d, "weights.safetensors"), "--inputs", os.path.join(d, "inputs.npy"),
                   "--mode", mode, "--out", os.path.join(d, f"ntk_{mode}.npy")]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        if dt == "F64":
            # NTKit keeps F64 weights in float64 (--precision f64), while `reference.py ntk`
            # rounds every weight to float32 first: recompute from the exact weights, in process.
            ref.jax.config.update("jax_enable_x64", True)
            exact = [(tensors[f"layers.{e['index']}.kernel"],
                      tensors.get(f"layers.{e['index']}.bias") if e["bias_shape"] is not None else None)
                     for e in ref.param_layout(spec)]
            tr64, full64 = ref.ntk_from_jacobian(ref.jacobian(spec, exact, x.astype(np.float64)))
            np.save(os.path.join(d, "ntk_trace.npy"), tr64)
            np.save(os.path.join(d, "ntk_full.npy"), full64)
        tr = np.load(os.path.join(d, "ntk_trace.npy"))
        full = np.load(os.path.join(d, "ntk_full.npy"))
        assert np.allclose(np.einsum("iaja->ij", full), tr, rtol=1e-12, atol=0)
        P = sum(v.size for v in tensors.values())
        print(f"{case['name']}: N={case['N']} M={full.shape[1]} P={P} dtype={dt} {out}")


if __name__ == "__main__":
    main()
