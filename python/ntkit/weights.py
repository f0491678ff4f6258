"""Weights files: safetensors with ``layers.{i}.kernel`` / ``layers.{i}.bias``.

Both functions go through the engine's own reader and writer, so a file that
``ntk`` rejects is rejected here with the same message, and a write is atomic.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_void_p
from typing import Any, Mapping

import numpy as np

from . import _lib
from ._errors import NTKitError

__all__ = ["load_weights", "save_weights"]


def load_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a safetensors file into ``{name: float32 array}``.

    F32, F64, F16 and BF16 tensors load (converted to float32), as in ``ntk``.
    """
    info, values = c_void_p(), c_void_p()
    _lib.call("ntk_weights_read", os.fspath(path).encode("utf-8"), ctypes.byref(info), ctypes.byref(values),
              threaded=False)
    try:
        entries = _lib.take_json(info) or []
        total = sum(int(e["count"]) for e in entries)
        flat = np.ctypeslib.as_array(ctypes.cast(values, ctypes.POINTER(ctypes.c_float)), shape=(max(total, 1),))
        out = {}
        for e in entries:
            start, count = int(e["offset"]), int(e["count"])
            out[e["name"]] = flat[start:start + count].reshape([int(d) for d in e["shape"]]).copy()
        return out
    finally:
        _lib.lib().ntk_free(values)


def save_weights(path: str | os.PathLike, params: Mapping[str, Any]) -> None:
    """Writes ``{name: array}`` as an F32 safetensors file (atomically: a temporary file, then a rename).

    Arrays may be numpy, JAX or anything ``np.asarray`` takes; values must be finite.
    """
    if not isinstance(params, Mapping):
        raise NTKitError(f"{os.fspath(path)}: expected a dict of arrays (name -> array), found {type(params).__name__}")
    names = [str(k) for k in params]
    arrays = [np.ascontiguousarray(np.asarray(params[k]), dtype=np.float32) for k in params]
    args, keep = _lib.named_tensor_args(names, arrays)
    _lib.call("ntk_weights_write", os.fspath(path).encode("utf-8"), *args, threaded=False)
    del keep
