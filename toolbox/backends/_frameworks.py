"""One small class per array library (layer 1).

Each class imports its framework only when first used, and an array is only
tested against a framework already present in ``sys.modules`` (as einops
does), so nothing heavy is imported until the data asks for it.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import Any

import numpy as np

from .._config import _check_installed

__all__ = ["FRAMEWORK_OF_BACKEND", "Framework", "framework_of", "get_framework"]

#: Backend name -> framework name (``numba`` computes on NumPy arrays).
FRAMEWORK_OF_BACKEND = {
    "numpy": "numpy",
    "numba": "numpy",
    "torch": "torch",
    "jax": "jax",
    "cupy": "cupy",
    "array_api_strict": "array_api_strict",
    "dask": "dask",
}


def _parse_index(spec: str) -> tuple[str, int | None]:
    kind, _, idx = spec.partition(":")
    return kind.strip().lower(), (int(idx) if idx else None)


class Framework:
    """The operations toolbox needs from one array library."""

    name: str = ""
    module: str = ""

    def is_array(self, x: Any) -> bool:
        raise NotImplementedError

    @cached_property
    def xp(self) -> Any:
        """The Array API namespace (array-api-compat wrapped where needed)."""
        raise NotImplementedError

    def device_of(self, x: Any) -> Any:
        import array_api_compat

        return array_api_compat.device(x)

    def device(self, spec: Any) -> Any:
        """Normalize a user's device spec (``None`` -> default device)."""
        raise NotImplementedError

    def is_host(self, device: Any) -> bool:
        return True

    def supports_float64(self, device: Any) -> bool:
        return True

    def to_device(self, x: Any, device: Any) -> Any:
        import array_api_compat

        return array_api_compat.to_device(x, device)

    def from_dlpack(self, x: Any, device: Any) -> Any:
        return self.xp.from_dlpack(x)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        raise NotImplementedError

    def to_host(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def describe_device(self, device: Any) -> str:
        return str(device)


class NumpyFramework(Framework):
    name = module = "numpy"

    def is_array(self, x: Any) -> bool:
        return isinstance(x, np.ndarray)

    @cached_property
    def xp(self) -> Any:
        import array_api_compat.numpy

        return array_api_compat.numpy

    def device_of(self, x: Any) -> Any:
        return "cpu"

    def device(self, spec: Any) -> Any:
        if spec is None or str(spec).lower() == "cpu":
            return "cpu"
        raise ValueError(f"NumPy arrays live on the CPU only; device {spec!r} is not available.")

    def to_device(self, x: Any, device: Any) -> Any:
        return x

    def from_dlpack(self, x: Any, device: Any) -> Any:
        return np.from_dlpack(x)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        return a


class StrictFramework(Framework):
    name = module = "array_api_strict"

    def is_array(self, x: Any) -> bool:
        return type(x).__module__.startswith("array_api_strict")

    @cached_property
    def xp(self) -> Any:
        import array_api_strict

        return array_api_strict

    def device(self, spec: Any) -> Any:
        xp = self.xp
        if spec is None or (isinstance(spec, str) and spec.lower() == "cpu"):
            return xp.Device()
        if isinstance(spec, xp.Device):
            return spec
        if isinstance(spec, str):
            return xp.Device(spec)
        raise ValueError(f"Unknown array_api_strict device {spec!r}.")

    def supports_float64(self, device: Any) -> bool:
        return "float64" in self.xp.__array_namespace_info__().dtypes(device=device)

    def describe_device(self, device: Any) -> str:
        text = str(device)  # "array_api_strict.Device('CPU_DEVICE')"
        return text.split("'")[1] if text.count("'") == 2 else text

    def from_dlpack(self, x: Any, device: Any) -> Any:
        out = self.xp.from_dlpack(x)
        return out if device == out.device else out.to_device(device)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        return self.xp.asarray(a, device=device)

    def to_host(self, x: Any) -> np.ndarray:
        return np.from_dlpack(x.to_device(self.xp.Device()))


class TorchFramework(Framework):
    name = module = "torch"

    def is_array(self, x: Any) -> bool:
        mod = sys.modules.get("torch")
        return mod is not None and isinstance(x, mod.Tensor)

    @cached_property
    def xp(self) -> Any:
        import array_api_compat.torch

        return array_api_compat.torch

    def device(self, spec: Any) -> Any:
        import torch

        if spec is None:
            return torch.get_default_device()
        if isinstance(spec, torch.device):
            return spec
        kind, idx = _parse_index(str(spec))
        if kind == "gpu":
            kind = "cuda"
        return torch.device(kind, idx) if idx is not None else torch.device(kind)

    def is_host(self, device: Any) -> bool:
        return device.type == "cpu"

    def supports_float64(self, device: Any) -> bool:
        return device.type != "mps"

    def to_device(self, x: Any, device: Any) -> Any:
        return x.to(device)

    def from_dlpack(self, x: Any, device: Any) -> Any:
        import torch

        out = torch.from_dlpack(x)
        return out if out.device == device else out.to(device)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        import torch

        return torch.as_tensor(np.ascontiguousarray(a), device=device)

    def to_host(self, x: Any) -> np.ndarray:
        return x.detach().cpu().resolve_conj().resolve_neg().numpy()


class JaxFramework(Framework):
    name = module = "jax"

    def is_array(self, x: Any) -> bool:
        mod = sys.modules.get("jax")
        return mod is not None and isinstance(x, mod.Array)

    @cached_property
    def xp(self) -> Any:
        import jax.numpy

        return jax.numpy

    def device_of(self, x: Any) -> Any:
        return next(iter(x.devices()))

    def device(self, spec: Any) -> Any:
        import jax

        if spec is None:
            return jax.devices()[0]
        if isinstance(spec, jax.Device):
            return spec
        kind, idx = _parse_index(str(spec))
        if kind == "cuda":
            kind = "gpu"
        try:
            devices = jax.devices(kind)
        except RuntimeError as exc:
            raise ValueError(f"JAX has no {kind!r} device: {exc}") from None
        return devices[idx or 0]

    def is_host(self, device: Any) -> bool:
        return device.platform == "cpu"

    def supports_float64(self, device: Any) -> bool:
        import jax

        return bool(jax.config.jax_enable_x64)

    def to_device(self, x: Any, device: Any) -> Any:
        import jax

        return jax.device_put(x, device)

    def from_dlpack(self, x: Any, device: Any) -> Any:
        import jax

        out = jax.dlpack.from_dlpack(x)
        return out if self.device_of(out) == device else jax.device_put(out, device)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        import jax

        return jax.device_put(a, device)

    def describe_device(self, device: Any) -> str:
        return f"{device.platform}:{device.id}"


class CupyFramework(Framework):
    name = module = "cupy"

    def is_array(self, x: Any) -> bool:
        mod = sys.modules.get("cupy")
        return mod is not None and isinstance(x, mod.ndarray)

    @cached_property
    def xp(self) -> Any:
        import array_api_compat.cupy

        return array_api_compat.cupy

    def device_of(self, x: Any) -> Any:
        return x.device

    def device(self, spec: Any) -> Any:
        import cupy

        if spec is None:
            return cupy.cuda.Device()
        if isinstance(spec, cupy.cuda.Device):
            return spec
        kind, idx = _parse_index(str(spec))
        if kind not in ("cuda", "gpu"):
            raise ValueError(f"CuPy arrays live on CUDA devices; device {spec!r} is not one.")
        return cupy.cuda.Device(idx or 0)

    def is_host(self, device: Any) -> bool:
        return False

    def to_device(self, x: Any, device: Any) -> Any:
        import cupy

        with device:
            return cupy.asarray(x)

    def from_dlpack(self, x: Any, device: Any) -> Any:
        import cupy

        out = cupy.from_dlpack(x)
        return out if out.device == device else self.to_device(out, device)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        import cupy

        with device:
            return cupy.asarray(a)

    def to_host(self, x: Any) -> np.ndarray:
        return x.get()

    def describe_device(self, device: Any) -> str:
        return f"cuda:{device.id}"


class DaskFramework(Framework):
    """``dask.array`` on the host: lazy, chunked by rows; estimators run blockwise (:mod:`toolbox.dask`)."""

    name = module = "dask"

    def is_array(self, x: Any) -> bool:
        mod = sys.modules.get("dask.array")
        return mod is not None and isinstance(x, mod.Array)

    @cached_property
    def xp(self) -> Any:
        import array_api_compat.dask.array

        return array_api_compat.dask.array

    def device_of(self, x: Any) -> Any:
        return "cpu"

    def device(self, spec: Any) -> Any:
        if spec is None or str(spec).lower() == "cpu":
            return "cpu"
        raise ValueError(f"Dask arrays live on the CPU (their workers' memory); device {spec!r} is not available.")

    def to_device(self, x: Any, device: Any) -> Any:
        return x

    def from_dlpack(self, x: Any, device: Any) -> Any:
        return self.from_host(np.from_dlpack(x), device)

    def from_host(self, a: np.ndarray, device: Any) -> Any:
        import dask.array as da

        a = np.asarray(a)
        chunks = {0: "auto", 1: -1} if a.ndim == 2 else "auto"  # by rows: toolbox's blockwise fits need it
        return da.from_array(a, chunks=chunks)

    def to_host(self, x: Any) -> np.ndarray:
        return np.asarray(x.compute())


_FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (NumpyFramework(), StrictFramework(), TorchFramework(), JaxFramework(), CupyFramework(),
              DaskFramework())
}


def get_framework(name: str) -> Framework:
    """Return the framework for a backend or framework name, checking it is installed."""
    fw = FRAMEWORK_OF_BACKEND.get(name, name)
    if fw not in _FRAMEWORKS:
        valid = ", ".join(repr(n) for n in FRAMEWORK_OF_BACKEND)
        raise ValueError(f"Unknown backend {name!r}; valid backends are {valid}.")
    _check_installed(fw)
    return _FRAMEWORKS[fw]


def framework_of(x: Any) -> Framework | None:
    """The framework that owns array ``x``, or None when ``x`` is not an array we know."""
    for fw in _FRAMEWORKS.values():
        if fw.is_array(x):
            return fw
    return None
