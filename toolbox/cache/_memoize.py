"""``@toolbox.cache.memoize``: cache a user function of arrays by the content of its arguments."""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ._core import get_cache
from ._keys import Uncacheable, canonical, environment, function_key, key_of, qualified_name

__all__ = ["memoize"]

logger = logging.getLogger("toolbox.cache")

F = TypeVar("F", bound=Callable[..., Any])


def _bind(sig: inspect.Signature | None, args: tuple, kwargs: dict) -> Any:
    """The call's arguments by name, defaults filled in: ``f(1, b=2)`` and ``f(1, 2)`` key alike."""
    if sig is not None:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            pass  # let the call itself raise its own error
        else:
            bound.apply_defaults()
            return ["bound", list(bound.arguments.items())]
    return ["raw", list(args), sorted(kwargs.items())]


@overload
def memoize(func: F, *, persist: bool = True) -> F: ...


@overload
def memoize(func: None = None, *, persist: bool = True) -> Callable[[F], F]: ...


def memoize(func: Any = None, *, persist: bool = True) -> Any:
    """Decorate ``func`` so that a call with the same arguments returns the cached result.

    Arguments are keyed by content: arrays (NumPy, torch, JAX, CuPy...) by
    their content hash, dtype, shape, memory order and device; scalars,
    strings and containers exactly; estimators by class and parameters. The
    function is keyed by its qualified name, code, defaults and the values in
    its closure (not by the module globals it reads; a closure over a mutable
    container or an unkeyable object makes it "this function in this
    process", kept in memory only), and every key includes the toolbox
    version, backend and device setting. A hit returns an independent copy
    of the result. Calls whose arguments cannot be keyed (a random generator,
    an arbitrary object) simply run.

    Parameters
    ----------
    func : callable
        A function of arrays returning arrays, scalars, strings, containers of
        them, or toolbox estimators.
    persist : bool, default True
        Also keep results in the disk tier when one is configured (results it
        cannot hold stay in memory).

    Examples
    --------
    >>> @toolbox.cache.memoize
    ... def gram(X):
    ...     return X.T @ X
    """
    if func is None:
        return functools.partial(memoize, persist=persist)
    if not callable(func):
        raise TypeError(f"memoize decorates a function; got {func!r}.")
    try:
        sig: inspect.Signature | None = inspect.signature(func)
    except (TypeError, ValueError):
        sig = None
    name = qualified_name(func)
    token = uuid.uuid4().hex  # names this decorated function when its closure cannot be keyed

    @functools.wraps(func)
    def memoized(*args: Any, **kwargs: Any) -> Any:
        cache = get_cache()
        if not cache.active():
            return func(*args, **kwargs)
        try:
            ident, durable = function_key(func, token)
            key = key_of(["memoize", 1, ident, canonical(_bind(sig, args, kwargs), f"{name} arguments"),
                          environment()])
        except Uncacheable as exc:
            logger.debug("calling %s without the cache: %s", name, exc)
            cache.count("uncacheable")
            return func(*args, **kwargs)
        hit, value = cache.lookup(key)
        if hit:
            return value
        with cache.computing(key):
            hit, value = cache.lookup(key, count_miss=False)
            if hit:
                return value
            result = func(*args, **kwargs)
            cache.store(key, result, persist=persist and durable)
            return result

    memoized.__toolbox_memoized__ = True  # type: ignore[attr-defined]
    return memoized
