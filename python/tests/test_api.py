"""The Python surface itself: determinism, round trips, no-copy outputs, Ctrl-C, docs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ntkit
from conftest import GOLDEN, PYTHON_DIR, REPO

FUEL = REPO / "Models" / "fuel_table_a1.model.json"


def test_same_seed_same_result():
    model = ntkit.Model(FUEL)
    a, b, c = model.init(seed=4), model.init(seed=4), model.init(seed=5)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layers.0.kernel"], c["layers.0.kernel"])
    x = np.random.default_rng(0).standard_normal((20, 7))
    np.testing.assert_array_equal(ntkit.ntk(model, None, x, seed=4, device="cpu"),
                                  ntkit.ntk(model, a, x, device="cpu"))


def test_weights_round_trip(tmp_path):
    model = ntkit.Model(FUEL)
    params = model.init(seed=1)
    ntkit.save_weights(tmp_path / "w.safetensors", params)
    back = ntkit.load_weights(tmp_path / "w.safetensors")
    assert sorted(back) == sorted(params) == sorted(model.tensors)
    for k in params:
        assert back[k].dtype == np.float32 and back[k].shape == model.tensors[k]
        np.testing.assert_array_equal(back[k], params[k])
    from safetensors.numpy import load_file
    official = load_file(str(tmp_path / "w.safetensors"))
    assert all(np.array_equal(official[k], params[k]) for k in params)


def test_model_from_dict_json_text_and_path_agree(tmp_path):
    spec = {"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel": [3, 3]}, {"type": "relu"},
                                                {"type": "flatten"}, {"type": "dense", "units": 3}]}
    a = ntkit.Model(spec)
    a.save(tmp_path / "m.model.json")
    b = ntkit.Model(tmp_path / "m.model.json")
    c = ntkit.Model(open(tmp_path / "m.model.json").read())
    assert a.tensors == b.tensors == c.tensors == {"layers.0.kernel": (3, 3, 1, 2), "layers.0.bias": (2,),
                                                   "layers.3.kernel": (8, 3), "layers.3.bias": (3,)}
    assert (a.outputs, a.parameter_count, a.input_shape) == (3, 47, (4, 4, 1))
    x = np.random.default_rng(1).random((5, 4, 4, 1), dtype=np.float32)
    p = a.init(seed=2)
    # Flattened inputs are accepted too; uint8 means x / 255.
    np.testing.assert_array_equal(ntkit.forward(a, p, x), ntkit.forward(b, p, x.reshape(5, 16)))
    u8 = (x * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(ntkit.forward(a, p, u8), ntkit.forward(a, p, u8.astype(np.float32) / 255))


def test_jacobian_contracts_to_the_ntk():
    d = GOLDEN / "04_cnn_tiny_digits"
    model = ntkit.Model(d / "model.json")
    params = ntkit.load_weights(d / "weights.safetensors")
    x = np.load(d / "inputs.npy")[:6]
    J = ntkit.jacobian(model, params, x, precision="f64", device="cpu")
    full = np.einsum("iap,jbp->iajb", J, J)
    K = ntkit.ntk(model, params, x, mode="full", precision="f64", device="cpu")
    np.testing.assert_allclose(K, full, rtol=1e-10, atol=1e-12 * np.abs(full).max())
    blocks = model.unflatten(J[0, 0])
    assert {k: v.shape for k, v in blocks.items()} == model.tensors


def test_train_with_labels_and_test_set():
    rng = np.random.default_rng(3)
    spec = {"input_shape": [4], "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 3}]}
    x = rng.standard_normal((60, 4)).astype(np.float32)
    labels = np.argmax(x[:, :3], axis=1)
    w, h = ntkit.train(spec, None, x, labels, epochs=40, lr=0.02, test=(x[:20], labels[:20]), device="cpu")
    assert set(h) == {"epoch", "train_loss", "test_loss", "seconds", "train_accuracy", "test_accuracy"}
    assert h["test_accuracy"][-1] > 0.6 and h["train_loss"][-1] < h["train_loss"][0]
    w2, _ = ntkit.train(spec, None, x, labels, epochs=40, lr=0.02, device="cpu")
    assert all(np.array_equal(w[k], w2[k]) for k in w)


def test_ntk_reports_engine_time():
    model = ntkit.Model(FUEL)
    K, info = ntkit.ntk(model, None, np.zeros((10, 7)), device="cpu", return_info=True)
    assert K.shape == (10, 10) and info["device"] == "cpu" and info["seconds"] >= 0
    assert info["strategies"] and info["tiles"] >= 1


def test_select_report_and_threshold():
    pool = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    idx, info = ntkit.select(pool, 5, return_info=True)
    assert len(set(idx.tolist())) == 5 and [i for s in info["steps"] for i in s["indices"]] == idx.tolist()
    early = ntkit.select(pool, 20, threshold=1e9)
    assert len(early) < 20  # the first step's largest distance is already below δ


def test_collective_variables_lanczos():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((60, 60))
    K = a @ a.T
    exact = ntkit.collective_variables(K)
    top = ntkit.collective_variables(K.astype(np.float32), method="lanczos", top_k=4)
    assert top["entropy"] is None and len(top["eigenvalues"]) == 4
    assert top["lambda_max"] == pytest.approx(exact["lambda_max"], rel=1e-4)
    assert exact["trace"] == pytest.approx(np.trace(K), rel=1e-12)


def test_help_is_documented():
    for fn in (ntkit.ntk, ntkit.forward, ntkit.jacobian, ntkit.select, ntkit.train, ntkit.from_flax,
               ntkit.collective_variables, ntkit.load_weights, ntkit.save_weights, ntkit.Model):
        assert fn.__doc__ and len(fn.__doc__) > 80, fn
    assert "summed" in ntkit.ntk.__doc__ and "memory_budget" in ntkit.ntk.__doc__


def test_ctrl_c_raises_keyboard_interrupt_and_the_interpreter_survives():
    """A SIGINT during a long ntkit.ntk stops the engine (between tiles) and raises KeyboardInterrupt."""
    script = textwrap.dedent(f"""
        import os, signal, sys, threading, time
        sys.path.insert(0, {str(PYTHON_DIR)!r})
        import numpy as np, ntkit
        model = ntkit.Model({{"input_shape": [64], "layers": [{{"type": "dense", "units": 512}}, {{"type": "relu"}},
                             {{"type": "dense", "units": 512}}, {{"type": "relu"}}, {{"type": "dense", "units": 10}}]}})
        x = np.random.default_rng(0).standard_normal((6000, 64)).astype(np.float32)
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.monotonic()
        try:
            ntkit.ntk(model, None, x, device="cpu", block_size=64)  # ~10 s in a debug build
            print("finished")
        except KeyboardInterrupt:
            print("interrupted after", round(time.monotonic() - start, 2))
        # The library is still usable afterwards.
        print(ntkit.ntk(model, None, x[:3], device="cpu").shape)
    """)
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0].startswith("interrupted after"), r.stdout
    assert lines[1] == "(3, 3)"


def test_ctrl_c_at_any_moment_of_a_call_leaves_no_engine_running():
    """SIGINTs landing before, while and after the worker starts: every call ends cleanly, the process exits 0."""
    script = textwrap.dedent(f"""
        import os, signal, sys, threading, time
        sys.path.insert(0, {str(PYTHON_DIR)!r})
        import numpy as np, ntkit
        model = ntkit.Model({{"input_shape": [16], "layers": [{{"type": "dense", "units": 256}}, {{"type": "relu"}},
                             {{"type": "dense", "units": 3}}]}})
        x = np.random.default_rng(1).standard_normal((800, 16)).astype(np.float32)
        outcomes = set()
        for i in range(24):
            delay = (i % 8) * 0.004
            try:
                threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
                ntkit.ntk(model, None, x, device="cpu", block_size=64)
                time.sleep(0.05)  # a late signal lands here
                outcomes.add("finished")
            except KeyboardInterrupt:
                outcomes.add("interrupted")
                time.sleep(0.05)
        print(ntkit.ntk(model, None, x[:2], device="cpu").shape, "interrupted" in outcomes)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(2, 2) True", r.stdout
