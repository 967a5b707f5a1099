"""The fit hook: estimator ``fit`` and ``fit_transform`` memoized when ``set_config(cache=True)``.

:mod:`toolbox._hooks` calls :func:`fit_hook` around every toolbox estimator's
``fit`` and ``fit_transform`` while the ``cache`` setting is on. The key holds
the estimator's class (and, for classes defined outside toolbox, the code of
their methods), its parameters in canonical form (nested estimators by class
and parameters), the content hash and device of every array argument, and the
environment (toolbox version, backend, device, output type). On a hit the
fitted state is restored into the estimator as an independent copy, with its
arrays on the device they were computed on, and the method's result (``self``,
or the output of ``fit_transform``) is returned; nothing is fitted.

What is cached:

* every fit whose inputs and parameters can be keyed (see
  :func:`toolbox.cache._keys.canonical`); otherwise the fit runs uncached
  (counted as ``uncacheable`` in :func:`toolbox.cache.info`);
* the fits nested inside another one (a search's fold fits, a pipeline's
  steps), each under its own key: a search re-run with one more grid point
  refits that candidate's folds only, and a pipeline's fitted preprocessing is
  shared by every candidate that leaves it unchanged;
* a search or any meta-estimator as a whole, when everything is identical.

Not cached: a ``fit`` that the same estimator's ``fit_transform`` calls (the
outer call is cached), and a ``warm_start=True`` fit of an estimator that is
already fitted (it continues from the state it has).
"""

from __future__ import annotations

import functools
import inspect
import logging
import types
from typing import Any

from .._hooks import fit_stack
from ._core import get_cache
from ._keys import Uncacheable, _code_digest, canonical, environment, fitted_state, key_of, qualified_name

__all__ = ["fit_hook", "fit_key"]

logger = logging.getLogger("toolbox.cache")

_OWN_MODULES = ("toolbox", "sklearn", "builtins", "abc")

#: Attributes a parent sets on an estimator around its fit (scikit-learn's callback wiring): not fitted
#: state, neither stored nor removed on a hit.
_TRANSIENT = frozenset({"_parent_callback_ctx", "_callback_fit_ctx", "_skl_callbacks",
                        "_skl_callbacks_to_teardown"})


def _state(estimator: Any) -> dict[str, Any]:
    return {k: v for k, v in fitted_state(estimator).items() if k not in _TRANSIENT}


@functools.lru_cache(maxsize=256)
def _class_code(cls: type) -> tuple[str, ...]:
    """Digests of the methods of ``cls``'s classes defined outside toolbox and scikit-learn (user subclasses)."""
    out = []
    for klass in cls.__mro__:
        if (klass.__module__ or "").split(".")[0] in _OWN_MODULES:
            continue
        for name, attr in sorted(vars(klass).items()):
            func = getattr(attr, "__func__", attr)
            # the user's own function under toolbox's wrappers (fit hooks, the dask dispatch: one each)
            func = inspect.unwrap(func) if callable(func) else func
            if isinstance(func, types.FunctionType):
                out.append(f"{klass.__qualname__}.{name}:{_code_digest(func.__code__)}")
    return tuple(out)


def fit_key(estimator: Any, method: str, args: tuple, kwargs: dict) -> str:
    """The cache key of ``estimator.<method>(*args, **kwargs)``; raises Uncacheable when there is none."""
    cls = type(estimator)
    name = cls.__name__
    params = estimator.get_params(deep=False)
    if params.get("warm_start") and any(k.endswith("_") for k in fitted_state(estimator)):
        raise Uncacheable(f"{name}(warm_start=True) is already fitted: its fit continues from that state")
    parts = [
        "fit", 1, method, qualified_name(cls), list(_class_code(cls)),
        canonical(params, f"{name} parameters"),
        canonical(list(args), f"{name}.{method} arguments"),
        canonical(dict(sorted(kwargs.items())), f"{name}.{method} keyword arguments"),
        environment(),
    ]
    return key_of(parts)


def _restore(estimator: Any, entry: dict) -> Any:
    """Put the cached fitted state (already an independent copy) into ``estimator``; the method's result."""
    state = entry["state"]
    names = set(estimator.get_params(deep=False))
    for attr in [k for k in vars(estimator) if k not in names and k not in state and k not in _TRANSIENT]:
        delattr(estimator, attr)  # left by an earlier fit: a real fit would not have it either
    vars(estimator).update(state)
    result = entry["result"]
    return estimator if result["self"] else result["value"]


def fit_hook(estimator: Any, method: str, call: Any, args: tuple, kwargs: dict) -> Any:
    """The ``cache`` fit hook of :mod:`toolbox._hooks` (see the module docstring)."""
    cache = get_cache()
    if not cache.active():
        return call()
    if any(est is estimator for est, _ in fit_stack()[:-1]):
        return call()  # fit called by the same estimator's fit_transform: the outer call is cached
    try:
        key = fit_key(estimator, method, args, kwargs)
    except Uncacheable as exc:
        logger.debug("fitting %s without the cache: %s", type(estimator).__name__, exc)
        cache.count("uncacheable")
        return call()
    hit, entry = cache.lookup(key)
    if hit:
        return _restore(estimator, entry)
    with cache.computing(key):
        hit, entry = cache.lookup(key, count_miss=False)  # another thread computed it meanwhile
        if hit:
            return _restore(estimator, entry)
        result = call()
        value = {"self": True} if result is estimator else {"self": False, "value": result}
        cache.store(key, {"state": _state(estimator), "result": value})
        return result
