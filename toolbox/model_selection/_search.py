"""Hyper-parameter search over a grid or random draws, cross-validated on the data's device."""

from __future__ import annotations

import functools
import numbers
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sklearn.base import MetaEstimatorMixin, clone, is_classifier
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils.validation import check_is_fitted

from ..base import BaseEstimator
from ._parallel import check_n_jobs, run_jobs
from ._split import check_cv
from ._validation import _fill_failed, _fit_and_score, _scorers, _warn_or_raise_about_fit_failures

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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        sub = self.estimator.__sklearn_tags__()
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = sub.classifier_tags
        tags.regressor_tags = sub.regressor_tags
        tags.input_tags = sub.input_tags
        return tags

    def fit(self, X: Any, y: Any = None, **params: Any) -> _BaseSearchCV:
        """Evaluate every candidate by cross-validation, then refit the best on all of ``X``."""
        check_n_jobs(self.n_jobs)
        scorers = _scorers(self.estimator, self.scoring)
        multimetric = list(scorers) != ["score"]
        if multimetric:
            self._check_refit_for_multimetric(list(scorers))
        splitter = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(splitter.split(X, y, params.get("groups")))
        params.pop("groups", None)
        candidates = self._candidates()
        if not candidates:
            raise ValueError("No candidate parameters to search: the parameter grid is empty.")
        n_splits = len(splits)
        flat = run_jobs([
            functools.partial(_fit_and_score, self.estimator, X, y, train, test, scorers, params=cand,
                              fit_params=params, return_train_score=self.return_train_score,
                              error_score=self.error_score)
            for cand in candidates for train, test in splits], self.n_jobs)
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
            col = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
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
                results[f"std_{split_kind}_{metric}"] = arr.std(axis=1)
                if split_kind == "test":
                    results[f"rank_test_{metric}"] = _rank(arr.mean(axis=1))
        self.cv_results_ = results
        self.n_splits_ = n_splits
        self.multimetric_ = multimetric
        self.scorer_ = scorers if list(scorers) != ["score"] else scorers["score"]
        if self.refit is not False:
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
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            if y is None:
                best.fit(X, **params)
            else:
                best.fit(X, y, **params)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = best
            if hasattr(best, "n_features_in_"):
                self.n_features_in_ = best.n_features_in_
            if hasattr(best, "feature_names_in_"):
                self.feature_names_in_ = best.feature_names_in_
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
        if self.refit is False:
            raise AttributeError(f"This {type(self).__name__} was initialized with refit=False. {method} is "
                                 "available only after refitting on the best parameters.")
        return getattr(self.best_estimator_, method)

    @property
    def classes_(self) -> Any:
        return self._best("classes_")

    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        return self._best("predict")(X)

    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba(X)``."""
        return self._best("predict_proba")(X)

    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba(X)``."""
        return self._best("predict_log_proba")(X)

    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function(X)``."""
        return self._best("decision_function")(X)

    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        return self._best("transform")(X)

    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        return self._best("inverse_transform")(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Score of the best estimator with the search's scorer (the refit metric when several)."""
        check_is_fitted(self, "cv_results_")
        scorer = self.scorer_[self.refit] if isinstance(self.scorer_, dict) else self.scorer_
        value = scorer(self._best("predict").__self__, X, y)
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
