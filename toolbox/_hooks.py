"""Fit hooks (layer 0): how caching and autologging wrap every toolbox ``fit``.

:class:`toolbox.base.BaseEstimator` wraps the ``fit`` and ``fit_transform``
that each subclass defines with :func:`wrap_fit`. When no hook is active the
wrapper costs one settings lookup and one context-variable update.

A hook is ``hook(estimator, method, call, args, kwargs) -> result``: it may
run ``call()`` (the rest of the chain, ending in the real method) or return a
result without it (a cache hit). Hooks come from two places, outermost first:

* providers switched on by a setting (``set_config(autolog=True)``,
  ``set_config(cache=True)``), imported lazily from the fixed module paths in
  :data:`_PROVIDERS` the first time their setting is on;
* hooks added with :func:`add_fit_hook` (tests, downstream code).

:func:`fit_stack` tells a hook which fits are running around it in this
context (a ``Pipeline`` step inside a search candidate, a ``fit`` called from
``fit_transform``), so that a hook can act on the outermost call only.

Solvers report per-iteration figures they compute anyway with
:func:`report_metric`; it is a no-op unless a listener was installed with
:func:`metric_listener` (autologging does).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ._config import _current

__all__ = [
    "FitHook",
    "add_fit_hook",
    "fit_stack",
    "metric_listener",
    "remove_fit_hook",
    "report_metric",
    "wrap_dask",
    "wrap_fit",
]

#: ``hook(estimator, method, call, args, kwargs) -> result``
FitHook = Callable[[Any, str, Callable[[], Any], tuple, dict], Any]

#: setting name -> (module, attribute) of the hook it switches on; outermost first.
_PROVIDERS: dict[str, tuple[str, str]] = {
    "autolog": ("toolbox.tracking._autolog", "fit_hook"),
    "cache": ("toolbox.cache._estimators", "fit_hook"),
}
_LOADED: dict[str, FitHook] = {}
_EXTRA: dict[str, FitHook] = {}

_STACK: contextvars.ContextVar[tuple[tuple[Any, str], ...]] = contextvars.ContextVar(
    "toolbox_fit_stack", default=())
_LISTENER: contextvars.ContextVar[Callable[[Any, str, float, int | None], None] | None] = (
    contextvars.ContextVar("toolbox_metric_listener", default=None))


def add_fit_hook(name: str, hook: FitHook) -> None:
    """Add ``hook`` (innermost) under ``name``; replaces a hook of the same name."""
    _EXTRA[name] = hook


def remove_fit_hook(name: str) -> None:
    """Remove the hook added under ``name`` (no error if there is none)."""
    _EXTRA.pop(name, None)


def fit_stack() -> tuple[tuple[Any, str], ...]:
    """The ``(estimator, method)`` fits running in this context, outermost first (the current one last)."""
    return _STACK.get()


def _provider(name: str) -> FitHook:
    hook = _LOADED.get(name)
    if hook is None:
        module, attr = _PROVIDERS[name]
        hook = _LOADED[name] = getattr(importlib.import_module(module), attr)
    return hook


def _active_hooks() -> list[FitHook]:
    s = _current()
    hooks = [_provider(name) for name in _PROVIDERS if getattr(s, name)]
    hooks.extend(_EXTRA.values())
    return hooks


def _run(estimator: Any, method: str, func: Callable, args: tuple, kwargs: dict) -> Any:
    hooks = _active_hooks()
    token = _STACK.set((*_STACK.get(), (estimator, method)))
    try:
        if not hooks:
            return func(estimator, *args, **kwargs)

        def chain(i: int) -> Any:
            if i == len(hooks):
                return func(estimator, *args, **kwargs)
            return hooks[i](estimator, method, lambda: chain(i + 1), args, kwargs)

        return chain(0)
    finally:
        _STACK.reset(token)


def _callbacks_wanted(estimator: Any) -> bool:
    """scikit-learn callbacks set on ``estimator`` (or propagated to it by a meta-estimator), for a
    call that is not already inside one of its fits (fit_transform calling fit), and an estimator
    that does not run its own task tree (the searches)."""
    own = vars(estimator)
    return ("_skl_callbacks" in own and "_callback_fit_ctx" not in own
            and not getattr(type(estimator), "_callbacks_own_tasks", False))


def _with_callbacks(estimator: Any, args: tuple, kwargs: dict, run: Callable[[], Any]) -> Any:
    """``run()`` as one task of scikit-learn's callback API (sklearn.callback): setup, task begin,
    the fit, task end (a fitted copy for ``fitted_estimator``), teardown even when the fit fails."""
    from sklearn.callback import with_callbacks

    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    sw = kwargs.get("sample_weight", args[2] if len(args) > 2 else None)
    metadata = {"sample_weight": sw} if sw is not None else None

    @with_callbacks
    def managed(est: Any) -> Any:
        ctx = est._init_callback_context()
        ctx.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata=metadata)
        out = run()
        ctx.call_on_fit_task_end(estimator=est, X=X, y=y, metadata=metadata, reconstruction_attributes={})
        return out

    return managed(estimator)


def wrap_fit(func: Callable, method: str) -> Callable:
    """Return ``func`` (an estimator's ``fit`` or ``fit_transform``) running through the active hooks
    (and, when callbacks are set on the estimator, as one task of scikit-learn's callback API)."""
    if getattr(func, "__toolbox_fit_hooks__", False):
        return func

    @functools.wraps(func)
    def method_with_hooks(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _callbacks_wanted(self):
            return _with_callbacks(self, args, kwargs, lambda: _run(self, method, func, args, kwargs))
        return _run(self, method, func, args, kwargs)

    method_with_hooks.__toolbox_fit_hooks__ = True  # type: ignore[attr-defined]
    return method_with_hooks


def wrap_callbacks(func: Callable) -> Callable:
    """``partial_fit``: one callback task per call when callbacks are set (no fit hooks)."""
    if getattr(func, "__toolbox_callbacks__", False):
        return func

    @functools.wraps(func)
    def method_with_callbacks(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _callbacks_wanted(self):
            return _with_callbacks(self, args, kwargs, lambda: func(self, *args, **kwargs))
        return func(self, *args, **kwargs)

    method_with_callbacks.__toolbox_callbacks__ = True  # type: ignore[attr-defined]
    return method_with_callbacks


#: The estimator methods that route a ``dask.array`` (or the ``"dask"`` backend) to
#: :mod:`toolbox.dask`, imported from this fixed path the first time one is seen.
DASK_METHODS = ("fit", "fit_transform", "fit_predict", "partial_fit", "predict", "predict_proba",
                "predict_log_proba", "decision_function", "transform", "inverse_transform",
                "score", "score_samples")
_DASK_DISPATCH = ("toolbox.dask._dispatch", "call")


def _dask_input(args: tuple, kwargs: dict) -> bool:
    """True when the call's ``X`` is a ``dask.array`` or the active backend is ``"dask"``."""
    if _current().backend == "dask":
        return True
    mod = sys.modules.get("dask.array")  # nothing to check (nor import) until dask is in use
    if mod is None:
        return False
    X = args[0] if args else kwargs.get("X")
    return isinstance(X, mod.Array)


def wrap_dask(func: Callable, method: str) -> Callable:
    """Return ``func`` (a public estimator method) sending Dask input to :mod:`toolbox.dask`.

    Without dask in use this costs one settings lookup and one ``sys.modules`` lookup.
    """
    if getattr(func, "__toolbox_dask__", False):
        return func

    @functools.wraps(func)
    def method_on_dask(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _dask_input(args, kwargs):
            module, attr = _DASK_DISPATCH
            return getattr(importlib.import_module(module), attr)(self, method, func, args, kwargs)
        return func(self, *args, **kwargs)

    method_on_dask.__toolbox_dask__ = True  # type: ignore[attr-defined]
    method_on_dask.__toolbox_unwrapped__ = func  # type: ignore[attr-defined]
    return method_on_dask


@contextlib.contextmanager
def metric_listener(listener: Callable[[Any, str, float, int | None], None]) -> Iterator[None]:
    """Send :func:`report_metric` calls made in this context to ``listener(estimator, name, value, step)``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def report_metric(estimator: Any, name: str, value: Any, step: int | None = None) -> None:
    """Report a figure a solver computed anyway (a loss per iteration); free when nobody listens.

    ``value`` may be a 0-d array of any backend; it is converted with
    ``float()`` only when a listener is installed.
    """
    listener = _LISTENER.get()
    if listener is not None:
        listener(estimator, name, value, step)
