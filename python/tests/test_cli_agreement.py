"""The Python API gives what the `ntk` CLI gives with the same flags (select, init, train, gram)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import ntkit

FUEL_SPEC = "Models/fuel_table_a1.model.json"


def run_cli(ntk_binary, repo, *args):
    r = subprocess.run([str(ntk_binary), *map(str, args)], cwd=repo, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    path = tmp_path_factory.mktemp("pool") / "pool.npy"
    np.save(path, x)
    return x, path


@pytest.mark.parametrize("flags", [
    dict(method="rnd", seed=0),
    dict(method="rnd", seed=3, distance="l1", epochs=10, lr=3e-3, picks_per_step=2),
    dict(method="random", seed=4),
    dict(method="kcenter", seed=0),
])
def test_select_equals_cli(ntk_binary, repo, pool, tmp_path, flags):
    x, path = pool
    out = tmp_path / "picks.npy"
    cli = ["select", "--pool", path, "--size", 12, "--out", out]
    for k, v in flags.items():
        cli += [f"--{k.replace('_', '-')}", v]
    run_cli(ntk_binary, repo, *cli)
    picks = ntkit.select(x, 12, **flags)
    assert picks.dtype == np.int64
    np.testing.assert_array_equal(picks, np.load(out))


def test_select_with_a_model_equals_cli(ntk_binary, repo, pool, tmp_path):
    x, path = pool
    spec = {"input_shape": [6], "layers": [{"type": "dense", "units": 16}, {"type": "tanh"}, {"type": "dense", "units": 4}]}
    model = ntkit.Model(spec)
    model.save(tmp_path / "rnd.model.json")
    out = tmp_path / "picks.npy"
    run_cli(ntk_binary, repo, "select", "--pool", path, "--size", 8, "--model", tmp_path / "rnd.model.json",
            "--seed", 2, "--out", out)
    np.testing.assert_array_equal(ntkit.select(x, 8, model=model, seed=2), np.load(out))


def test_init_equals_cli(ntk_binary, repo, tmp_path):
    run_cli(ntk_binary, repo, "init", "--model", FUEL_SPEC, "--seed", 9, "--out", tmp_path / "w.safetensors")
    cli = ntkit.load_weights(tmp_path / "w.safetensors")
    ours = ntkit.Model(repo / FUEL_SPEC).init(seed=9)
    assert sorted(cli) == sorted(ours)
    for k in cli:
        np.testing.assert_array_equal(cli[k], ours[k])


def test_train_equals_cli(ntk_binary, repo, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 7)).astype(np.float32)
    y = rng.standard_normal((40, 1)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    run_cli(ntk_binary, repo, "train", "--model", FUEL_SPEC, "--train", tmp_path / "x.npy", "--labels",
            tmp_path / "y.npy", "--epochs", 30, "--lr", 0.01, "--seed", 2, "--batch-size", 16, "--device", "cpu",
            "--out", tmp_path / "w.safetensors")
    model = ntkit.Model(repo / FUEL_SPEC)
    w, history = ntkit.train(model, None, x, y, epochs=30, lr=0.01, seed=2, batch_size=16, device="cpu")
    cli = ntkit.load_weights(tmp_path / "w.safetensors")
    for k in cli:
        np.testing.assert_array_equal(w[k], cli[k])
    assert history["epoch"].tolist() == list(range(1, 31))
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_gram_equals_cli(ntk_binary, repo, tmp_path):
    x = np.random.default_rng(4).standard_normal((33, 7)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    run_cli(ntk_binary, repo, "gram", "--model", FUEL_SPEC, "--seed", 1, "--inputs", tmp_path / "x.npy",
            "--device", "cpu", "--out", tmp_path / "k.npy")
    K = ntkit.ntk(ntkit.Model(repo / FUEL_SPEC), None, x, seed=1, device="cpu")
    np.testing.assert_array_equal(K, np.load(tmp_path / "k.npy"))
