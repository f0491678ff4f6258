"""Data selection (as ``ntk select``): RND (the paper's Algorithm 1), random and k-center greedy."""

from __future__ import annotations

import ctypes
import os
from ctypes import c_int64, c_void_p
from typing import Any, Literal, Optional, Union

import numpy as np

from . import _lib
from ._arrays import as_inputs
from ._errors import NTKitError
from .compute import _warn
from .model import ModelLike, as_model

__all__ = ["select"]


def select(pool: Any, size: int, method: Literal["rnd", "random", "kcenter"] = "rnd", model: Optional[ModelLike] = None,
           seed: int = 0, distance: str = "mse", epochs: int = 50, lr: float = 1e-3, picks_per_step: int = 1,
           progress: bool = False, *, reinit: bool = False, train_batch_size: Optional[int] = None,
           threshold: Optional[float] = None, target_weights: Union[str, os.PathLike, None] = None,
           predictor_weights: Union[str, os.PathLike, None] = None, chunk_rows: int = 65_536,
           device: str = "cpu", return_info: bool = False) -> Union[np.ndarray, tuple[np.ndarray, dict]]:
    """Chooses ``size`` points of ``pool`` and returns their indices (``np.int64``, in
    selection order); the same picks as ``ntk select`` with the same flags.

    Args:
      pool: ``[N, ...]`` samples (each row flattened); ``uint8`` means ``x / 255``.
      size: number of points to choose, S.
      method: ``"rnd"``, ``"random"`` or ``"kcenter"``.
      model: target/predictor architecture (default d→32→32→32→8 ReLU).
      seed: seed of the initial networks, random picks and mini-batches.
      distance: ``mse``, ``l1``, ``l2``, ``lp:<p>``, ``cosine``, ``angular``, ``mahalanobis``.
      epochs, lr: Adam epochs per retrain and learning rate.
      picks_per_step: points chosen per retrain, k.
      progress: a progress bar on stderr (when it is a terminal).
      reinit, train_batch_size, threshold, target_weights, predictor_weights, chunk_rows,
        device: as the ``ntk select`` flags of the same names.
      return_info: also return the per-step report (indices, distances, seconds).
    """
    x = as_inputs(pool, "pool")
    _dev, _warnings = _lib.resolve_device(device)
    _warn({"warnings": _warnings})
    if x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
        raise NTKitError(f"size must be an integer, found {size!r}")
    m = None if model is None else as_model(model)
    # At most min(size, N) picks; a size above N is the engine's error to report.
    indices = np.empty(max(min(int(size), x.shape[0]), 1), dtype=np.int64)
    count = c_int64(0)
    shape = _lib.shape_array(x)
    info = c_void_p()
    _lib.call("ntk_select", _lib.ptr(x), _lib.ptr(shape), c_int64(x.ndim), None if m is None else m._handle,
              _lib.options(size=int(size), method=method, distance=distance, seed=seed, epochs=epochs, lr=lr,
                           picks_per_step=picks_per_step, progress=progress, reinit=reinit,
                           train_batch_size=train_batch_size, threshold=threshold,
                           target_weights=None if target_weights is None else os.fspath(target_weights),
                           predictor_weights=None if predictor_weights is None else os.fspath(predictor_weights),
                           chunk_rows=chunk_rows, device=_dev),
              _lib.ptr(indices), ctypes.byref(count), ctypes.byref(info), keep=(x, shape, indices, m))
    details = _lib.take_json(info) or {}
    picked = indices[:count.value]
    return (picked, details) if return_info else picked
