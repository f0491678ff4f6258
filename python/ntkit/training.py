"""Training a network in the engine (as ``ntk train``)."""

from __future__ import annotations

import ctypes
from ctypes import c_int32, c_int64, c_void_p
from typing import Any, Literal, Mapping, Optional

import numpy as np

from . import _lib
from ._arrays import as_inputs
from ._errors import NTKitError
from .compute import _warn
from .model import Model, ModelLike, Params, as_model

__all__ = ["train"]


def _targets(y: Any, n: int, m: int, loss: Optional[str], name: str) -> tuple[np.ndarray, bool]:
    """(buffer, is_labels): float32 N×M values for mse, int64 N labels for cross_entropy.
    Without ``loss``, integer labels mean cross_entropy and floats mse (as ``ntk train``)."""
    a = np.asarray(y)
    if a.dtype.kind not in "fiub":
        raise NTKitError(f"{name}: expected numbers, found dtype {a.dtype}")
    if a.shape[:1] != (n,):
        raise NTKitError(f"{name}: expected {n} rows (the inputs'), found shape {a.shape}")
    kind = loss or ("cross_entropy" if a.dtype.kind in "iub" else "mse")
    kind = kind.replace("-", "_").lower()
    if kind == "cross_entropy":
        if a.ndim != 1:
            raise NTKitError(f"{name}: cross_entropy needs N integer class labels, found shape {a.shape}")
        if a.dtype.kind == "f":
            if not np.all(np.isfinite(a)) or np.any(np.round(a) != a):
                raise NTKitError(f"{name}: cross_entropy needs integer class labels, found non-integer values")
        return np.ascontiguousarray(a, dtype=np.int64), True
    if kind == "mse":
        if a.size != n * m:
            raise NTKitError(f"{name}: mse needs N × M = {n} × {m} targets, found shape {a.shape}")
        return np.ascontiguousarray(a.reshape(n, m), dtype=np.float32), False
    raise NTKitError(f"unknown loss '{loss}'; valid losses: mse, cross_entropy")


def train(model: ModelLike, params: Optional[Mapping[str, Any]], x: Any, y: Any, *, epochs: int = 500,
          lr: float = 1e-3, loss: Optional[Literal["mse", "cross_entropy"]] = None,
          test: Optional[tuple[Any, Any]] = None, optimizer: Literal["adam", "sgd"] = "adam",
          batch_size: Optional[int] = None, seed: int = 0, device: str = "auto", beta1: float = 0.9,
          beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> tuple[Params, dict[str, np.ndarray]]:
    """Trains ``model`` from ``params`` (None: seeded init from ``seed``) and returns
    ``(trained params, history)``.

    ``y`` holds regression targets ``[N]`` / ``[N, M]`` (mse) or integer class labels
    ``[N]`` (cross_entropy); without ``loss`` the dtype decides, as in ``ntk train``.
    ``test=(xt, yt)`` adds the test loss (and accuracy) per epoch. Full-batch Adam by
    default; ``batch_size`` shuffles mini-batches with ``seed``.

    ``history`` maps ``epoch``, ``train_loss``, ``test_loss``, ``seconds`` (and
    ``train_accuracy`` / ``test_accuracy`` for cross_entropy) to per-epoch arrays
    (NaN where not computed).
    """
    m = as_model(model)
    _dev, _warnings = _lib.resolve_device(device)
    _warn({"warnings": _warnings})
    theta = m.flatten(m.init(seed)) if params is None else m.flatten(params)
    xs = as_inputs(x, "x")
    ys, labels = _targets(y, xs.shape[0], m.outputs, loss, "y")
    xt = yt = None
    if test is not None:
        if not isinstance(test, (tuple, list)) or len(test) != 2:
            raise NTKitError("test: expected a pair (x_test, y_test)")
        xt = as_inputs(test[0], "test x")
        yt, test_labels = _targets(test[1], xt.shape[0], m.outputs, "cross_entropy" if labels else "mse", "test y")
    out = np.empty(m.parameter_count, dtype=np.float32)
    sx = _lib.shape_array(xs)
    st = None if xt is None else _lib.shape_array(xt)
    info = c_void_p()
    _lib.call("ntk_train", m._handle, _lib.ptr(theta), _lib.ptr(xs), _lib.ptr(sx), c_int64(xs.ndim),
              _lib.ptr(ys), c_int64(ys.size), c_int32(int(labels)),
              _lib.ptr(xt), _lib.ptr(st), c_int64(0 if xt is None else xt.ndim), _lib.ptr(yt),
              c_int64(0 if yt is None else yt.size),
              _lib.options(epochs=epochs, lr=lr, loss=loss, optimizer=optimizer, batch_size=batch_size, seed=seed,
                           device=_dev, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay),
              _lib.ptr(out), ctypes.byref(info), keep=(theta, xs, sx, ys, xt, st, yt, out))
    details = _lib.take_json(info) or {}
    records = details.get("epochs", [])

    def column(key: str, dtype: type = np.float64) -> np.ndarray:
        return np.array([np.nan if r[key] is None else r[key] for r in records], dtype=dtype)

    history = {"epoch": np.array([r["epoch"] for r in records], dtype=np.int64),
               "train_loss": column("train_loss"), "test_loss": column("test_loss"), "seconds": column("seconds")}
    if details.get("loss") == "cross_entropy":
        history["train_accuracy"] = column("train_accuracy")
        history["test_accuracy"] = column("test_accuracy")
    return m.unflatten(out), history
