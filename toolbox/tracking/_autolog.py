"""Autologging: every toolbox ``fit`` recorded as a run (see :mod:`toolbox._hooks`).

With ``set_config(autolog=True)`` (or :func:`autolog`), :func:`fit_hook` wraps
every estimator ``fit`` / ``fit_transform``:

* the **outermost** fit becomes a run (a child of the active run inside
  ``start_run``, else a run of its own in the autolog experiment): class,
  parameters, data shape / dtype / array type / device and content
  fingerprint (xxh3-128 of host arrays; device arrays are not copied to be
  hashed), fit time, backend and device;
* fits inside it (a search's candidates and refit, ``fit`` called by
  ``fit_transform``) are not runs of their own;
* a ``GridSearchCV`` / ``RandomizedSearchCV`` run gets one finished child run
  per candidate, with its parameters and fold scores (``test_<metric>`` at
  step = fold, plus mean, std and rank), read from ``cv_results_``;
* figures that solvers report with :func:`toolbox._hooks.report_metric`
  (per-iteration loss) become the metric history of the run of the estimator
  being fitted, and scores reported by scorers and ``cross_validate`` go to
  the run of the estimator scored, or to the active run.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import weakref
from typing import Any

from .. import _hooks
from .._config import get_config, set_config
from ._checks import NAME_RE, metric_value, param_value
from ._run import _LIVE, DEFAULT_EXPERIMENT, Run, _session, _start_run, active_run

__all__ = ["autolog", "fit_hook", "on_metric"]

#: estimator -> id of the run its latest autologged fit created
_RUN_OF: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_OPTIONS: dict[str, Any] = {"experiment": None}
_STEPS: dict[tuple[str, str], int] = {}
_PARAM_LIMIT = 500
_PERSISTENT: list[Any] = []


def autolog(disable: bool = False, *, experiment: str | None = None) -> None:
    """Record every toolbox ``fit`` as a run (``set_config(autolog=True)``); ``disable=True`` stops it.

    Parameters
    ----------
    disable : bool, default=False
    experiment : str, optional
        Experiment of the runs made for fits outside ``start_run`` (default ``"default"``).

    Scores computed outside any run (a scorer called on an autologged model,
    ``cross_validate``) are sent to the runs from this context on.
    """
    set_config(autolog=not disable)
    _OPTIONS["experiment"] = experiment
    if not disable and not _PERSISTENT:
        cm = _hooks.metric_listener(on_metric)
        cm.__enter__()
        _PERSISTENT.append(cm)


# --------------------------------------------------------------------------- #
# data facts
# --------------------------------------------------------------------------- #
def _on_host(x: Any) -> bool:
    mod = type(x).__module__.split(".", 1)[0]
    if mod in ("numpy", "array_api_strict", "pandas"):
        return True
    if mod == "torch":
        return getattr(getattr(x, "device", None), "type", None) == "cpu"
    if mod in ("jax", "jaxlib"):
        try:
            return all(d.platform == "cpu" for d in x.devices())
        except Exception:
            return False
    return False


def _fingerprint(x: Any) -> str | None:
    """xxh3-128 of a host array's bytes (no copy for contiguous data); None for device or non-arrays."""
    if not _on_host(x):
        return None
    import numpy as np

    if type(x).__module__.startswith("pandas"):
        x = x.to_numpy()
    try:
        from ..cache._hashing import hash_array
    except ImportError:  # the cache module is not there: hash NumPy buffers directly
        if not isinstance(x, np.ndarray):
            return None
        import xxhash

        h = xxhash.xxh3_128(f"{x.dtype.str}{x.shape}".encode())
        h.update(memoryview(np.ascontiguousarray(x)).cast("B"))
        return h.hexdigest()
    try:
        return hash_array(x)
    except TypeError:
        return None


def _describe(prefix: str, x: Any) -> dict[str, str]:
    if x is None:
        return {}
    shape = getattr(x, "shape", None)
    out = {f"data.{prefix}_type": f"{type(x).__module__.split('.', 1)[0]}.{type(x).__name__}"}
    if shape is not None:
        out[f"data.{prefix}_shape"] = "x".join(str(int(s)) for s in shape)
        out[f"data.{prefix}_dtype"] = str(getattr(x, "dtype", ""))
        device = getattr(x, "device", None)
        out[f"data.{prefix}_device"] = "cpu" if device is None else str(device() if callable(device) else device)
    return out


def _fingerprints(arrays: dict[str, Any]) -> dict[str, str]:
    out = {}
    for prefix, x in arrays.items():
        fp = _fingerprint(x) if getattr(x, "shape", None) is not None else None
        if fp is not None:
            out[f"data.{prefix}_fingerprint"] = fp
    return out


#: Data of at least this many bytes is hashed on a helper thread while the fit runs (joined after it).
_BACKGROUND_HASH_BYTES = 4 << 20


class _DataFacts:
    """Shape, dtype, type and device now; content fingerprints now or, for large data, beside the fit."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        self.tags = {**_describe("X", X), **_describe("y", y)}
        arrays = {k: v for k, v in (("X", X), ("y", y)) if v is not None}
        self._thread: threading.Thread | None = None
        self._late: dict[str, str] = {}
        if sum(int(getattr(v, "nbytes", 0) or 0) for v in arrays.values()) < _BACKGROUND_HASH_BYTES:
            self.tags.update(_fingerprints(arrays))
        else:  # toolbox fits never modify their input, so hashing it during the fit sees the same bytes
            self._thread = threading.Thread(target=lambda: self._late.update(_fingerprints(arrays)),
                                            name="toolbox-autolog-hash", daemon=True)
            self._thread.start()

    def late_tags(self) -> dict[str, str]:
        """The fingerprints hashed beside the fit (waits for them)."""
        if self._thread is None:
            return {}
        self._thread.join()
        return self._late


#: class -> its constructor's parameter names (scikit-learn reads the signature on every get_params)
_PARAM_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _params_of(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    try:
        if getattr(cls, "get_params", None) is _base_get_params():  # scikit-learn's own: the names suffice
            names = _PARAM_NAMES.get(cls)
            if names is None:
                names = _PARAM_NAMES[cls] = tuple(n for n in cls._get_param_names() if NAME_RE.fullmatch(n))
            params = {k: getattr(estimator, k) for k in names}
        else:
            params = estimator.get_params(deep=False)
    except Exception:
        return {}
    return {k: param_value(v, limit=_PARAM_LIMIT) for k, v in params.items() if NAME_RE.fullmatch(k)}


def _base_get_params() -> Any:
    from sklearn.base import BaseEstimator

    return BaseEstimator.get_params


def _metric_name(text: str) -> str:
    if isinstance(text, str) and NAME_RE.fullmatch(text):
        return text
    clean = "".join(c if NAME_RE.fullmatch(c) else "_" for c in str(text))[:250]
    return clean.strip(" /") or "metric"


# --------------------------------------------------------------------------- #
# the fit hook
# --------------------------------------------------------------------------- #
def _is_search(estimator: Any) -> bool:
    search = sys.modules.get("toolbox.model_selection._search")  # not imported: no search is running
    return search is not None and isinstance(estimator, search._BaseSearchCV)


def fit_hook(estimator: Any, method: str, call: Any, args: tuple, kwargs: dict) -> Any:
    """Record the outermost fit as a run; see the module docstring."""
    if len(_hooks.fit_stack()) > 1:  # inside another fit: part of that fit's run
        return call()
    cls = type(estimator)
    tags = {"toolbox.autolog": method, "toolbox.estimator": f"{cls.__module__}.{cls.__qualname__}"}
    facts = _DataFacts(args, kwargs)
    tags.update(facts.tags)
    parent = active_run()
    experiment = None if parent is not None else (_OPTIONS["experiment"] or DEFAULT_EXPERIMENT)
    # the run's creation, parameters and end are queued to the writer thread: the fit never waits on the store
    run = _start_run(experiment, cls.__name__, tags, parent=parent, params=_params_of(estimator), queued=True)
    try:
        _RUN_OF[estimator] = run.id
        start = time.perf_counter()
        with _hooks.metric_listener(on_metric):
            try:
                result = call()
                fit_time = time.perf_counter() - start
            finally:
                late = facts.late_tags()
        run.log_metric("fit_time", fit_time)
        if _is_search(estimator):
            _log_search(run, estimator)
    except BaseException:
        run.__exit__(*sys.exc_info())
        raise
    run.end(tags=late)
    return result


def _log_search(run: Run, search: Any) -> None:
    from sklearn.base import clone

    res = getattr(search, "cv_results_", None)
    if not res:
        return
    n_splits = int(getattr(search, "n_splits_", 0))
    metric_keys = sorted(k[len("mean_test_"):] for k in res if k.startswith("mean_test_"))
    kinds = ("test", "train") if any(k.startswith("mean_train_") for k in res) else ("test",)
    now = time.time()
    children = []
    base = search.estimator
    for i, cand in enumerate(res["params"]):
        try:
            full = clone(base).set_params(**cand)
            params = _params_of(full)
        except Exception:
            params = {}
        params.update({k: param_value(v, limit=_PARAM_LIMIT) for k, v in cand.items() if NAME_RE.fullmatch(k)})
        points = []
        for m in metric_keys:
            name = _metric_name(m)
            for kind in kinds:
                for s in range(n_splits):
                    col = res.get(f"split{s}_{kind}_{m}")
                    if col is not None:
                        points.append((f"{kind}_{name}", float(col[i]), s, now))
                for stat in ("mean", "std"):
                    col = res.get(f"{stat}_{kind}_{m}")
                    if col is not None:
                        points.append((f"{stat}_{kind}_{name}", float(col[i]), 0, now))
            rank = res.get(f"rank_test_{m}")
            if rank is not None:
                points.append((f"rank_test_{name}", float(rank[i]), 0, now))
        for key in ("mean_fit_time", "mean_score_time"):
            if key in res:
                points.append((key, float(res[key][i]), 0, now))
        children.append({"name": f"{run.name}-candidate-{i}", "start_time": now, "end_time": now,
                         "params": params, "metrics": points,
                         "tags": {"toolbox.candidate_index": str(i), "toolbox.autolog": "search candidate",
                                  "toolbox.estimator": f"{type(base).__module__}.{type(base).__qualname__}"}})
    tracking, eid, run_id = _session().tracking, run.experiment_id, run.id
    run._writer.put_op(lambda conn: tracking.create_finished_runs(eid, run_id, children, conn=conn))
    extra: dict[str, Any] = {"n_candidates": float(len(children))}
    if getattr(search, "best_score_", None) is not None:
        extra["best_score"] = search.best_score_
    if getattr(search, "refit_time_", None) is not None:
        extra["refit_time"] = search.refit_time_
    run.log_metrics(extra)
    best = getattr(search, "best_params_", None)
    if best is not None:
        run.set_tags({"best_params": ", ".join(f"{k}={v!r}" for k, v in sorted(best.items()))[:5000],
                      "best_index": str(search.best_index_)})


# --------------------------------------------------------------------------- #
# reported figures
# --------------------------------------------------------------------------- #
def on_metric(estimator: Any, name: str, value: Any, step: int | None) -> None:
    """Listener for :func:`toolbox._hooks.report_metric`: log into the estimator's run or the active run."""
    if not get_config()["autolog"]:
        return
    run_id = _RUN_OF.get(estimator) if estimator is not None else None
    if run_id is None:
        if _hooks.fit_stack():  # a fit's internals (a search's folds): recorded by the fit's run
            return
        run = active_run()
        if run is None:
            return
        run_id = run.id
    name = _metric_name(name)
    with contextlib.suppress(TypeError):
        v = metric_value(name, value)
        live = _LIVE.get(run_id)
        if live is not None:
            live_step = live._steps.get(name, 0) if step is None else int(step)
            live._steps[name] = live_step + 1
            step = live_step
        elif step is None:
            step = _STEPS.get((run_id, name), 0)
            if len(_STEPS) < 100_000:
                _STEPS[(run_id, name)] = step + 1
        _session().writer.put((run_id, name, v, int(step), time.time()))
