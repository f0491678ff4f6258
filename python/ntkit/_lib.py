"""Loading ``libntkit_c`` and calling it: ctypes signatures, errors, interruption.

Every engine call runs in a worker thread while the calling thread waits; ctypes
releases the GIL for the duration of the C call. Ctrl-C in the waiting thread sets
the call's cancel token, the engine stops at its next check (between NTK tiles,
selection steps, training epochs) with status 2, and ``KeyboardInterrupt`` is
raised. The arrays a call uses are kept alive until the worker has returned.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import threading
from ctypes import POINTER, c_char_p, c_double, c_float, c_int32, c_int64, c_size_t, c_uint64, c_void_p
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ._errors import NTKitError

_ABI_VERSION = 1
_ERR_LEN = 4096
_STATUS_OK, _STATUS_ERROR, _STATUS_INTERRUPTED = 0, 1, 2

_c_char_pp = POINTER(c_char_p)
_c_float_p = POINTER(c_float)
_c_int64_p = POINTER(c_int64)
_c_int32_p = POINTER(c_int32)

# name -> (restype, argtypes); the C declarations are in Sources/NTKitC/*.swift.
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "ntk_abi_version": (c_int32, []),
    "ntk_free": (None, [c_void_p]),
    "ntk_model_create": (c_int32, [c_char_p, c_char_p, POINTER(c_void_p), c_char_p, c_size_t]),
    "ntk_model_free": (None, [c_void_p]),
    "ntk_model_describe": (c_int32, [c_void_p, POINTER(c_void_p), c_char_p, c_size_t]),
    "ntk_model_init": (c_int32, [c_void_p, c_uint64, c_void_p, c_char_p, c_size_t]),
    "ntk_model_pack": (c_int32, [c_void_p, c_int64, c_void_p, c_void_p, c_void_p, c_void_p, c_char_p, c_void_p,
                                 c_char_p, c_size_t]),
    "ntk_weights_read": (c_int32, [c_char_p, POINTER(c_void_p), POINTER(c_void_p), c_char_p, c_size_t]),
    "ntk_weights_write": (c_int32, [c_char_p, c_int64, c_void_p, c_void_p, c_void_p, c_void_p, c_char_p, c_size_t]),
    "ntk_forward": (c_int32, [c_void_p, c_void_p, c_void_p, c_void_p, c_int64, c_char_p, c_void_p,
                              POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "ntk_jacobian": (c_int32, [c_void_p, c_void_p, c_void_p, c_void_p, c_int64, c_char_p, c_void_p,
                               POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "ntk_gram": (c_int32, [c_void_p, c_void_p, c_void_p, c_void_p, c_int64, c_void_p, c_void_p, c_int64,
                           c_char_p, c_void_p, c_int64, POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "ntk_collective_variables": (c_int32, [c_void_p, c_int64, c_int32, c_char_p, c_void_p, POINTER(c_void_p),
                                           c_char_p, c_size_t]),
    "ntk_train": (c_int32, [c_void_p, c_void_p, c_void_p, c_void_p, c_int64, c_void_p, c_int64, c_int32,
                            c_void_p, c_void_p, c_int64, c_void_p, c_int64, c_char_p, c_void_p,
                            POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
    "ntk_select": (c_int32, [c_void_p, c_void_p, c_int64, c_void_p, c_char_p, c_void_p, c_void_p,
                             POINTER(c_void_p), c_void_p, c_char_p, c_size_t]),
}

_lib: ctypes.CDLL | None = None
_lock = threading.Lock()


def library_path() -> Path:
    """Where ``libntkit_c`` is loaded from: ``$NTKIT_LIBRARY`` or the copy shipped in the package."""
    env = os.environ.get("NTKIT_LIBRARY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "_native" / "libntkit_c.so"


def lib() -> ctypes.CDLL:
    """The loaded library (loaded once, on first use)."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not path.is_file():
                raise NTKitError(
                    f"{path}: libntkit_c not found; install the package with `pip install ./python` from the "
                    "NTKit repository (it builds the library), or set NTKIT_LIBRARY to a built libntkit_c.so")
            try:
                handle = ctypes.CDLL(str(path))
            except OSError as e:
                raise NTKitError(f"{path}: cannot load libntkit_c ({e})") from None
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(handle, name)
                fn.restype = restype
                fn.argtypes = argtypes
            found = handle.ntk_abi_version()
            if found != _ABI_VERSION:
                raise NTKitError(f"{path}: ABI version {found}, expected {_ABI_VERSION}; reinstall ntkit")
            _lib = handle
    return _lib


def take_string(p: c_void_p) -> str | None:
    """The text of a malloc'd C string from the library, freed."""
    if not p.value:
        return None
    try:
        return ctypes.string_at(p.value).decode("utf-8")
    finally:
        lib().ntk_free(p)


def take_json(p: c_void_p) -> Any:
    """The JSON value of a malloc'd C string from the library, freed (None when absent)."""
    text = take_string(p)
    return None if text is None else json.loads(text)


def call(name: str, *args: Any, keep: Sequence[Any] = (), cancel: c_int32 | None = None,
         threaded: bool = True) -> None:
    """Calls ``name(*args, [cancel,] err, errlen)`` and raises on a non-zero status.

    With ``threaded`` the call runs in a worker thread (``cancel`` is then passed
    before the error buffer) so that Ctrl-C can stop it; ``keep`` holds objects
    (numpy arrays) the worker reads or writes until it has returned.
    """
    fn: Callable[..., int] = getattr(lib(), name)
    err = ctypes.create_string_buffer(_ERR_LEN)
    if not threaded:
        status = fn(*args, err, _ERR_LEN)
        _raise(status, err)
        return
    token = cancel if cancel is not None else c_int32(0)
    result: list[int] = []
    failure: list[BaseException] = []
    full = (*args, ctypes.byref(token), err, _ERR_LEN)

    def work(_keep: Sequence[Any] = keep) -> None:
        try:
            result.append(fn(*full))
        except BaseException as e:  # a ctypes argument error, never expected
            failure.append(e)

    worker = threading.Thread(target=work, name=f"ntkit:{name}", daemon=True)
    interrupted = _run_and_wait(worker, token)
    if failure:
        raise failure[0]
    if interrupted:
        raise KeyboardInterrupt
    _raise(result[0], err)


def _run_and_wait(worker: threading.Thread, token: c_int32) -> bool:
    """Starts ``worker`` and waits for it; True when Ctrl-C asked it to stop.

    In the main thread, SIGINT is turned into a request for the duration of the
    call: the handler only sets the cancel token, so no ``KeyboardInterrupt`` can
    land between starting the worker and waiting for it (which would leave the
    engine running on buffers the caller is about to drop). The previous handler
    is restored, and called, once the worker has returned.
    """
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if not main or not callable(previous):  # not ours to handle (SIG_IGN, SIG_DFL, a C handler)
        worker.start()
        interrupted = False
        while True:
            try:
                worker.join()
                return interrupted
            except KeyboardInterrupt:
                token.value = 1
                interrupted = True
    requested: list[Any] = []

    def on_sigint(signum: int, frame: Any) -> None:
        token.value = 1
        requested.append(frame)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        worker.start()
        worker.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    if requested and previous is not signal.default_int_handler:
        previous(signal.SIGINT, requested[0])  # the application's own handler decides
    return bool(requested)


def _raise(status: int, err: ctypes.Array) -> None:
    if status == _STATUS_OK:
        return
    message = err.value.decode("utf-8", errors="replace")
    if status == _STATUS_INTERRUPTED:
        raise KeyboardInterrupt(message)
    raise NTKitError(message)


def options(**kwargs: Any) -> bytes:
    """The JSON options object of a call, without the None values."""
    return json.dumps({k: v for k, v in kwargs.items() if v is not None}).encode("utf-8")


def ptr(a: np.ndarray | None) -> c_void_p | None:
    """The data pointer of a C-contiguous array (None for None)."""
    return None if a is None else c_void_p(a.ctypes.data)


def shape_array(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.shape, dtype=np.int64)


def named_tensor_args(names: Sequence[str], arrays: Sequence[np.ndarray]) -> tuple[list[Any], list[Any]]:
    """ctypes arguments (count, names, ranks, dims, data) for a list of float32 tensors, plus what to keep alive."""
    n = len(names)
    c_names = (c_char_p * max(n, 1))(*[s.encode("utf-8") for s in names])
    ranks = np.array([a.ndim for a in arrays], dtype=np.int64)
    dims = np.array([d for a in arrays for d in a.shape], dtype=np.int64)
    data = (c_void_p * max(n, 1))(*[a.ctypes.data for a in arrays])
    if ranks.size == 0:
        ranks = np.zeros(1, np.int64)
    if dims.size == 0:
        dims = np.zeros(1, np.int64)
    args = [c_int64(n), ctypes.cast(c_names, c_void_p), ptr(ranks), ptr(dims), ctypes.cast(data, c_void_p)]
    return args, [c_names, ranks, dims, data, *arrays]


__all__ = ["lib", "library_path", "call", "take_json", "take_string", "options", "ptr", "shape_array",
           "named_tensor_args", "c_double"]


# PoCL (the CPU OpenCL platform) loads its own LLVM; TensorFlow exports LLVM symbols
# process-wide, and a PoCL loaded after it crashes the interpreter inside LLVM's
# static initialisers. Loaded before TensorFlow it works. So: once TensorFlow is
# imported and OpenCL was never probed, "auto" means the CPU and an explicit OpenCL
# device is refused with an error instead of a crash.
_opencl_probed = False
_LLVM_CLASHING_MODULES = ("tensorflow",)


def resolve_device(device: str) -> tuple[str, list[str]]:
    """The device name to pass to the engine, and warnings to show."""
    global _opencl_probed
    if not isinstance(device, str):
        raise NTKitError(f"device must be a string (auto, cpu, opencl, opencl:P:D), found {device!r}")
    if device == "cpu" or _opencl_probed:
        return device, []
    clash = next((m for m in _LLVM_CLASHING_MODULES if m in __import__("sys").modules), None)
    if clash is None:
        _opencl_probed = True
        return device, []
    if device == "auto":
        return "cpu", [f"ntkit: OpenCL not probed because {clash} is loaded in this process (its LLVM clashes with "
                       "PoCL's); using the CPU. Import ntkit and make one call before importing it to use OpenCL."]
    raise NTKitError(f"device {device}: OpenCL cannot be loaded after {clash} in one process (their LLVM copies "
                     "clash and would crash the interpreter); use device='cpu', or call ntkit with this device "
                     f"before importing {clash}")
