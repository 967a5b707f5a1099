"""Host fast paths for torch and JAX arrays that live in CPU memory.

A CPU tensor's memory is ordinary host memory: NumPy can read it in place
(``Tensor.numpy()``, ``numpy.asarray`` of a JAX CPU array: no copy), so the
NumPy path's kernels (the threaded BLAS Gram matrix, the numba statistics
kernels where numba is installed) run on it directly. On this 2-core machine
PyTorch's CPU matrix product (MKL on an AMD CPU) and XLA's CPU reductions are
several times slower than those kernels. Only the small results (a d x d
matrix, per-column vectors) are wrapped back, except for torch, whose
``from_numpy`` shares a large result's memory too. Nothing here runs for
arrays on a GPU, and nothing moves between devices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["cpu_views", "host_or_generic", "numpy_kernel", "on_host"]


def numpy_kernel(name: str) -> Callable[..., Any]:
    """The NumPy path's implementation of primitive ``name``: numba's where installed, else NumPy's or generic."""
    from .. import primitives

    for kind in ("numba", "numpy"):
        module = primitives._native_module(kind)
        fn = getattr(module, name, None) if module is not None else None
        if fn is not None:
            return fn
    return primitives.GENERIC[name]


def on_host(name: str, args: tuple[Any, ...], to_numpy: Callable[[Any], np.ndarray],
            back: Callable[[np.ndarray], Any], **kwargs: Any) -> Any:
    """Run primitive ``name``'s NumPy kernel on host views of ``args`` (arrays; None and numbers pass as they are).

    Results are wrapped with ``back``.
    """
    host = tuple(a if a is None or isinstance(a, (int, float)) else to_numpy(a) for a in args)
    out = numpy_kernel(name)(*host, xp=np, **kwargs)
    if isinstance(out, tuple):
        return tuple(back(np.asarray(o)) for o in out)
    return back(np.asarray(out))


def host_or_generic(name: str, on_cpu: bool, args: tuple[Any, ...], to_numpy: Callable[[Any], np.ndarray],
                    back: Callable[[np.ndarray], Any], *, xp: Any) -> Any:
    """:func:`on_host` for arrays in CPU memory, else primitive ``name``'s generic implementation."""
    if on_cpu:
        return on_host(name, args, to_numpy, back)
    from .. import primitives

    return primitives.GENERIC[name](*args, xp=xp)


def cpu_views(*arrays: Any) -> tuple[Any, ...] | None:
    """Zero-copy NumPy views of torch / JAX arrays in CPU memory (``None`` entries stay ``None``).

    ``None`` when any array is on a GPU, traced (JAX) or requires grad (torch): the caller then
    computes with the framework itself.
    """
    views: list[Any] = []
    for a in arrays:
        if a is None:
            views.append(None)
        elif type(a).__module__.startswith("torch"):
            if a.device.type != "cpu" or a.requires_grad:
                return None
            views.append(a.numpy())
        else:
            import jax

            if isinstance(a, jax.core.Tracer) or next(iter(a.devices())).platform != "cpu":
                return None
            views.append(np.asarray(a))
    return tuple(views)
