"""``ntkit.Model``: a model spec held by the engine, and parameter dictionaries.

Parameters are dictionaries ``{"layers.{i}.kernel": array, "layers.{i}.bias": array}``
(``i`` is the index in the spec's ``layers`` list; dense kernels ``[fan_in, units]``,
conv kernels HWIO ``[kh, kw, c_in, c_out]``), exactly the tensors of a weights file.
"""

from __future__ import annotations

import ctypes
import json
import os
from ctypes import c_uint64, c_void_p
from typing import Any, Mapping, Union

import numpy as np

from . import _lib
from ._errors import NTKitError

__all__ = ["Model", "Params", "ModelLike"]

Params = dict[str, np.ndarray]
ModelLike = Union["Model", str, os.PathLike, Mapping[str, Any]]


class Model:
    """A network as the engine sees it: a ``*.model.json`` spec (see ``docs/formats.md``).

    ``Model("Models/fuel_table_a1.model.json")`` reads a spec file;
    ``Model({"input_shape": [8], "layers": [...]})`` takes a dict with the same keys
    (or its JSON text). The spec is checked at once: a bad one raises ``NTKitError``
    naming the field.

    Attributes: ``input_shape`` (one sample), ``outputs`` (M), ``parameter_count``
    (P), ``parameterization``, ``spec`` (the normalised spec dict) and ``tensors``
    (name → shape of every parameter tensor, in θ order).
    """

    def __init__(self, spec: str | os.PathLike | Mapping[str, Any]):
        handle = c_void_p()
        if isinstance(spec, Mapping):
            text, source = json.dumps(spec), "model (dict)"
        elif isinstance(spec, (str, os.PathLike)):
            text = os.fspath(spec)
            source = "model (JSON text)" if text.lstrip().startswith("{") else None
        else:
            raise NTKitError(f"model: expected a spec path, JSON text or a dict, found {type(spec).__name__}")
        self._handle: c_void_p | None = None
        _lib.call("ntk_model_create", text.encode("utf-8"), None if source is None else source.encode("utf-8"),
                  ctypes.byref(handle), threaded=False)
        self._handle = handle
        info = c_void_p()
        _lib.call("ntk_model_describe", self._handle, ctypes.byref(info), threaded=False)
        d = _lib.take_json(info)
        self.input_shape: tuple[int, ...] = tuple(int(v) for v in d["input_shape"])
        self.outputs: int = int(d["outputs"])
        self.parameter_count: int = int(d["parameters"])
        self.parameterization: str = d["parameterization"]
        self.source: str = d["source"]
        self.spec: dict[str, Any] = d["spec"]
        self._layout = [(t["name"], tuple(int(v) for v in t["shape"]), int(t["offset"]), int(t["count"]))
                        for t in d["tensors"]]
        self.tensors: dict[str, tuple[int, ...]] = {name: shape for name, shape, _, _ in self._layout}

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and _lib._lib is not None:
            _lib._lib.ntk_model_free(handle)
            self._handle = None

    def __repr__(self) -> str:
        return (f"ntkit.Model({self.source!r}: input_shape={list(self.input_shape)}, outputs={self.outputs}, "
                f"P={self.parameter_count}, {self.parameterization})")

    def init(self, seed: int = 0) -> Params:
        """A seeded initialisation, as ``ntk init --seed``: LeCun-normal kernels and zero
        biases (standard), N(0, 1) kernels and biases (ntk). Same seed, same values."""
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise NTKitError(f"seed must be a non-negative integer, found {seed!r}")
        theta = np.empty(self.parameter_count, dtype=np.float32)
        _lib.call("ntk_model_init", self._handle, c_uint64(int(seed)), _lib.ptr(theta), threaded=False)
        return self.unflatten(theta)

    def unflatten(self, theta: np.ndarray) -> Params:
        """The parameter dict of a flat θ (views into ``theta``, no copies)."""
        theta = np.asarray(theta)
        if theta.shape != (self.parameter_count,):
            raise NTKitError(f"theta: expected shape ({self.parameter_count},), found {theta.shape}")
        return {name: theta[offset:offset + count].reshape(shape) for name, shape, offset, count in self._layout}

    def flatten(self, params: Mapping[str, Any], source: str = "params") -> np.ndarray:
        """θ (float32, P values) of a parameter dict, checked by the engine as a weights
        file is: every tensor present with its shape, no extra names, finite values."""
        if not isinstance(params, Mapping):
            raise NTKitError(f"{source}: expected a dict of arrays (name -> array), found {type(params).__name__}")
        names = [str(k) for k in params]
        arrays = [np.ascontiguousarray(np.asarray(params[k]), dtype=np.float32) for k in params]
        theta = np.empty(self.parameter_count, dtype=np.float32)
        args, keep = _lib.named_tensor_args(names, arrays)
        _lib.call("ntk_model_pack", self._handle, *args, source.encode("utf-8"), _lib.ptr(theta), threaded=False)
        del keep
        return theta

    def save(self, path: str | os.PathLike) -> None:
        """Writes the spec as a ``*.model.json`` file (readable by the ``ntk`` CLI)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.spec, f, indent=2)
            f.write("\n")


def as_model(model: ModelLike) -> Model:
    """A ``Model`` from a model, a spec path, JSON text or a spec dict."""
    if isinstance(model, Model):
        return model
    if isinstance(model, (str, os.PathLike, Mapping)):
        return Model(model)
    raise NTKitError(f"model: expected an ntkit.Model, a spec path or a spec dict, found {type(model).__name__}")
