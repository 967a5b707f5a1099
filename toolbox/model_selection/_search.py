"""Hyper-parameter search over a grid or random draws, cross-validated on the data's device."""

from __future__ import annotations

import contextlib
import functools
import numbers
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sklearn.base import MetaEstimatorMixin, clone, is_classifier
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import BaseEstimator
from ._parallel import check_n_jobs, run_jobs
from ._routing import reject_params_without_routing, route, routing_enabled
from ._split import check_cv
from ._validation import (
    _accepts_sample_weight,
    _fill_failed,
    _fit_and_score,
    _scorers,
    _warn_or_raise_about_fit_failures,
)

__all__ = ["GridSearchCV", "RandomizedSearchCV"]


def _rank(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = best; NaN scores rank last; ties share the lowest rank (scikit-learn's 'min')."""
    filled = np.where(np.isnan(scores), -np.inf, scores)
    order = np.argsort(-filled, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int32)
    sorted_vals = filled[order]
    first = np.concatenate([[True], sorted_vals[1:] != sorted_vals[:-1]])
    group_rank = np.maximum.accumulate(np.where(first, np.arange(1, len(scores) + 1), 0))
    ranks[order] = group_rank
    return ranks


def _check_refit(search: Any, attr: str) -> None:
    if search.refit is False:
        raise AttributeError(
            f"This {type(search).__name__} instance was initialized with `refit=False`. {attr} is available only "
            "after refitting on the best parameters. You can refit an estimator manually using the "
            "`best_params_` attribute"
        )


def _estimator_has(attr: str) -> Any:
    """``available_if`` check: the best (else the given) estimator has ``attr`` and ``refit`` is on."""

    def check(search: Any) -> bool:
        _check_refit(search, attr)
        getattr(search.best_estimator_ if hasattr(search, "best_estimator_") else search.estimator, attr)
        return True

    return check


class _BaseSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Shared machinery: evaluate candidates, fill ``cv_results_``, refit the best."""

    def __init__(self, estimator: Any, *, scoring: Any = None, n_jobs: Any = None, refit: Any = True,
                 cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs", error_score: Any = np.nan,
                 return_train_score: bool = False) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.error_score = error_score
        self.return_train_score = return_train_score

    def _candidates(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _sk_visual_block_(self) -> Any:
        """scikit-learn's HTML diagram: the best estimator once refitted, else the searched one."""
        from sklearn.utils._repr_html.estimator import _VisualBlock

        key, est = ("best_estimator_", self.best_estimator_) if hasattr(self, "best_estimator_") else (
            "estimator", self.estimator)
        return _VisualBlock("parallel", [est], names=[f"{key}: {est.__class__.__name__}"], name_details=[str(est)])

    def _score_params(self, scorers: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """fit's ``sample_weight``, for the scorers, when one of them takes it (scikit-learn 1.9's rule);
        a warning names each scorer that does not."""
        if params.get("sample_weight") is None:
            return {}
        accept = {name: _accepts_sample_weight(sc, self.estimator) for name, sc in scorers.items()}
        for name, ok in accept.items():
            if not ok:
                what = f"{name}={scorers[name]}" if list(scorers) != ["score"] else f"{scorers[name]}"
                warnings.warn(f"The scoring {what} does not support sample_weight, which may lead to "
                              f"statistically incorrect results when fitting {self} with sample_weight. ",
                              UserWarning, stacklevel=3)
        return {"sample_weight": params["sample_weight"]} if any(accept.values()) else {}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        sub = self.estimator.__sklearn_tags__()
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = sub.classifier_tags
        tags.regressor_tags = sub.regressor_tags
        tags.input_tags = sub.input_tags
        return tags

    #: the search runs its own scikit-learn callback task tree (root, search, each fold, refit)
    _callbacks_own_tasks = True

    def fit(self, X: Any, y: Any = None, **params: Any) -> _BaseSearchCV:
        """Evaluate every candidate by cross-validation, then refit the best on all of ``X``.

        With scikit-learn callbacks set (``set_callbacks``), the tasks are scikit-learn's: the root,
        ``search`` with one ``candidate-split-evaluation`` per fit (auto-propagated callbacks reach
        each fold's estimator), and ``refit-with-best-params``.
        """
        if "_skl_callbacks" not in vars(self) and "_parent_callback_ctx" not in vars(self):
            return self._fit(X, y, params, None)
        from sklearn.callback import with_callbacks

        sw = params.get("sample_weight")
        metadata = None if sw is None else {"sample_weight": sw}
        return with_callbacks(lambda est: est._fit(X, y, params, metadata))(self)

    def _fit(self, X: Any, y: Any, params: dict[str, Any], metadata: Any) -> _BaseSearchCV:
        tasks = "_skl_callbacks" in vars(self) or "_parent_callback_ctx" in vars(self)
        root = None
        if tasks:
            root = self._init_callback_context(max_subtasks=1 + (self.refit is not False)).call_on_fit_task_begin(
                estimator=self, X=X, y=y, metadata=metadata)
        check_n_jobs(self.n_jobs)
        scorers = _scorers(self.estimator, self.scoring)
        multimetric = list(scorers) != ["score"]
        if multimetric:
            self._check_refit_for_multimetric(list(scorers))
        splitter = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        params = dict(params)
        if routing_enabled():  # each parameter where its consumer requested it (scikit-learn's routing)
            routed = route(type(self).__name__, estimator=self.estimator, splitter=splitter, scorers=scorers,
                           groups=None, params=params)
            params, split_params, score_params = routed.fit, routed.split, routed.by_scorer
        else:
            groups = params.pop("groups", None)
            split_params = {} if groups is None else {"groups": groups}
            score_params = self._score_params(scorers, params)
        groups = split_params.get("groups")
        splits = list(splitter.split(X, y, **split_params))
        candidates = self._candidates()
        if not candidates:
            raise ValueError("No candidate parameters to search: the parameter grid is empty.")
        n_splits = len(splits)
        if hasattr(splitter, "get_n_splits") and not isinstance(self.cv, Iterable):
            expected = splitter.get_n_splits(X, y, groups)
            if expected != n_splits:
                raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results. Expected "
                                 f"{expected} splits, got {n_splits}")
        if n_splits == 0:
            raise ValueError("No fits were performed. Was the CV iterator empty? Were there no candidates?")
        if self.verbose > 0:
            print(f"Fitting {n_splits} folds for each of {len(candidates)} candidates, totalling "
                  f"{n_splits * len(candidates)} fits")
        n_fits = len(candidates) * n_splits
        search_ctx = None if root is None else root.subcontext(
            task_name="search", max_subtasks=n_fits, sequential_subtasks=False).call_on_fit_task_begin(estimator=self)
        # the folds' tasks are made ahead of the (possibly parallel) fits, as scikit-learn does
        fold_ctx = [None] * n_fits if search_ctx is None else [
            search_ctx.subcontext(task_name="candidate-split-evaluation", task_id=i) for i in range(n_fits)]
        flat = run_jobs([
            functools.partial(_fit_and_score, self.estimator, X, y, train, test, scorers, params=cand,
                              fit_params=params, return_train_score=self.return_train_score,
                              error_score=self.error_score, verbose=self.verbose, score_params=score_params,
                              progress=f" {s + 1}/{n_splits}; {c + 1}/{len(candidates)}",
                              callback_ctx=fold_ctx[c * n_splits + s], caller=self)
            for c, cand in enumerate(candidates) for s, (train, test) in enumerate(splits)], self.n_jobs)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        runs = [flat[i * n_splits:(i + 1) * n_splits] for i in range(len(candidates))]
        _warn_or_raise_about_fit_failures(flat, self.error_score)
        metric_names = _fill_failed(flat, scorers, self.error_score)
        if not multimetric and metric_names != ["score"]:  # a callable scoring returned a dict
            multimetric = True
            self._check_refit_for_multimetric(metric_names)
        refit_metric = self.refit if multimetric and isinstance(self.refit, str) else "score"
        results: dict[str, Any] = {}
        for key in ("fit_time", "score_time"):
            arr = np.array([[r[key] for r in cand_runs] for cand_runs in runs])
            results[f"mean_{key}"], results[f"std_{key}"] = arr.mean(axis=1), arr.std(axis=1)
        names = sorted({k for cand in candidates for k in cand})
        for name in names:
            values = [cand[name] for cand in candidates if name in cand]
            try:  # scikit-learn's dtype rule: the values' own dtype unless strings or sequences
                arr = np.array(values)
                dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else object
            except ValueError:
                dtype = object
            col = np.ma.MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
            for i, cand in enumerate(candidates):
                if name in cand:
                    col[i] = cand[name]
            results[f"param_{name}"] = col
        results["params"] = candidates
        for metric in metric_names:
            for split_kind in ("test", "train") if self.return_train_score else ("test",):
                arr = np.array([[r[split_kind][metric] for r in cand_runs] for cand_runs in runs])
                for s in range(n_splits):
                    results[f"split{s}_{split_kind}_{metric}"] = arr[:, s]
                results[f"mean_{split_kind}_{metric}"] = arr.mean(axis=1)
                if not np.all(np.isfinite(arr.mean(axis=1))):
                    warnings.warn(f"One or more of the {split_kind} scores are non-finite: {arr.mean(axis=1)}",
                                  UserWarning, stacklevel=2)
                results[f"std_{split_kind}_{metric}"] = arr.std(axis=1)
                if split_kind == "test":
                    results[f"rank_test_{metric}"] = _rank(arr.mean(axis=1))
        self.cv_results_ = results
        self.n_splits_ = n_splits
        self.multimetric_ = multimetric
        self.scorer_ = scorers if list(scorers) != ["score"] else scorers["score"]
        if self.refit is not False or not multimetric:  # scikit-learn sets best_* without refit too
            if callable(self.refit):  # refit(cv_results_) -> the index of the best candidate
                best_index = self.refit(results)
                if not isinstance(best_index, numbers.Integral):
                    raise TypeError("best_index_ returned is not an integer")
                if best_index < 0 or best_index >= len(candidates):
                    raise IndexError("best_index_ index out of range")
                self.best_index_ = int(best_index)
            else:
                self.best_index_ = int(np.argmin(results[f"rank_test_{refit_metric}"]))
                self.best_score_ = float(results[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = candidates[self.best_index_]
        if self.refit is not False:
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
            refit_ctx = None if root is None else root.subcontext(task_name="refit-with-best-params")
            with contextlib.nullcontext() if refit_ctx is None else refit_ctx.propagate_callback_context(best):
                if refit_ctx is not None:
                    refit_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
                if y is None:
                    best.fit(X, **params)
                else:
                    best.fit(X, y, **params)
            self.refit_time_ = time.perf_counter() - start
            if refit_ctx is not None:
                refit_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
            self.best_estimator_ = best
            if hasattr(best, "n_features_in_"):
                self.n_features_in_ = best.n_features_in_
            if hasattr(best, "feature_names_in_"):
                self.feature_names_in_ = best.feature_names_in_
        if root is not None:
            root.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
        return self

    def _check_refit_for_multimetric(self, names: list[str]) -> None:
        if self.refit is not False and not callable(self.refit) and not (
                isinstance(self.refit, str) and self.refit in names):
            raise ValueError(
                "For multi-metric scoring, the parameter refit must be set to a scorer key or a callable to "
                "refit an estimator with the best parameter setting on the whole data and make the best_* "
                f"attributes available for that metric. If this is not needed, refit should be set to False "
                f"explicitly. {self.refit!r} was passed. (The scorer keys: {sorted(names)}.)"
            )

    def _best(self, method: str) -> Any:
        check_is_fitted(self, "cv_results_")
        _check_refit(self, method)
        return getattr(self.best_estimator_, method)

    @property
    def classes_(self) -> Any:
        return self._best("classes_")

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        return self._best("predict")(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba(X)``."""
        return self._best("predict_proba")(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba(X)``."""
        return self._best("predict_log_proba")(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function(X)``."""
        return self._best("decision_function")(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        return self._best("transform")(X)

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        """``best_estimator_.score_samples(X)``."""
        return self._best("score_samples")(X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        return self._best("inverse_transform")(X)

    def score(self, X: Any, y: Any = None, **params: Any) -> float:
        """Score of the best estimator with the search's scorer (the refit metric when several).

        ``params`` (metadata routing only) go to the scorer where it requested them.
        """
        reject_params_without_routing(params, self, "score")
        check_is_fitted(self, "cv_results_")
        scorer = self.scorer_[self.refit] if isinstance(self.scorer_, dict) else self.scorer_
        kw = {}
        if params:
            from sklearn.utils.metadata_routing import process_routing

            from ._routing import _Scorers

            best = self._best("predict").__self__
            kw = dict(process_routing(_Scorers({"score": scorer}, best), "score", **params)["score"].score)
        value = scorer(self._best("predict").__self__, X, y, **kw)
        return float(value[self.refit] if isinstance(value, dict) else value)  # a callable's dict of scores


class GridSearchCV(_BaseSearchCV):
    """Exhaustive search over ``param_grid``, cross-validated; the data stays on its device.

    Parameters
    ----------
    estimator : estimator
    param_grid : dict or list of dicts
        Parameter names to lists of values (scikit-learn's ``ParameterGrid``).
    scoring, cv, refit, error_score, return_train_score
        As in scikit-learn. ``verbose`` and ``pre_dispatch`` are accepted.
    n_jobs : int or None
        Candidate x fold fits side by side (threads; -1: one per core), with
        the results of ``n_jobs=1``.

    Attributes
    ----------
    cv_results_ : dict of NumPy arrays (scikit-learn's layout)
    best_estimator_, best_score_, best_params_, best_index_, refit_time_, scorer_, n_splits_
    """

    def __init__(self, estimator: Any, param_grid: Mapping[str, Any] | Iterable[Mapping[str, Any]], *,
                 scoring: Any = None, n_jobs: Any = None, refit: Any = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", error_score: Any = np.nan,
                 return_train_score: bool = False) -> None:
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)
        self.param_grid = param_grid

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterGrid(self.param_grid))


class RandomizedSearchCV(_BaseSearchCV):
    """Search over ``n_iter`` parameter settings drawn from ``param_distributions``.

    Parameters
    ----------
    param_distributions : dict or list of dicts
        Lists (sampled uniformly) or scipy.stats distributions (with ``rvs``).
    n_iter : int, default=10
    random_state : int, RandomState or None
    Other parameters as :class:`GridSearchCV`.
    """

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10, scoring: Any = None,
                 n_jobs: Any = None, refit: Any = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False) -> None:
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))
