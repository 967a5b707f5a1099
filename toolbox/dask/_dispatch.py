"""Where a Dask call goes: the estimator methods' entry for ``dask.array`` input.

:func:`toolbox._hooks.wrap_dask` sends every public estimator method called with a
``dask.array`` ``X`` (or under ``tb.set_backend("dask")``) here. ``fit`` runs the
estimator's blockwise fit (:mod:`._fits`, :mod:`._iterative`) and stores NumPy
attributes; ``predict`` / ``transform`` / ``predict_proba`` ... stay lazy: a
``map_blocks`` of the estimator's own NumPy method over the row blocks. Estimators
without a blockwise fit raise a ``TypeError`` naming the alternatives.
"""

from __future__ import annotations

import copy
import importlib
import sys
from typing import Any

import numpy as np

from .._config import use_backend
from ._graph import check_rows, compute

__all__ = ["SUPPORTED", "call", "lazy_method", "supported_estimators"]

#: estimator (module, class) -> (module, function) of its blockwise fit
SUPPORTED: dict[tuple[str, str], tuple[str, str]] = {
    ("toolbox.preprocessing", "StandardScaler"): ("toolbox.dask._fits", "fit_standard_scaler"),
    ("toolbox.preprocessing", "MinMaxScaler"): ("toolbox.dask._fits", "fit_min_max_scaler"),
    ("toolbox.linear_model", "LinearRegression"): ("toolbox.dask._fits", "fit_linear_regression"),
    ("toolbox.linear_model", "Ridge"): ("toolbox.dask._fits", "fit_ridge"),
    ("toolbox.linear_model", "LogisticRegression"): ("toolbox.dask._iterative", "fit_logistic_regression"),
    ("toolbox.decomposition", "PCA"): ("toolbox.dask._fits", "fit_pca"),
    ("toolbox.decomposition", "TruncatedSVD"): ("toolbox.dask._fits", "fit_truncated_svd"),
    ("toolbox.discriminant_analysis", "LinearDiscriminantAnalysis"): ("toolbox.dask._fits", "fit_lda"),
    ("toolbox.naive_bayes", "GaussianNB"): ("toolbox.dask._fits", "fit_gaussian_nb"),
    ("toolbox.cluster", "KMeans"): ("toolbox.dask._iterative", "fit_kmeans"),
}

#: methods computed lazily, block by block, with the estimator's NumPy method
LAZY = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform",
        "inverse_transform", "score_samples")


def supported_estimators() -> list[str]:
    """Names of the estimators that fit blockwise on a Dask array."""
    return [name for _, name in SUPPORTED]


def _fit_function(est: Any) -> Any:
    cls = type(est)
    for (module, name), (fmod, fname) in SUPPORTED.items():
        if cls.__name__ == name and cls.__module__.startswith(module + "."):
            return getattr(importlib.import_module(fmod), fname)
    return None


def _unsupported(est: Any, method: str, was_dask: bool = True) -> TypeError:
    name = type(est).__name__
    if not was_dask:
        return TypeError(
            f"{name}.{method} cannot run under tb.set_backend('dask'): its fit is not a sum over rows. "
            f"Run it under another backend (with tb.use_backend('numpy'): ...), or use one of the "
            f"estimators that run on Dask: {', '.join(supported_estimators())}.")
    search = type(est).__module__.startswith("toolbox.model_selection")
    hint = (" To spread a search's candidates over a Dask cluster, fit it on NumPy data inside "
            "`with joblib.parallel_config('dask'):`." if search else "")
    return TypeError(
        f"{name}.{method} cannot run blockwise on a Dask array: its fit is not a sum over rows. "
        f"Either compute the data to NumPy first (X.compute(), if it fits in memory), or use one of "
        f"the estimators that run on Dask: {', '.join(supported_estimators())}.{hint}")


def _is_dask(x: Any) -> bool:
    mod = sys.modules.get("dask.array")
    return mod is not None and isinstance(x, mod.Array)


def _as_dask(x: Any, like: Any = None) -> Any:
    """NumPy (lists, pandas) input as a dask array chunked by rows (``like``'s row chunks if given)."""
    import dask.array as da

    from ..backends._convert import as_host_array
    from ..backends._frameworks import framework_of, get_framework

    if x is None or _is_dask(x):
        return x
    fw = framework_of(x)
    host = as_host_array(x) if fw is None else fw.to_host(x)
    if like is not None and host.ndim >= 1 and host.shape[0] == like.shape[0]:
        return da.from_array(host, chunks=(like.chunks[0], *((s,) for s in host.shape[1:])))
    return get_framework("dask").from_host(host, "cpu")


def _block_method(block: np.ndarray, est: Any, method: str) -> Any:
    """Run the estimator's NumPy ``method`` on one block (on a worker)."""
    with use_backend("auto"):
        return getattr(est, method)(block)


def _for_blocks(est: Any) -> Any:
    """A shallow copy without the lazy (dask) attributes, to ship to the blocks."""
    light = copy.copy(est)
    for key, value in list(vars(light).items()):
        if _is_dask(value):
            delattr(light, key)
    return light


def lazy_method(est: Any, method: str, X: Any) -> Any:
    """``getattr(est, method)`` mapped over the row blocks of ``X``: a lazy dask array."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X = check_rows(X, estimator=type(est).__name__)
    expected = getattr(est, "n_features_in_", None)
    if expected is not None and method != "inverse_transform" and X.shape[1] != expected:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting {expected} "
                         "features as input.")
    light = _for_blocks(est)
    probe = np.asarray(_block_method(np.zeros((1, X.shape[1]), dtype=X.dtype), light, method))
    if probe.ndim == 1:
        return X.map_blocks(_block_method, light, method, dtype=probe.dtype, drop_axis=1,
                            meta=np.empty((0,), dtype=probe.dtype))
    return X.map_blocks(_block_method, light, method, dtype=probe.dtype, chunks=(X.chunks[0], (probe.shape[1],)),
                        meta=np.empty((0, 0), dtype=probe.dtype))


def _score(est: Any, X: Any, y: Any, sample_weight: Any) -> float:
    import sklearn.base

    if sample_weight is not None:
        raise NotImplementedError(f"{type(est).__name__}.score with sample_weight is not implemented for "
                                  "Dask arrays yet.")
    if type(est).__name__ == "KMeans":
        X = check_rows(X, estimator="KMeans")
        light = _for_blocks(est)
        parts = X.map_blocks(lambda b: np.asarray([[_block_method(b, light, "score")]]), dtype=float,
                             chunks=((1,) * len(X.chunks[0]), (1,)))
        (total,) = compute(parts.sum())
        return float(total)
    if type(est).__name__ == "PCA":
        (value,) = compute(lazy_method(est, "score_samples", X).mean())
        return float(value)
    y_pred = lazy_method(est, "predict", X)
    y = _as_dask(y, like=y_pred)
    if y.chunks[0] != y_pred.chunks[0]:
        y = y.rechunk((y_pred.chunks[0],) + ((-1,) if y.ndim == 2 else ()))
    if sklearn.base.is_classifier(est):
        (acc,) = compute((y == y_pred).mean())
        return float(acc)
    y = y.astype(y_pred.dtype)
    if y.ndim == 1 and y_pred.ndim == 2:
        y_pred = y_pred[:, 0]
    ss_res, mean, sq = compute(((y - y_pred) ** 2).sum(axis=0), y.mean(axis=0), (y**2).sum(axis=0))
    n = y.shape[0]
    ss_tot = np.asarray(sq - n * mean**2)
    ss_res = np.asarray(ss_res)
    r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.where(ss_res > 0, 0.0, 1.0))
    return float(np.mean(r2))


def _mirror(result: Any, was_dask: bool) -> Any:
    """Under the "dask" backend, NumPy input gets NumPy output (outputs mirror the input by default)."""
    from .._config import get_config

    if was_dask or get_config()["output_type"] not in ("input", "numpy"):
        return result
    (out,) = compute(result)
    return out


def call(est: Any, method: str, func: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``est.method(*args, **kwargs)`` for a Dask ``X`` (or under the ``"dask"`` backend)."""
    args = list(args)
    X = args.pop(0) if args else kwargs.pop("X", None)
    if X is None:
        raise TypeError(f"{type(est).__name__}.{method} needs X.")
    was_dask = _is_dask(X)
    X = _as_dask(X)
    fit = _fit_function(est)
    if fit is None:
        raise _unsupported(est, method, was_dask)
    with use_backend("auto"):  # the finishing NumPy work (and nested NumPy fits) computes on the host
        if method in ("fit", "fit_transform", "fit_predict"):
            y = args.pop(0) if args else kwargs.pop("y", None)
            X = check_rows(X, estimator=type(est).__name__)
            est.n_features_in_ = int(X.shape[1])
            est.__dict__.pop("feature_names_in_", None)
            fit(est, X, y, *args, **kwargs)
            if method == "fit":
                return est
            return _mirror(lazy_method(est, "transform" if method == "fit_transform" else "predict", X), was_dask)
        if method in LAZY:
            if args or kwargs:
                extra = [k for k in kwargs if kwargs[k] is not None]
                if extra or any(a is not None for a in args):
                    raise NotImplementedError(f"{type(est).__name__}.{method} with extra arguments is not "
                                              "implemented for Dask arrays.")
            return _mirror(lazy_method(est, method, X), was_dask)
        if method == "score":
            y = args.pop(0) if args else kwargs.pop("y", None)
            sw = args.pop(0) if args else kwargs.pop("sample_weight", None)
            return _score(est, X, y, sw)
        if method == "partial_fit":
            raise NotImplementedError(f"{type(est).__name__}.partial_fit on a Dask array: call fit, which "
                                      "already makes one pass over all the blocks.")
    raise _unsupported(est, method)

