"""Bad input raises ntkit.NTKitError (a ValueError) with one actionable line, never a crash."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import ntkit
from conftest import GOLDEN

CASE = GOLDEN / "01_dense_relu_standard"


@pytest.fixture(scope="module")
def model():
    return ntkit.Model(CASE / "model.json")


@pytest.fixture(scope="module")
def params():
    return ntkit.load_weights(CASE / "weights.safetensors")


def raises(fn, *words):
    with pytest.raises(ntkit.NTKitError) as info:
        fn()
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message and message
    for w in words:
        assert w in message, message
    return message


def test_bad_specs(tmp_path):
    raises(lambda: ntkit.Model(tmp_path / "missing.model.json"), "missing.model.json")
    raises(lambda: ntkit.Model({"input_shape": [3], "layers": [{"type": "dense2"}]}), "layers[0]", "dense2")
    raises(lambda: ntkit.Model({"layers": [{"type": "dense", "units": 2}]}), "input_shape")
    raises(lambda: ntkit.Model('{"input_shape": [3], "layers": ['), "model (JSON text)")
    raises(lambda: ntkit.Model(42), "model")


def test_bad_params(model, params):
    x = np.zeros((4, 8), np.float32)
    missing = dict(params)
    missing.pop("layers.0.bias")
    raises(lambda: ntkit.ntk(model, missing, x), "layers.0.bias")
    wrong = dict(params)
    wrong["layers.0.kernel"] = np.zeros((3, 32), np.float32)
    raises(lambda: ntkit.ntk(model, wrong, x), "layers.0.kernel", "[8, 32]", "[3, 32]")
    extra = dict(params)
    extra["layers.9.kernel"] = np.zeros(2, np.float32)
    raises(lambda: ntkit.forward(model, extra, x), "layers.9.kernel")
    nan = dict(params)
    nan["layers.2.bias"] = np.full(32, np.nan, np.float32)
    raises(lambda: ntkit.ntk(model, nan, x), "non-finite", "layers.2.bias")
    raises(lambda: ntkit.ntk(model, [1, 2], x), "dict")


def test_bad_inputs_and_options(model, params):
    x = np.zeros((4, 8), np.float32)
    raises(lambda: ntkit.ntk(model, params, np.zeros((4, 3))), "x1", "[N, 8]", "[4, 3]")
    raises(lambda: ntkit.ntk(model, params, x, np.zeros((2, 5))), "x2")
    raises(lambda: ntkit.ntk(model, params, np.zeros(8)), "x1")
    raises(lambda: ntkit.ntk(model, params, np.full((2, 8), np.inf)), "non-finite")
    raises(lambda: ntkit.ntk(model, params, np.array([["a"] * 8])), "dtype")
    raises(lambda: ntkit.ntk(model, params, x, mode="diag"), "mode", "diag")
    raises(lambda: ntkit.ntk(model, params, x, precision="f16"), "precision", "f16")
    raises(lambda: ntkit.ntk(model, params, x, device="tpu"), "tpu")
    raises(lambda: ntkit.ntk(model, params, x, memory_budget="lots"), "memory_budget")
    raises(lambda: ntkit.ntk(model, params, x, memory_budget="1K", device="cpu"), "memory budget")
    raises(lambda: ntkit.jacobian(model, params, x, memory_budget="1K", device="cpu"), "memory budget")
    raises(lambda: ntkit.forward(model, params, x, precision="f3"), "precision")


def test_bad_kernels():
    raises(lambda: ntkit.collective_variables(np.zeros((3, 4))), "square")
    raises(lambda: ntkit.collective_variables(np.array([[1.0, np.nan], [0, 1]])), "non-finite")
    raises(lambda: ntkit.collective_variables(np.eye(3), method="svd"), "method")
    raises(lambda: ntkit.collective_variables(np.eye(3), top_k=0), "top_k")


def test_bad_selection_and_training(model, params):
    pool = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float32)
    raises(lambda: ntkit.select(pool, 30), "larger than the pool")
    raises(lambda: ntkit.select(pool, 10**12), "larger than the pool")
    raises(lambda: ntkit.select(np.zeros((0, 8)), 1), "no samples")
    raises(lambda: ntkit.select(pool, 0), "at least 1")
    raises(lambda: ntkit.select(pool, 3, method="best"), "best")
    raises(lambda: ntkit.select(pool, 3, distance="l7"), "l7")
    raises(lambda: ntkit.select(pool, 3, lr=-1.0), "learning rate")
    bad = pool.copy()
    bad[3, 2] = np.nan
    raises(lambda: ntkit.select(bad, 3), "non-finite")
    wrong_model = ntkit.Model({"input_shape": [5], "layers": [{"type": "dense", "units": 2}]})
    raises(lambda: ntkit.select(pool, 3, model=wrong_model), "model input")
    raises(lambda: ntkit.select(pool, 3, target_weights="/nonexistent.safetensors"), "/nonexistent.safetensors")
    x = pool
    raises(lambda: ntkit.train(model, params, x, np.zeros((19, 1))), "y", "20 rows")
    raises(lambda: ntkit.train(model, params, x, np.zeros((20, 1)), lr=0.0), "lr")
    raises(lambda: ntkit.train(model, params, x, np.zeros((20, 1)), optimizer="lbfgs"), "lbfgs")
    raises(lambda: ntkit.train(model, params, x, np.zeros((20, 1)), loss="hinge"), "hinge")
    raises(lambda: ntkit.train(model, params, x, np.full(20, 5), loss="cross_entropy"), "label")
    raises(lambda: ntkit.train(model, params, x, np.full((20, 1), np.nan)), "non-finite")
    raises(lambda: ntkit.forward(model, params, np.zeros((0, 8))), "no samples")


def test_bad_weight_files(tmp_path, params):
    raises(lambda: ntkit.load_weights(tmp_path / "none.safetensors"), "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    raises(lambda: ntkit.load_weights(tmp_path / "junk.safetensors"), "junk.safetensors")
    raises(lambda: ntkit.save_weights(tmp_path / "w.safetensors", {"a": np.array([np.inf])}), "non-finite")
    raises(lambda: ntkit.save_weights(tmp_path / "no-dir" / "w.safetensors", params), "no-dir")
    assert not (tmp_path / "w.safetensors").exists()


def test_from_flax_refuses_unsupported_layers():
    import jax
    import jax.numpy as jnp
    from flax import linen as nn

    def convert(layers, shape):
        module = nn.Sequential(layers)
        variables = module.init(jax.random.PRNGKey(0), jnp.zeros((1, *shape)))
        return ntkit.from_flax(module, variables, shape)

    raises(lambda: convert([nn.Dense(4), nn.gelu, nn.Dense(1)], (3,)), "layer 1", "approximate=False")
    raises(lambda: convert([nn.Dense(4), nn.LayerNorm(), nn.Dense(1)], (3,)), "layer 1", "LayerNorm")
    raises(lambda: convert([nn.Dense(4), jnp.sin, nn.Dense(1)], (3,)), "layer 1", "supported activations")
    raises(lambda: convert([nn.Conv(2, (3, 3)), functools.partial(nn.max_pool, window_shape=(2, 2)),
                            lambda x: x.reshape((x.shape[0], -1)), nn.Dense(1)], (6, 6, 1)), "layer 1", "max_pool")
    raises(lambda: convert([nn.Conv(2, (3, 3), kernel_dilation=2), lambda x: x.reshape((x.shape[0], -1))],
                           (6, 6, 1)), "layer 0", "kernel_dilation")
    raises(lambda: convert([nn.Conv(2, (3, 3)), nn.Dense(1)], (6, 6, 1)), "layer 1", "flatten")
    raises(lambda: ntkit.from_flax(nn.Dense(3), {}, (3,)), "Sequential")
