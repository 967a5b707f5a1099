"""Conformance helpers for toolbox's tests and downstream users (layers 0-2).

:data:`BACKEND_PARAMS` lists every backend/device combination toolbox
supports; :func:`backend_param` makes one ready to use or says why it must be
skipped. A pytest fixture parametrized over ``BACKEND_PARAMS`` gives each test
a :class:`TestBackend` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._config import use_backend
from ..backends import get_framework, to_backend

__all__ = ["BACKEND_PARAMS", "BackendParam", "TestBackend", "activated", "backend_param"]


@dataclass(frozen=True)
class BackendParam:
    """One cell of the test matrix: a backend, a device and options."""

    id: str
    backend: str
    device: str | None = None
    gpu: bool = False
    #: JAX only: run with 64-bit floats enabled.
    x64: bool = True
    #: array_api_strict only: allow data-dependent output shapes.
    data_dependent_shapes: bool = True


BACKEND_PARAMS: tuple[BackendParam, ...] = (
    BackendParam("numpy", "numpy"),
    BackendParam("numba", "numba"),
    BackendParam("array_api_strict", "array_api_strict"),
    BackendParam("array_api_strict-no-dds", "array_api_strict", data_dependent_shapes=False),
    BackendParam("torch-cpu", "torch", "cpu"),
    BackendParam("torch-cuda", "torch", "cuda", gpu=True),
    BackendParam("jax-cpu", "jax", "cpu"),
    BackendParam("jax-cpu-f32", "jax", "cpu", x64=False),
    BackendParam("jax-gpu", "jax", "gpu", gpu=True),
    BackendParam("cupy", "cupy", "cuda", gpu=True),
)


@dataclass
class TestBackend:
    """A backend made ready for a test: its namespace, device and converters."""

    __test__ = False  # not a pytest test class

    param: BackendParam
    xp: Any
    device: Any
    float64: bool
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def name(self) -> str:
        return self.param.backend

    @property
    def float_dtype(self) -> Any:
        """The widest float this backend holds on its device."""
        return self.xp.float64 if self.float64 else self.xp.float32

    def asarray(self, a: Any) -> Any:
        """Convert a NumPy array (or list) to this backend and device."""
        return to_backend(np.asarray(a), self.param.backend, self.param.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Copy any array back to NumPy."""
        return np.asarray(to_backend(x, "numpy"))

    def rtol(self, dtype: Any = None) -> float:
        """A relative tolerance suited to ``dtype`` (default: this backend's widest float)."""
        dtype = self.float_dtype if dtype is None else dtype
        return 1e-9 if dtype == getattr(self.xp, "float64", None) else 2e-4

    def close(self) -> None:
        self._stack.close()


def _gpu_available(backend: str) -> bool:
    try:
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
        if backend == "jax":
            import jax

            return bool(jax.devices("gpu"))
        if backend == "cupy":
            import cupy

            return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False
    return False


def backend_param(param: BackendParam) -> TestBackend | str:
    """Activate ``param``: a :class:`TestBackend` (call ``close()`` after), or the reason to skip."""
    module = {"numba": "numba", "torch": "torch", "jax": "jax", "cupy": "cupy",
              "array_api_strict": "array_api_strict"}.get(param.backend)
    if module is not None and importlib.util.find_spec(module) is None:
        return f"{module} is not installed"
    if param.gpu and not _gpu_available(param.backend):
        return f"no GPU for {param.backend}"
    stack = contextlib.ExitStack()
    if param.backend == "jax":
        import jax

        previous = bool(jax.config.jax_enable_x64)
        jax.config.update("jax_enable_x64", param.x64)
        stack.callback(jax.config.update, "jax_enable_x64", previous)
    if param.backend == "array_api_strict" and not param.data_dependent_shapes:
        import array_api_strict

        array_api_strict.set_array_api_strict_flags(data_dependent_shapes=False)
        stack.callback(array_api_strict.reset_array_api_strict_flags)
    stack.enter_context(use_backend(param.backend, param.device))
    fw = get_framework(param.backend)
    device = fw.device(param.device)
    return TestBackend(param, fw.xp, device, fw.supports_float64(device), stack)


@contextlib.contextmanager
def activated(param: BackendParam) -> Iterator[TestBackend]:
    """Context-manager form of :func:`backend_param`; raises RuntimeError if it must be skipped."""
    b = backend_param(param)
    if isinstance(b, str):
        raise RuntimeError(b)
    try:
        yield b
    finally:
        b.close()
