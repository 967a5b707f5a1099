"""The ``jit`` hook: ``jax.jit`` on JAX, the plain function elsewhere (layer 1)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ._dispatch import namespace_kind

__all__ = ["jit"]


def jit(fn: Callable[..., Any] | None = None, *, static_argnames: Sequence[str] = ()) -> Any:
    """Compile ``fn`` with ``jax.jit`` when it is called with ``xp`` = JAX.

    ``fn`` must take the namespace as the keyword argument ``xp`` (always
    static) and keep static shapes: no boolean masks or data-dependent shapes.
    On other namespaces ``fn`` runs as it is. Usable as ``@jit`` or
    ``@jit(static_argnames=("n_classes",))``.
    """
    if fn is None:
        return functools.partial(jit, static_argnames=static_argnames)
    static = ("xp", *static_argnames)
    compiled: list[Any] = []

    @functools.wraps(fn)
    def wrapper(*args: Any, xp: Any, **kwargs: Any) -> Any:
        if namespace_kind(xp) != "jax":
            return fn(*args, xp=xp, **kwargs)
        if not compiled:
            import jax

            compiled.append(jax.jit(fn, static_argnames=static))
        return compiled[0](*args, xp=xp, **kwargs)

    wrapper.__wrapped_jit__ = True  # type: ignore[attr-defined]
    return wrapper
