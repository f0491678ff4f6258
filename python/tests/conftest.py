"""Shared set-up of the ntkit pytest suite.

The package is imported from the source tree (python/ntkit); the engine library is
$NTKIT_LIBRARY (make test points it at .build/debug/libntkit_c.so) or the copy an
installed package ships. float64 JAX is enabled for the neural-tangents references.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
sys.path.insert(0, str(PYTHON_DIR))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

import ntkit  # noqa: E402

# Probe OpenCL (PoCL) once before TensorFlow is imported (neural-tangents imports it):
# PoCL's LLVM loaded after TensorFlow's crashes, loaded before it works.
ntkit.forward({"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}, None, np.zeros((1, 2)), device="auto")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

FIXTURES = REPO / "Tests" / "NTKitTests" / "Fixtures"
GOLDEN = FIXTURES / "golden"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ntk_binary() -> Path:
    """The built `ntk` CLI ($NTK_BINARY, default .build/debug/ntk); the suite fails without it."""
    path = Path(os.environ.get("NTK_BINARY", REPO / ".build" / "debug" / "ntk"))
    if not path.is_file():
        pytest.fail(f"{path}: the ntk binary is needed (swift build --product ntk, or set NTK_BINARY)")
    return path


def golden_cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
