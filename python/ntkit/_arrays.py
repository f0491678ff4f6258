"""Input arrays as the engine takes them: C-contiguous float32 (no copy when already so)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import NTKitError


def as_inputs(x: Any, name: str) -> np.ndarray:
    """float32, C order, at least 2-D. ``uint8`` data (images) is fed as ``x / 255``, as
    in ``ntk``; other numbers are converted to float32. Already-float32 C-order arrays
    are passed through without a copy."""
    try:
        a = np.asarray(x)
    except Exception as e:  # e.g. a ragged list
        raise NTKitError(f"{name}: cannot be read as an array ({e})") from None
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / np.float32(255)
    elif a.dtype.kind not in "fiub":
        raise NTKitError(f"{name}: expected numbers, found dtype {a.dtype}")
    if a.ndim < 2:
        raise NTKitError(f"{name}: expected [N, *input_shape], found shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def precision_dtype(precision: str) -> type:
    if precision == "f32":
        return np.float32
    if precision == "f64":
        return np.float64
    raise NTKitError(f"precision must be f32 or f64, found {precision!r}")
