"""Cross-validation: fit and score an estimator on each fold, with the data on its device."""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import numbers
import time
import traceback
import warnings
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning

from .. import _hooks
from ..backends import framework_of, to_backend
from ._parallel import check_n_jobs, run_jobs
from ._routing import ByScorer, check_groups_routing_disabled, route
from ._scoring import _QUIET, _passthrough, check_scoring
from ._split import _take, check_cv

__all__ = ["cross_val_score", "cross_validate"]


def _scorers(estimator: Any, scoring: Any) -> dict[str, Any]:
    """``scoring`` as ``{name: scorer}``, with scikit-learn's checks and messages for multi-metric forms."""
    if scoring is None or callable(scoring) or isinstance(scoring, str):
        return {"score": check_scoring(estimator, scoring)}
    if isinstance(scoring, dict):
        if not all(isinstance(k, str) for k in scoring):
            raise ValueError(f"Non-string types were found in the keys of the given dict. scoring={scoring!r}")
        if not scoring:
            raise ValueError(f"An empty dict was passed. {scoring!r}")
        return {name: check_scoring(estimator, s) for name, s in scoring.items()}
    if isinstance(scoring, (list, tuple, set)):
        err = "The list/tuple elements must be unique strings of predefined scorers. "
        try:
            keys = set(scoring)
        except TypeError as exc:
            raise ValueError(err) from exc
        if len(keys) != len(scoring):
            raise ValueError(f"{err} Duplicate elements were found in the given list. {scoring!r}")
        if not keys:
            raise ValueError(f"{err} Empty list was given. {scoring!r}")
        if not all(isinstance(k, str) for k in keys):
            if any(callable(k) for k in keys):
                raise ValueError(f"{err} One or more of the elements were callables. Use a dict of score name "
                                 f"mapped to the scorer callable. Got {scoring!r}")
            raise ValueError(f"{err} Non-string types were found in the given list. Got {scoring!r}")
        return {name: check_scoring(estimator, name) for name in scoring}
    raise ValueError(f"scoring is invalid (got {scoring!r}). Refer to the scoring glossary for details: "
                     "https://scikit-learn.org/stable/glossary.html#term-scoring")


def _accepts_sample_weight(scorer: Any, estimator: Any = None) -> bool:
    """scikit-learn's test: the scorer's own ``_accept_sample_weight()``, else its signature
    (``estimator.score``'s for the default scorer)."""
    if scorer is _passthrough:
        scorer = getattr(estimator, "score", None)
        if scorer is None:
            return False
    if hasattr(scorer, "_accept_sample_weight"):
        return bool(scorer._accept_sample_weight())
    try:
        return "sample_weight" in inspect.signature(scorer).parameters
    except (TypeError, ValueError):
        return False


def _fit_and_score(estimator: Any, X: Any, y: Any, train: Any, test: Any, scorers: dict[str, Any], *,
                   params: dict[str, Any] | None, return_train_score: bool, error_score: Any,
                   fit_params: dict[str, Any] | None, verbose: int = 0, progress: str = "",
                   score_params: dict[str, Any] | None = None, callback_ctx: Any = None,
                   caller: Any = None) -> dict[str, Any]:
    token = _QUIET.set(True)  # fold scores are reported by the caller, not per scorer call
    try:
        result = _fit_and_score_fold(estimator, X, y, train, test, scorers, params=params,
                                     return_train_score=return_train_score, error_score=error_score,
                                     fit_params=fit_params, score_params=score_params,
                                     callback_ctx=callback_ctx, caller=caller)
    finally:
        _QUIET.reset(token)
    if verbose > 1:
        _print_end(result, params, verbose, progress)
    return result


def _print_end(result: dict[str, Any], params: dict[str, Any] | None, verbose: int, progress: str) -> None:
    """scikit-learn's per-fit line: ``[CV 1/3; 2/4] END C=0.1;, score=0.812 total time=   0.0s``."""
    end_msg = f"[CV{progress}] END "
    result_msg = ", ".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    result_msg += ";" if result_msg else ""
    test, train = result.get("test"), result.get("train")
    if verbose > 2 and test is not None:
        if list(test) == ["score"]:
            result_msg += ", score="
            result_msg += (f"(train={train['score']:.3f}, test={test['score']:.3f})" if train
                           else f"{test['score']:.3f}")
        else:
            for name in sorted(test):
                result_msg += f" {name}: (" + (f"train={train[name]:.3f}, " if train else "")
                result_msg += f"test={test[name]:.3f})"
    total = result["fit_time"] + result["score_time"]
    result_msg += f" total time={total:6.1f}s" if total < 60 else f" total time={total / 60:4.1f}min"
    print(end_msg + "." * (80 - len(end_msg) - len(result_msg)) + result_msg)


def _fit_and_score_fold(estimator: Any, X: Any, y: Any, train: Any, test: Any, scorers: dict[str, Any], *,
                        params: dict[str, Any] | None, return_train_score: bool, error_score: Any,
                        fit_params: dict[str, Any] | None,
                        score_params: dict[str, Any] | None = None, callback_ctx: Any = None,
                        caller: Any = None) -> dict[str, Any]:
    """One fold: clone, fit on ``train``, score on ``test``. ``callback_ctx``: the fold's task in the
    caller's (a search's) scikit-learn callback tree: begun before the fit (its callbacks propagated
    to the clone), ended after the scores, failed fit or not."""
    if callback_ctx is None:
        return _fit_and_score_fold_plain(estimator, X, y, train, test, scorers, params=params,
                                         return_train_score=return_train_score, error_score=error_score,
                                         fit_params=fit_params, score_params=score_params)
    fold_w = (fit_params or {}).get("sample_weight")
    metadata = None if fold_w is None else {"sample_weight": _take(fold_w, _as_indices(train))}
    X_train, y_train = _take(X, _as_indices(train)), _take(y, _as_indices(train))

    def fit(est: Any, Xf: Any, yf: Any, **kw: Any) -> None:
        with callback_ctx.propagate_callback_context(est):
            callback_ctx.call_on_fit_task_begin(estimator=caller, X=X_train, y=y_train, metadata=metadata)
            est.fit(Xf, **kw) if yf is None else est.fit(Xf, yf, **kw)

    try:
        return _fit_and_score_fold_plain(estimator, X, y, train, test, scorers, params=params,
                                         return_train_score=return_train_score, error_score=error_score,
                                         fit_params=fit_params, score_params=score_params, fit=fit)
    finally:
        callback_ctx.call_on_fit_task_end(estimator=caller, X=X_train, y=y_train, metadata=metadata)


def _fit_and_score_fold_plain(estimator: Any, X: Any, y: Any, train: Any, test: Any, scorers: dict[str, Any], *,
                              params: dict[str, Any] | None, return_train_score: bool, error_score: Any,
                              fit_params: dict[str, Any] | None, score_params: dict[str, Any] | None = None,
                              fit: Any = None) -> dict[str, Any]:
    train, test = _as_indices(train), _as_indices(test)
    est = clone(estimator)
    if params:  # estimators among the candidate's values are cloned too, never fitted in place
        est.set_params(**clone(params, safe=False))
    fit_params = {k: _take(v, train) if _is_sample_aligned(v, X) else v for k, v in (fit_params or {}).items()}
    X_train, X_test = _take(X, train), _take(X, test)
    if _pairwise(est):  # a precomputed kernel or distance matrix: its columns are the training samples too
        if not hasattr(X, "shape"):
            raise ValueError("Precomputed kernels or affinity matrices have to be passed as arrays or sparse "
                             "matrices.")
        shape = X.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("X should be a square kernel matrix")
        X_train, X_test = _take_columns(X_train, train), _take_columns(X_test, train)
    y_train, y_test = _take(y, train), _take(y, test)
    result: dict[str, Any] = {"estimator": est, "fit_error": None}
    start = time.perf_counter()
    try:
        if fit is not None:
            fit(est, X_train, y_train, **fit_params)
        elif y_train is None:
            est.fit(X_train, **fit_params)
        else:
            est.fit(X_train, y_train, **fit_params)
    except Exception as exc:
        if error_score == "raise":
            raise
        if not isinstance(error_score, numbers.Number):
            raise ValueError("error_score must be the string 'raise' or a numeric value.") from exc
        # reported once for all folds, as scikit-learn does: _warn_or_raise_about_fit_failures
        result["fit_error"] = traceback.format_exc()
        result["fit_time"] = time.perf_counter() - start
        result["score_time"] = 0.0
        result["test"] = None  # filled with error_score once the metric names are known (_fill_failed)
        if return_train_score:
            result["train"] = None
        result["failed"] = True
        return result
    result["fit_time"] = time.perf_counter() - start
    start = time.perf_counter()
    result["test"] = _score(scorers, est, X_test, y_test, error_score, _rows(score_params, test, X))
    result["score_time"] = time.perf_counter() - start
    if return_train_score:
        result["train"] = _score(scorers, est, X_train, y_train, error_score, _rows(score_params, train, X))
    result["failed"] = False
    return result


def _as_indices(idx: Any) -> Any:
    """Integer indices of a fold given as indices or as a boolean mask (scikit-learn takes both)."""
    if isinstance(idx, (list, tuple, np.ndarray)):
        a = np.asarray(idx)
        return np.flatnonzero(a) if a.dtype == bool else a
    fw = framework_of(idx)
    if fw is not None and fw.xp.isdtype(idx.dtype, "bool"):
        return fw.xp.nonzero(idx)[0]
    return idx


def _pairwise(estimator: Any) -> bool:
    try:
        return bool(estimator.__sklearn_tags__().input_tags.pairwise)
    except AttributeError:
        return False


def _take_columns(a: Any, idx: Any) -> Any:
    """Columns ``idx`` of a 2-D array (scikit-learn's _safe_split for pairwise estimators)."""
    if hasattr(a, "iloc"):
        return a.iloc[:, np.asarray(to_backend(idx, "numpy"))]
    if isinstance(a, list) or framework_of(a) is None:
        a = np.asarray(a)
    if type(a).__module__.startswith("scipy.sparse"):
        return a.tocsc()[:, np.asarray(to_backend(idx, "numpy"))].tocsr()
    fw = framework_of(a)
    if framework_of(idx) is not fw:
        idx = to_backend(idx, fw.name, fw.device_of(a))
    return fw.xp.take(a, idx, axis=1)


def _as_number(value: Any, name: str) -> float:
    if hasattr(value, "item"):  # 0-d arrays of any library, memmapped scalars
        with contextlib.suppress(ValueError, TypeError, RuntimeError):
            value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise ValueError(f"scoring must return a number, got {value!r} ({type(value)}) instead. (scorer={name})")
    return float(value)


def _rows(score_params: dict[str, Any] | None, idx: Any, X: Any) -> dict[str, Any]:
    """The scorers' parameters for rows ``idx``: per-sample arrays sliced (per scorer when routed)."""
    if not score_params:
        return {}
    if isinstance(score_params, ByScorer):
        return ByScorer({name: _rows(kw, idx, X) for name, kw in score_params.items()})
    return {k: _take(v, idx) if _is_sample_aligned(v, X) else v for k, v in score_params.items()}


def _score(scorers: dict[str, Any], est: Any, X: Any, y: Any, error_score: Any,
           score_params: dict[str, Any] | None = None) -> dict[str, float]:
    """name -> score; a scorer returning a dict contributes its keys (scikit-learn's callable multimetric).

    ``score_params`` (the test rows' ``sample_weight``) go to the scorers that accept them.
    """
    out: dict[str, float] = {}
    for name, scorer in scorers.items():
        if isinstance(score_params, ByScorer):  # metadata routing: each scorer's own requests
            kw = score_params.get(name, {})
        else:
            kw = score_params if score_params and _accepts_sample_weight(scorer, est) else {}
        try:
            value = scorer(est, X, **kw) if y is None else scorer(est, X, y, **kw)  # scikit-learn's call without y
        except Exception:
            if error_score == "raise":
                raise
            warnings.warn("Scoring failed. The score on this train-test partition for these parameters will be "
                          f"set to {error_score}. Details: \n{traceback.format_exc()}", UserWarning, stacklevel=2)
            value = error_score
        if isinstance(value, dict):
            for key, v in value.items():
                out[key] = _as_number(v, key)
        else:
            out[name] = _as_number(value, name)
    return out


def _fill_failed(results: list[dict[str, Any]], scorers: dict[str, Any], error_score: Any) -> list[str]:
    """Give failed fits ``error_score`` for every metric; return the metric names."""
    ok = next((r for r in results if not r["failed"]), None)
    names = list(ok["test"]) if ok is not None else list(scorers)
    for r in results:
        for kind in ("test", "train"):
            if kind in r and r[kind] is None:
                r[kind] = dict.fromkeys(names, float(error_score))
    return names


def _warn_or_raise_about_fit_failures(results: list[dict[str, Any]], error_score: Any) -> None:
    """scikit-learn's report of failed fits: one FitFailedWarning for some, a ValueError for all."""
    fit_errors = [r["fit_error"] for r in results if r.get("fit_error") is not None]
    if not fit_errors:
        return
    n_failed, n_fits = len(fit_errors), len(results)
    delimiter = "-" * 80 + "\n"
    summary = "\n".join(f"{delimiter}{n} fits failed with the following error:\n{error}"
                        for error, n in collections.Counter(fit_errors).items())
    if n_failed == n_fits:
        raise ValueError(
            f"\nAll the {n_fits} fits failed.\nIt is very likely that your model is misconfigured.\n"
            "You can try to debug the error by setting error_score='raise'.\n\n"
            f"Below are more details about the failures:\n{summary}"
        )
    warnings.warn(
        f"\n{n_failed} fits failed out of a total of {n_fits}.\nThe score on these train-test partitions for "
        f"these parameters will be set to {error_score}.\nIf these failures are not expected, you can try to "
        f"debug them by setting error_score='raise'.\n\nBelow are more details about the failures:\n{summary}",
        FitFailedWarning, stacklevel=3,
    )


def _is_sample_aligned(value: Any, X: Any) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) >= 1 and shape[0] == getattr(X, "shape", (None,))[0]


def cross_validate(estimator: Any, X: Any, y: Any = None, *, groups: Any = None, scoring: Any = None,
                   cv: Any = None, n_jobs: Any = None, verbose: int = 0, params: dict[str, Any] | None = None,
                   return_train_score: bool = False, return_estimator: bool = False,
                   return_indices: bool = False, error_score: Any = np.nan) -> dict[str, Any]:
    """Evaluate ``estimator`` by cross-validation; folds are index arrays on ``X``'s device.

    Parameters
    ----------
    estimator : estimator with ``fit``
    X : array of shape (n_samples, n_features), any backend
    y : array of shape (n_samples,) or None
    scoring : None, str, callable, list or dict
        None uses ``estimator.score``; see :func:`get_scorer_names`.
    cv : None, int, splitter or iterable
        An int gives (Stratified)KFold as scikit-learn does; default 5.
    params : dict, optional
        Passed to ``fit``; per-sample arrays (e.g. ``sample_weight``) are split with the folds.
    n_jobs : int or None
        Folds fitted side by side (threads; see :mod:`toolbox.model_selection._parallel`):
        None or 1 one at a time, -1 one per core. The results are those of ``n_jobs=1``.
    verbose : int
        Above 1, a line per fit in scikit-learn's format (above 2 with its scores).

    Returns
    -------
    dict with NumPy arrays ``fit_time``, ``score_time``, ``test_score`` (or
    ``test_<name>`` per metric), optionally ``train_*``, ``estimator``, ``indices``.
    """
    check_n_jobs(n_jobs)
    check_groups_routing_disabled(groups)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    scorers = _scorers(estimator, scoring)
    routed = route("cross_validate", estimator=estimator, splitter=splitter, scorers=scorers, groups=groups,
                   params=params)
    splits = list(splitter.split(X, y, **routed.split))
    results = run_jobs([
        functools.partial(_fit_and_score, estimator, X, y, train, test, scorers, params=None, fit_params=routed.fit,
                          return_train_score=return_train_score, error_score=error_score, verbose=verbose,
                          progress=f" {i + 1}/{len(splits)}", score_params=routed.by_scorer)
        for i, (train, test) in enumerate(splits)
    ], n_jobs)
    _warn_or_raise_about_fit_failures(results, error_score)
    names = _fill_failed(results, scorers, error_score)
    out: dict[str, Any] = {
        "fit_time": np.array([r["fit_time"] for r in results]),
        "score_time": np.array([r["score_time"] for r in results]),
    }
    single = names == ["score"]
    for name in names:
        key = "score" if single else name
        out[f"test_{key}"] = np.array([r["test"][name] for r in results])
        if return_train_score:
            out[f"train_{key}"] = np.array([r["train"][name] for r in results])
        for kind in ("test", "train") if return_train_score else ("test",):
            for fold, value in enumerate(out[f"{kind}_{key}"]):  # to the active run, when tracking listens
                _hooks.report_metric(estimator, f"cv_{kind}_{key}", value, fold)
    if return_estimator:
        out["estimator"] = [r["estimator"] for r in results]
    if return_indices:
        out["indices"] = {"train": [s[0] for s in splits], "test": [s[1] for s in splits]}
    return out


def cross_val_score(estimator: Any, X: Any, y: Any = None, *, groups: Any = None, scoring: Any = None,
                    cv: Any = None, n_jobs: Any = None, verbose: int = 0, params: dict[str, Any] | None = None,
                    error_score: Any = np.nan) -> np.ndarray:
    """Cross-validated scores, one per fold (a NumPy array of floats)."""
    if scoring is not None and not (isinstance(scoring, str) or callable(scoring)):
        raise ValueError("cross_val_score takes a single scoring; use cross_validate for several.")
    return cross_validate(estimator, X, y, groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs, params=params,
                          verbose=verbose, error_score=error_score)["test_score"]
