"""Seeded random streams on every backend (layer 1).

The Array API standard has no random number generation. :class:`Generator`
gives each backend a reproducible stream from an integer seed, using the
library's own generator where it has one (NumPy's PCG64, ``torch.Generator``,
JAX's threefry keys, CuPy's generator). The generic fallback, used for any
other namespace such as ``array_api_strict``, draws with NumPy on the host and
converts with ``xp.asarray``. The same seed gives the same stream on the same
backend; streams differ between backends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._dispatch import namespace_kind

__all__ = ["Generator", "check_random_state"]


def check_random_state(random_state: Any) -> int:
    """Turn ``None``, an int, a ``numpy.random.RandomState`` or ``Generator`` into an int seed."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative; got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise ValueError(
        f"random_state must be None, an int, a numpy RandomState or Generator; got {random_state!r}."
    )


class Generator:
    """A seeded random stream producing arrays of namespace ``xp`` on ``device``.

    Parameters
    ----------
    seed : None, int, numpy RandomState or Generator
    xp : namespace
    device : device, optional
    """

    def __init__(self, seed: Any = None, *, xp: Any, device: Any = None) -> None:
        self.seed = check_random_state(seed)
        self.xp = xp
        self.device = device
        self.kind = namespace_kind(xp)
        if self.kind == "torch":
            import torch

            dev = device if device is not None else torch.get_default_device()
            self._state: Any = torch.Generator(device=dev).manual_seed(self.seed)
        elif self.kind == "jax":
            import jax

            self._state = jax.random.key(self.seed)
        elif self.kind == "cupy":
            import cupy

            with device if device is not None else cupy.cuda.Device():
                self._state = cupy.random.default_rng(self.seed)
        else:  # numpy and the generic path
            self._state = np.random.default_rng(self.seed)

    def _float(self, dtype: Any) -> Any:
        if dtype is not None:
            return dtype
        return self.xp.__array_namespace_info__().default_dtypes(device=self.device)["real floating"]

    def _jax_key(self) -> Any:
        import jax

        self._state, sub = jax.random.split(self._state)
        return sub

    def _from_host(self, a: np.ndarray, dtype: Any = None) -> Any:
        out = self.xp.asarray(a, device=self.device)
        return out if dtype is None else self.xp.astype(out, dtype)

    def random(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Uniform floats in [0, 1) of the given shape."""
        dtype = self._float(dtype)
        shape = tuple(shape)
        if self.kind == "torch":
            import torch

            return torch.rand(shape, generator=self._state, dtype=dtype, device=self._state.device)
        if self.kind == "jax":
            import jax

            return jax.device_put(jax.random.uniform(self._jax_key(), shape, dtype=dtype), self.device)
        if self.kind == "cupy":
            with self.device:
                return self._state.random(shape, dtype=dtype)
        a = self._state.random(shape)
        return a.astype(dtype, copy=False) if self.kind == "numpy" else self._from_host(a, dtype)

    def normal(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Standard normal floats of the given shape."""
        dtype = self._float(dtype)
        shape = tuple(shape)
        if self.kind == "torch":
            import torch

            return torch.randn(shape, generator=self._state, dtype=dtype, device=self._state.device)
        if self.kind == "jax":
            import jax

            return jax.device_put(jax.random.normal(self._jax_key(), shape, dtype=dtype), self.device)
        if self.kind == "cupy":
            with self.device:
                return self._state.standard_normal(shape, dtype=dtype)
        a = self._state.standard_normal(shape)
        return a.astype(dtype, copy=False) if self.kind == "numpy" else self._from_host(a, dtype)

    def integers(self, high: int, shape: tuple[int, ...]) -> Any:
        """Integers in ``[0, high)`` of the given shape (default integer dtype)."""
        shape = tuple(shape)
        if self.kind == "torch":
            import torch

            return torch.randint(0, high, shape, generator=self._state, device=self._state.device)
        if self.kind == "jax":
            import jax

            return jax.device_put(jax.random.randint(self._jax_key(), shape, 0, high), self.device)
        if self.kind == "cupy":
            with self.device:
                return self._state.integers(0, high, shape)
        a = self._state.integers(0, high, shape)
        return a if self.kind == "numpy" else self._from_host(a)

    def permutation(self, n: int) -> Any:
        """A random permutation of ``range(n)`` (default integer dtype)."""
        if self.kind == "torch":
            import torch

            return torch.randperm(n, generator=self._state, device=self._state.device)
        if self.kind == "jax":
            import jax

            return jax.device_put(jax.random.permutation(self._jax_key(), n), self.device)
        if self.kind == "cupy":
            with self.device:
                return self._state.permutation(n)
        a = self._state.permutation(n)
        return a if self.kind == "numpy" else self._from_host(a)
