"""The backend test matrix: one ``xp`` fixture over every backend and device."""

from __future__ import annotations

import importlib.metadata
import os

import numpy as np
import pytest

from toolbox.testing import BACKEND_PARAMS, backend_param


def _cheap_xla_compiles() -> None:
    """Let XLA compile the suite's many small JAX programs with less optimisation (tests only).

    JAX compiles every new (op, shape, dtype) in eager mode; on the 2-core CI machines one costs 40-70 ms and
    compilation was most of the JAX tests' time. These flags cut it (the JAX tests of
    ``test_discriminant_analysis.py``: 158 -> 94 s) without changing what is computed. Set only when the
    user has not set ``XLA_FLAGS`` and only for the jaxlib these flags were checked on (unknown flags abort XLA).
    """
    try:
        major, minor = (int(v) for v in importlib.metadata.version("jaxlib").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return
    if (major, minor) >= (0, 10) and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = ("--xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0 "
                                   "--xla_llvm_disable_expensive_passes=true")


_cheap_xla_compiles()


@pytest.fixture(
    params=[pytest.param(p, id=p.id, marks=[pytest.mark.gpu] if p.gpu else []) for p in BACKEND_PARAMS]
)
def xp(request):
    """A :class:`toolbox.testing.TestBackend`, active for the whole test (``use_backend``)."""
    b = backend_param(request.param)
    if isinstance(b, str):
        pytest.skip(b)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
