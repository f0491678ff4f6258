"""The public goldens (float64 JAX references, Tests/NTKitTests/Fixtures/golden) through the Python API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ntkit
from conftest import GOLDEN, golden_cases


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max |b|, the goldens' norm-wise relative error."""
    return float(np.abs(np.asarray(a, np.float64) - b).max() / max(np.abs(b).max(), 1e-300))


@pytest.fixture(params=golden_cases())
def case(request):
    d = GOLDEN / request.param
    model = ntkit.Model(d / "model.json")
    params = ntkit.load_weights(d / "weights.safetensors")
    x = np.load(d / "inputs.npy")
    return d, model, params, x


def test_forward_matches_golden(case):
    d, model, params, x = case
    ref = np.load(d / "outputs.npy")
    assert rel(ntkit.forward(model, params, x, precision="f64", device="cpu"), ref) < 1e-12
    y32 = ntkit.forward(model, params, x, device="cpu")
    assert y32.dtype == np.float32 and y32.shape == ref.shape
    assert rel(y32, ref) < 1e-5


def test_jacobian_matches_golden(case):
    d, model, params, x = case
    if not (d / "jacobian.npy").exists():
        pytest.skip("this golden case has no jacobian.npy (large)")
    ref = np.load(d / "jacobian.npy")
    J = ntkit.jacobian(model, params, x, precision="f64", device="cpu")
    assert J.shape == ref.shape == (x.shape[0], model.outputs, model.parameter_count)
    assert rel(J, ref) < 1e-10


@pytest.mark.parametrize("mode", ["trace", "full"])
def test_ntk_matches_golden(case, mode):
    d, model, params, x = case
    ref = np.load(d / f"ntk_{mode}.npy")
    K64 = ntkit.ntk(model, params, x, mode=mode, precision="f64", device="cpu")
    assert K64.dtype == np.float64 and K64.shape == ref.shape
    assert rel(K64, ref) < 1e-10
    K32 = ntkit.ntk(model, params, x, mode=mode, device="cpu")
    assert K32.dtype == np.float32
    assert rel(K32, ref) < 1e-5


def test_ntk_of_two_sets_is_the_off_diagonal_block(case):
    d, model, params, x = case
    ref = np.load(d / "ntk_trace.npy")
    n = x.shape[0] // 2
    K12 = ntkit.ntk(model, params, x[:n], x[n:], precision="f64", device="cpu")
    assert rel(K12, ref[:n, n:]) < 1e-10


def test_collective_variables_match_golden(case):
    d, model, params, x = case
    cv_ref = json.loads((d / "cv.json").read_text())
    K = ntkit.ntk(model, params, x, precision="f64", device="cpu")
    cv = ntkit.collective_variables(K)
    assert cv["trace"] == pytest.approx(cv_ref["trace"], rel=1e-10)
    assert cv["entropy"] == pytest.approx(cv_ref["entropy"], rel=1e-9, abs=1e-12)
    assert cv["lambda_max"] == pytest.approx(cv_ref["lambda_max"], rel=1e-10)
    np.testing.assert_allclose(cv["eigenvalues"], cv_ref["eigenvalues"], rtol=1e-8,
                               atol=1e-9 * abs(cv_ref["lambda_max"]))
    cv32 = ntkit.collective_variables(K.astype(np.float32))
    assert cv32["entropy"] == pytest.approx(cv_ref["entropy"], rel=1e-4)


def test_weights_match_the_official_safetensors_reader(case):
    from safetensors.numpy import load_file
    d, model, params, x = case
    official = load_file(str(d / "weights.safetensors"))
    assert sorted(official) == sorted(params)
    for name, value in official.items():
        np.testing.assert_array_equal(params[name], value.astype(np.float32))
    assert set(model.tensors) == set(params)
