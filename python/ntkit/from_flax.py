"""``ntkit.from_flax``: a Flax ``Sequential`` as an engine model spec and parameters.

Supported: ``flax.linen.Sequential`` (with its ``variables``) and
``flax.nnx.Sequential`` (parameters live in the module) of
- ``Dense`` / ``nnx.Linear`` (any ``use_bias``),
- ``Conv`` / ``nnx.Conv`` with a 2-D kernel, integer strides, ``"SAME"`` / ``"VALID"``
  padding, no dilation, one feature group,
- ``avg_pool`` as ``functools.partial(nn.avg_pool, window_shape=…, strides=…)`` with
  ``"VALID"`` padding,
- a flatten (any callable that maps ``[N, H, W, C]`` to ``x.reshape(N, -1)``),
- the activations relu, tanh, sigmoid, gelu (exact: ``partial(nn.gelu, approximate=False)``),
  softplus, silu/swish, leaky_relu (any slope) and identity; a callable is recognised
  by evaluating it, so ``jax.nn.relu``, ``nn.relu`` and a ``lambda`` all work.
Anything else raises ``NTKitError`` naming the layer. Every converted model is checked:
its forward pass must equal the Flax one on random inputs.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from ._errors import NTKitError
from .model import Model, Params

__all__ = ["from_flax"]

# Elementwise activations the engine knows, as numpy float64 functions.
_ACTIVATIONS: dict[str, Any] = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "softplus": lambda z: np.logaddexp(z, 0),
    "silu": lambda z: z / (1 + np.exp(-z)),
}


def _gelu_exact(z: np.ndarray) -> np.ndarray:
    from math import erf
    return z * (1 + np.vectorize(erf)(z / math.sqrt(2))) / 2


_ACTIVATIONS["gelu"] = _gelu_exact


def _probe_callable(fn: Any, h: np.ndarray, where: str) -> tuple[dict, np.ndarray]:
    """Identifies a parameter-free callable by evaluating it on ``h`` (float32, [N, ...])."""
    import jax.numpy as jnp
    try:
        out = np.asarray(fn(jnp.asarray(h)), dtype=np.float64)
    except Exception as e:
        raise NTKitError(f"{where}: calling it on an input of shape {list(h.shape)} failed ({e})") from None
    if out.shape == (h.shape[0], int(np.prod(h.shape[1:]))) and h.ndim > 2:
        if np.array_equal(out, h.reshape(h.shape[0], -1).astype(np.float64)):
            return {"type": "flatten"}, out.astype(np.float32)
        raise NTKitError(f"{where}: maps {list(h.shape)} to {list(out.shape)} but not as a row-major "
                         "x.reshape(N, -1); only that flatten is supported")
    if out.shape == h.shape:
        # A wide probe (including large |z|) tells the activations apart.
        z = np.concatenate([np.linspace(-6, 6, 97), h.ravel()[:64].astype(np.float64)])
        try:
            fz = np.asarray(fn(jnp.asarray(z, dtype=jnp.float32)), dtype=np.float64)
        except Exception as e:
            raise NTKitError(f"{where}: calling it elementwise failed ({e})") from None
        tol = 2e-6 * np.maximum(1, np.abs(z))
        if fz.shape == z.shape:
            for name, ref in _ACTIVATIONS.items():
                if np.all(np.abs(fz - ref(z)) <= tol):
                    return {"type": name}, out.astype(np.float32)
            # leaky_relu with slope alpha = -f(-1)
            alpha = _leaky_slope(fn, jnp)
            ref = np.where(z >= 0, z, alpha * z)
            if np.all(np.abs(fz - ref) <= tol) and alpha != 0:
                return {"type": "leaky_relu", "alpha": alpha}, out.astype(np.float32)
        hint = ""
        if getattr(fn, "__name__", "") == "gelu" or (isinstance(fn, functools.partial)
                                                      and getattr(fn.func, "__name__", "") == "gelu"):
            hint = " (Flax's gelu defaults to the tanh approximation; use functools.partial(nn.gelu, approximate=False))"
        raise NTKitError(f"{where}: an elementwise function that is none of the supported activations "
                         f"({', '.join(list(_ACTIVATIONS) + ['leaky_relu'])}){hint}")
    raise NTKitError(f"{where}: maps {list(h.shape)} to {list(out.shape)}; not a supported layer "
                     "(dense, conv, avg_pool, flatten or an activation)")


def _leaky_slope(fn: Any, jnp: Any) -> float:
    """The slope of a leaky ReLU: its ``negative_slope`` argument when visible (Flax/JAX
    default 0.01), else −f(−1) rounded to the shortest decimal that float32 reads back."""
    base = fn.func if isinstance(fn, functools.partial) else fn
    if getattr(base, "__name__", "") == "leaky_relu":
        kw = fn.keywords if isinstance(fn, functools.partial) else {}
        return float(kw.get("negative_slope", 0.01))
    return float(str(np.float32(-np.asarray(fn(jnp.asarray([-1.0], dtype=jnp.float32)))[0])))


def _pair(v: Any, name: str, where: str) -> list[int]:
    if v is None:
        return [1, 1]
    if isinstance(v, int):
        return [v, v]
    v = list(v)
    if len(v) == 1:
        return [int(v[0])] * 2
    if len(v) != 2:
        raise NTKitError(f"{where}: {name} {v} is not 2-D; only 2-D convolutions and pools are supported")
    return [int(a) for a in v]


def _padding(p: Any, where: str) -> str:
    if isinstance(p, str) and p.upper() in ("SAME", "VALID"):
        return p.lower()
    if p == 0 or p == (0, 0) or p == [(0, 0), (0, 0)] or p == ((0, 0), (0, 0)):
        return "valid"
    raise NTKitError(f"{where}: padding {p!r} is not supported; use \"SAME\" or \"VALID\"")


def _avg_pool(fn: Any, h: np.ndarray, where: str) -> dict | None:
    """``partial(nn.avg_pool, window_shape=…, strides=…)`` → an avgpool2d layer (None if not a pool)."""
    if not isinstance(fn, functools.partial) or getattr(fn.func, "__name__", "") not in ("avg_pool", "max_pool", "pool"):
        return None
    if fn.func.__name__ != "avg_pool":
        raise NTKitError(f"{where}: {fn.func.__name__} is not supported (only avg_pool)")
    kw = dict(fn.keywords)
    args = list(fn.args)
    window = kw.pop("window_shape", args[0] if args else None)
    strides = kw.pop("strides", args[1] if len(args) > 1 else None)
    padding = kw.pop("padding", args[2] if len(args) > 2 else "VALID")
    kw.pop("count_include_pad", None)
    if kw or window is None:
        raise NTKitError(f"{where}: avg_pool needs window_shape (and optionally strides, padding='VALID'); "
                         f"unsupported arguments {sorted(kw)}")
    if _padding(padding, where) != "valid":
        raise NTKitError(f"{where}: avg_pool padding must be \"VALID\", found {padding!r}")
    if h.ndim != 4:
        raise NTKitError(f"{where}: avg_pool needs [N, H, W, C] inputs, found shape {list(h.shape)}")
    w = _pair(window, "window_shape", where)
    return {"type": "avgpool2d", "window": w, "stride": _pair(strides, "strides", where) if strides is not None else w}


def _linen_layers(module: Any, variables: Any) -> list[tuple[Any, Any]]:
    params = variables.get("params", variables) if hasattr(variables, "get") else None
    if params is None:
        raise NTKitError("from_flax: variables must be the dict returned by module.init (with a 'params' entry)")
    extra = [k for k in getattr(variables, "keys", lambda: [])() if k != "params"]
    if extra:
        raise NTKitError(f"from_flax: variable collections {extra} are not supported (only 'params')")
    out = []
    for i, layer in enumerate(module.layers):
        out.append((layer, params.get(f"layers_{i}")))
    return out


def _dense_or_conv(layer: Any, p: dict[str, np.ndarray] | None, h: np.ndarray, index: int,
                   where: str) -> tuple[dict, dict[str, np.ndarray]]:
    """A linen Dense/Conv or nnx Linear/Conv → (spec layer, tensors)."""
    name = type(layer).__name__
    use_bias = bool(getattr(layer, "use_bias", True))
    if p is None:
        raise NTKitError(f"{where}: no parameters found for this {name}")
    kernel = np.asarray(p["kernel"], dtype=np.float32)
    tensors = {f"layers.{index}.kernel": kernel}
    if use_bias:
        tensors[f"layers.{index}.bias"] = np.asarray(p["bias"], dtype=np.float32)
    if name in ("Dense", "Linear"):
        if h.ndim != 2:
            raise NTKitError(f"{where}: {name} on inputs of shape {list(h.shape)}; the engine applies dense layers "
                             "to [N, d] only (add a flatten before it)")
        if kernel.ndim != 2:
            raise NTKitError(f"{where}: kernel of shape {list(kernel.shape)}, expected [fan_in, units]")
        return {"type": "dense", "units": int(kernel.shape[1]), "bias": use_bias}, tensors
    # Conv
    for attr, ok in (("input_dilation", (None, 1, (1, 1))), ("kernel_dilation", (None, 1, (1, 1))),
                     ("feature_group_count", (1,))):
        if hasattr(layer, attr) and getattr(layer, attr) not in ok:
            raise NTKitError(f"{where}: {attr}={getattr(layer, attr)!r} is not supported")
    if kernel.ndim != 4 or h.ndim != 4:
        raise NTKitError(f"{where}: only 2-D convolutions on [N, H, W, C] inputs are supported "
                         f"(kernel {list(kernel.shape)}, inputs {list(h.shape)})")
    return {"type": "conv2d", "filters": int(kernel.shape[3]), "kernel": [int(kernel.shape[0]), int(kernel.shape[1])],
            "stride": _pair(getattr(layer, "strides", 1), "strides", where),
            "padding": _padding(getattr(layer, "padding", "SAME"), where), "bias": use_bias}, tensors


def from_flax(module: Any, variables: Any = None, input_shape: Sequence[int] | None = None) -> tuple[Model, Params]:
    """Converts a Flax ``Sequential`` to ``(ntkit.Model, params)``.

    Args:
      module: a ``flax.linen.Sequential`` or ``flax.nnx.Sequential``.
      variables: for linen, the dict from ``module.init`` (``{"params": …}``); ignored for nnx.
      input_shape: the shape of ONE sample, e.g. ``(28, 28, 1)`` (NHWC images) or ``(8,)``.

    The model uses the standard parameterization (Flax's). Its outputs equal the
    Flax ``apply`` and its NTK equals neural-tangents' ``empirical_ntk_fn`` on it
    (trace mode summed over outputs where neural-tangents averages).
    """
    if input_shape is None:
        raise NTKitError("from_flax: input_shape (the shape of one sample, e.g. (28, 28, 1)) is required")
    input_shape = [int(d) for d in input_shape]
    kind = type(module).__module__
    if type(module).__name__ != "Sequential" or not hasattr(module, "layers"):
        raise NTKitError(f"from_flax: expected a flax.linen.Sequential or flax.nnx.Sequential, "
                         f"found {type(module).__module__}.{type(module).__name__}")
    is_nnx = ".nnx" in kind
    if is_nnx:
        pairs = []
        for layer in module.layers:
            p = None
            if hasattr(layer, "kernel"):
                p = {"kernel": np.asarray(layer.kernel.value)}
                if getattr(layer, "bias", None) is not None:
                    p["bias"] = np.asarray(layer.bias.value)
            pairs.append((layer, p))
    else:
        pairs = _linen_layers(module, variables)

    rng = np.random.default_rng(0)
    h = rng.standard_normal((3, *input_shape)).astype(np.float32)
    x0 = h
    layers: list[dict] = []
    params: Params = {}
    for i, (layer, p) in enumerate(pairs):
        name = type(layer).__name__
        label = getattr(layer.func if isinstance(layer, functools.partial) else layer, "__name__", name)
        where = f"from_flax: layer {i} ({label if name in ('function', 'partial', 'PjitFunction', 'custom_jvp') else name})"
        if name in ("Dense", "Linear", "Conv"):
            spec, tensors = _dense_or_conv(layer, p, h, i, where)
            params.update(tensors)
            if is_nnx:
                h = np.asarray(layer(h), dtype=np.float32)
            else:
                h = np.asarray(layer.clone(parent=None).apply({"params": p}, h), dtype=np.float32)
        elif hasattr(layer, "apply") and hasattr(layer, "setup") or name in ("BatchNorm", "LayerNorm", "Dropout"):
            raise NTKitError(f"{where}: {name} is not supported (only Dense/Linear, Conv, avg_pool, flatten and "
                             "activations)")
        elif callable(layer):
            pool = _avg_pool(layer, h, where)
            if pool is not None:
                spec = pool
                h = np.asarray(layer(h), dtype=np.float32)
            else:
                spec, h = _probe_callable(layer, h, where)
        else:
            raise NTKitError(f"{where}: not a layer")
        layers.append(spec)
    spec = {"input_shape": input_shape, "parameterization": "standard", "layers": layers}
    model = Model(spec)
    # The engine's forward must reproduce the Flax one.
    from .compute import forward
    ours = forward(model, params, x0, precision="f64", device="cpu")
    ref = h.reshape(h.shape[0], -1).astype(np.float64)
    if ours.shape != ref.shape or not np.allclose(ours, ref, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(ref).max()))):
        raise NTKitError("from_flax: the converted model's outputs differ from the Flax module's "
                         f"(max |Δ| = {float(np.abs(ours - ref).max()) if ours.shape == ref.shape else 'shape'}); "
                         "a layer is not what it seems")
    return model, params
