"""ntkit.ntk on models converted from Flax against neural-tangents' empirical_ntk_fn.

The reference is neural-tangents in float64 on the same (float32-valued) parameters and
inputs; the engine must match it to 1e-5 relative in float32 and 1e-10 in float64
(max |Δ| / max |K|). neural-tangents' trace mode averages over the M outputs where
ntkit sums, and its full mode is [N, N, M, M] where ntkit's is [N, M, N, M].
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import neural_tangents as nt
import numpy as np
import pytest
from flax import linen as nn

import ntkit


def rel(a, b) -> float:
    return float(np.abs(np.asarray(a, np.float64) - b).max() / np.abs(b).max())


def nt_reference(apply, variables, x1, x2, mode):
    """neural-tangents in float64, in ntkit's conventions."""
    f64 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), variables)
    fn = nt.empirical_ntk_fn(apply, trace_axes=(-1,) if mode == "trace" else (), vmap_axes=0,
                             implementation=nt.NtkImplementation.JACOBIAN_CONTRACTION)
    K = np.asarray(fn(jnp.asarray(x1, jnp.float64), None if x2 is None else jnp.asarray(x2, jnp.float64), f64))
    if mode == "trace":
        m = apply(f64, jnp.asarray(x1[:1], jnp.float64)).shape[-1]
        return K * m                      # nt averages over outputs; ntkit sums
    return np.transpose(K, (0, 2, 1, 3))  # [N, N, M, M] → [N, M, N, M]


def flatten(x):
    return x.reshape((x.shape[0], -1))


MODELS = {
    "dense": (lambda: nn.Sequential([nn.Dense(24), nn.relu, nn.Dense(16), nn.tanh, nn.Dense(16),
                                     functools.partial(nn.gelu, approximate=False), nn.Dense(3)]), (6,)),
    "dense_nobias": (lambda: nn.Sequential([nn.Dense(20, use_bias=False), nn.sigmoid, nn.Dense(12), nn.softplus,
                                            nn.Dense(2, use_bias=False)]), (5,)),
    "conv": (lambda: nn.Sequential([nn.Conv(4, (3, 3), padding="SAME"), nn.relu,
                                    functools.partial(nn.avg_pool, window_shape=(2, 2), strides=(2, 2)),
                                    nn.Conv(6, (3, 3), strides=(2, 2), padding="VALID"), nn.silu,
                                    flatten, nn.Dense(8), jax.nn.leaky_relu, nn.Dense(4)]), (10, 10, 2)),
}


@pytest.fixture(params=sorted(MODELS))
def converted(request):
    make, input_shape = MODELS[request.param]
    module = make()
    variables = module.init(jax.random.PRNGKey(7), jnp.zeros((1, *input_shape), jnp.float32))
    model, params = ntkit.from_flax(module, variables, input_shape)
    rng = np.random.default_rng(11)
    x1 = rng.standard_normal((9, *input_shape)).astype(np.float32)
    x2 = rng.standard_normal((5, *input_shape)).astype(np.float32)
    return module, variables, model, params, x1, x2


@pytest.mark.parametrize("mode", ["trace", "full"])
def test_ntk_equals_neural_tangents(converted, mode):
    module, variables, model, params, x1, x2 = converted
    ref = nt_reference(module.apply, variables, x1, None, mode)
    K64 = ntkit.ntk(model, params, x1, mode=mode, precision="f64", device="cpu")
    assert K64.shape == ref.shape
    assert rel(K64, ref) < 1e-10
    K32 = ntkit.ntk(model, params, x1, mode=mode, precision="f32", device="cpu")
    assert rel(K32, ref) < 1e-5


def test_ntk_of_two_sets_equals_neural_tangents(converted):
    module, variables, model, params, x1, x2 = converted
    ref = nt_reference(module.apply, variables, x1, x2, "trace")
    assert rel(ntkit.ntk(model, params, x1, x2, precision="f64", device="cpu"), ref) < 1e-10


def test_forward_equals_flax(converted):
    module, variables, model, params, x1, _ = converted
    ref = np.asarray(module.apply(jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), variables),
                                  jnp.asarray(x1, jnp.float64)))
    assert rel(ntkit.forward(model, params, x1, precision="f64", device="cpu"), ref) < 1e-12


def test_nnx_sequential_equals_neural_tangents():
    from flax import nnx
    rngs = nnx.Rngs(3)
    module = nnx.Sequential(nnx.Linear(5, 12, rngs=rngs), nnx.relu, nnx.Linear(12, 3, rngs=rngs))
    model, params = ntkit.from_flax(module, None, (5,))
    x = np.random.default_rng(2).standard_normal((7, 5)).astype(np.float32)
    graphdef, state = nnx.split(module)

    def apply(state, x):
        return nnx.merge(graphdef, state)(x)

    ref = nt_reference(apply, state, x, None, "trace")
    assert rel(ntkit.ntk(model, params, x, precision="f64", device="cpu"), ref) < 1e-10
