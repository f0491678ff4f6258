"""Forward outputs, Jacobians, the empirical NTK and its collective variables."""

from __future__ import annotations

import ctypes
import os
from ctypes import c_int32, c_int64, c_void_p
from typing import Any, Literal, Mapping, Optional, Union

import numpy as np

from . import _lib
from ._arrays import as_inputs, precision_dtype
from ._errors import NTKitError
from .model import Model, ModelLike, as_model

__all__ = ["forward", "jacobian", "ntk", "collective_variables"]

ParamsLike = Optional[Mapping[str, Any]]
Size = Union[str, int]


def _theta(model: Model, params: ParamsLike, seed: int) -> np.ndarray:
    if params is None:
        return model.flatten(model.init(seed))
    return model.flatten(params)


def _warn(info: dict) -> None:
    import warnings
    for w in info.get("warnings", []):
        warnings.warn(w, RuntimeWarning, stacklevel=3)


def forward(model: ModelLike, params: ParamsLike, x: Any, *, precision: Literal["f32", "f64"] = "f32",
            device: str = "auto", seed: int = 0) -> np.ndarray:
    """Network outputs ``f(x)``: ``[N, M]`` (as ``ntk forward``).

    Args:
      model: an ``ntkit.Model`` (or a spec path or dict).
      params: ``{"layers.{i}.kernel": …}``; None for a seeded initialisation from ``seed``.
      x: inputs ``[N, *input_shape]`` (or ``[N, d]`` flattened); ``uint8`` means ``x / 255``.
      precision: ``"f32"`` or ``"f64"`` (float64 arithmetic; the result's dtype).
      device: ``"auto"``, ``"cpu"``, ``"opencl"`` or ``"opencl:P:D"``.
    """
    m = as_model(model)
    _dev, _warnings = _lib.resolve_device(device)
    _warn({"warnings": _warnings})
    theta = _theta(m, params, seed)
    xs = as_inputs(x, "x")
    out = np.empty((xs.shape[0], m.outputs), dtype=precision_dtype(precision))
    info = c_void_p()
    shape = _lib.shape_array(xs)
    _lib.call("ntk_forward", m._handle, _lib.ptr(theta), _lib.ptr(xs), _lib.ptr(shape), c_int64(xs.ndim),
              _lib.options(precision=precision, device=_dev), _lib.ptr(out), ctypes.byref(info),
              keep=(theta, xs, shape, out))
    _warn(_lib.take_json(info) or {})
    return out


def jacobian(model: ModelLike, params: ParamsLike, x: Any, *, precision: Literal["f32", "f64"] = "f32",
             device: str = "auto", memory_budget: Size = "1G", seed: int = 0) -> np.ndarray:
    """Per-sample Jacobians ``∂f_a(x_i)/∂θ_p``: ``[N, M, P]`` (as ``ntk jacobian``).

    θ is in the order of ``Model.tensors`` (per parameter layer: kernel row-major, then
    bias); ``model.unflatten(J[i, a])`` splits one row by tensor. The whole array is
    held in memory: use ``ntk`` for large N.
    """
    m = as_model(model)
    _dev, _warnings = _lib.resolve_device(device)
    _warn({"warnings": _warnings})
    theta = _theta(m, params, seed)
    xs = as_inputs(x, "x")
    dtype = precision_dtype(precision)
    n = xs.shape[0]
    try:
        out = np.empty((n, m.outputs, m.parameter_count), dtype=dtype)
    except MemoryError:
        raise NTKitError(f"the Jacobian [{n}, {m.outputs}, {m.parameter_count}] does not fit in memory; "
                         "use fewer samples or ntkit.ntk") from None
    info = c_void_p()
    shape = _lib.shape_array(xs)
    _lib.call("ntk_jacobian", m._handle, _lib.ptr(theta), _lib.ptr(xs), _lib.ptr(shape), c_int64(xs.ndim),
              _lib.options(precision=precision, device=_dev, memory_budget=memory_budget), _lib.ptr(out),
              ctypes.byref(info), keep=(theta, xs, shape, out))
    _warn(_lib.take_json(info) or {})
    return out


def ntk(model: ModelLike, params: ParamsLike, x1: Any, x2: Any = None, *, mode: Literal["trace", "full"] = "trace",
        precision: Literal["f32", "f64"] = "f32", device: str = "auto", memory_budget: Size = "1G", seed: int = 0,
        block_size: Optional[int] = None, return_info: bool = False) -> Union[np.ndarray, tuple[np.ndarray, dict]]:
    """The empirical NTK Θ = J Jᵀ (as ``ntk gram``).

    Args:
      model: an ``ntkit.Model`` (or a spec path or dict).
      params: parameter dict; None for a seeded initialisation from ``seed``.
      x1, x2: inputs ``[N1, *input_shape]`` and optional ``[N2, *input_shape]``.
      mode: ``"trace"``: ``[N1, N2]``, **summed** over the M outputs (neural-tangents'
        ``trace_axes=(-1,)`` averages: its kernel is this one divided by M);
        ``"full"``: ``[N1, M, N2, M]`` (neural-tangents' ``trace_axes=()`` is
        ``[N1, N2, M, M]``: ``np.transpose(K, (0, 2, 1, 3))``).
      precision: ``"f32"`` or ``"f64"`` (float64 end to end; needs a float64 device).
      device: ``"auto"``, ``"cpu"``, ``"opencl"``, ``"opencl:P:D"``.
      memory_budget: cap on temporaries (``"1G"``, ``"512M"`` or bytes); Θ itself not counted.
      block_size: samples per tile (default: the largest the budget allows).
      return_info: also return a dict with the device, the engine's own ``seconds``,
        ``gflops``, ``tiles`` and per-layer ``strategies``.

    Θ is written by the engine directly into the returned array (no copy).
    """
    m = as_model(model)
    _dev, _warnings = _lib.resolve_device(device)
    _warn({"warnings": _warnings})
    theta = _theta(m, params, seed)
    xs1 = as_inputs(x1, "x1")
    xs2 = None if x2 is None else as_inputs(x2, "x2")
    dtype = precision_dtype(precision)
    n1 = xs1.shape[0]
    n2 = n1 if xs2 is None else xs2.shape[0]
    shape = (n1, n2) if mode == "trace" else (n1, m.outputs, n2, m.outputs)
    try:
        out = np.empty(shape, dtype=dtype)
    except MemoryError:
        raise NTKitError(f"the output {list(shape)} does not fit in memory; use mode='trace', precision='f32', "
                         "or fewer samples") from None
    s1 = _lib.shape_array(xs1)
    s2 = None if xs2 is None else _lib.shape_array(xs2)
    info = c_void_p()
    _lib.call("ntk_gram", m._handle, _lib.ptr(theta), _lib.ptr(xs1), _lib.ptr(s1), c_int64(xs1.ndim),
              _lib.ptr(xs2), _lib.ptr(s2), c_int64(0 if xs2 is None else xs2.ndim),
              _lib.options(mode=mode, precision=precision, device=_dev, memory_budget=memory_budget,
                           block_size=block_size),
              _lib.ptr(out), c_int64(out.size), ctypes.byref(info), keep=(theta, xs1, xs2, s1, s2, out))
    details = _lib.take_json(info) or {}
    _warn(details)
    return (out, details) if return_info else out


def collective_variables(K: Any, *, method: Literal["auto", "exact", "lanczos"] = "auto",
                         top_k: int = 16) -> dict[str, Any]:
    """The NTK collective variables of an ``[N, N]`` kernel (as ``ntk stats``).

    Returns a dict: ``trace`` (Σ Θ_ii), ``entropy`` (von Neumann, natural log, of the
    clipped, normalised spectrum; None with Lanczos), ``lambda_max``, ``eigenvalues``
    (float64, descending: all N, or the top ``top_k`` with Lanczos), ``method`` and ``n``.
    ``method="auto"`` is exact up to N = 8192, Lanczos above.
    """
    try:
        a = np.asarray(K)
    except Exception as e:
        raise NTKitError(f"kernel: cannot be read as an array ({e})") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise NTKitError(f"kernel: expected a square [N, N] matrix, found shape {a.shape}")
    if a.dtype.kind not in "fiu":
        raise NTKitError(f"kernel: expected numbers, found dtype {a.dtype}")
    is_f64 = a.dtype == np.float64
    a = np.ascontiguousarray(a, dtype=np.float64 if is_f64 else np.float32)
    n = a.shape[0]
    eig = np.empty(n, dtype=np.float64)
    info = c_void_p()
    _lib.call("ntk_collective_variables", _lib.ptr(a), c_int64(n), c_int32(int(is_f64)),
              _lib.options(method=method, top_k=top_k), _lib.ptr(eig), ctypes.byref(info), threaded=False)
    d = _lib.take_json(info)
    return {"trace": float(d["trace"]), "entropy": None if d["entropy"] is None else float(d["entropy"]),
            "lambda_max": float(d["lambda_max"]),
            "eigenvalues": eig[:int(d["eigenvalues"])].copy(), "method": d["method"], "n": int(d["n"])}
