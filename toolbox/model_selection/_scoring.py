"""Scorers: turn a ``scoring`` argument into ``scorer(estimator, X, y) -> float``."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _hooks

__all__ = ["check_scoring", "get_scorer", "get_scorer_names", "make_scorer"]

#: True while cross-validation scores folds: those scores are reported by the caller (cross_validate, a
#: search's cv_results_), not one scorer call at a time (see toolbox._hooks.report_metric)
_QUIET: contextvars.ContextVar[bool] = contextvars.ContextVar("toolbox_quiet_scorers", default=False)

# name -> (metric function name in toolbox.metrics, sign, response method, extra kwargs)
_SCORERS: dict[str, tuple[str, float, str, dict[str, Any]]] = {
    "accuracy": ("accuracy_score", 1.0, "predict", {}),
    "balanced_accuracy": ("balanced_accuracy_score", 1.0, "predict", {}),
    "matthews_corrcoef": ("matthews_corrcoef", 1.0, "predict", {}),
    "positive_likelihood_ratio": ("class_likelihood_ratios", 1.0, "predict",
                                  {"replace_undefined_by": 1.0, "_item": 0}),
    "neg_negative_likelihood_ratio": ("class_likelihood_ratios", -1.0, "predict",
                                      {"replace_undefined_by": 1.0, "_item": 1}),
    "precision": ("precision_score", 1.0, "predict", {}),
    "recall": ("recall_score", 1.0, "predict", {}),
    "f1": ("f1_score", 1.0, "predict", {}),
    "jaccard": ("jaccard_score", 1.0, "predict", {}),
    "roc_auc": ("roc_auc_score", 1.0, "proba_or_decision", {}),
    "roc_auc_ovr": ("roc_auc_score", 1.0, "predict_proba", {"multi_class": "ovr"}),
    "roc_auc_ovr_weighted": ("roc_auc_score", 1.0, "predict_proba", {"multi_class": "ovr", "average": "weighted"}),
    "roc_auc_ovo": ("roc_auc_score", 1.0, "predict_proba", {"multi_class": "ovo"}),
    "roc_auc_ovo_weighted": ("roc_auc_score", 1.0, "predict_proba", {"multi_class": "ovo", "average": "weighted"}),
    "neg_log_loss": ("log_loss", -1.0, "predict_proba", {}),
    "d2_log_loss_score": ("d2_log_loss_score", 1.0, "predict_proba", {}),
    "neg_brier_score": ("brier_score_loss", -1.0, "predict_proba", {}),
    "d2_brier_score": ("d2_brier_score", 1.0, "predict_proba", {}),
    "average_precision": ("average_precision_score", 1.0, "proba_or_decision", {}),
    "top_k_accuracy": ("top_k_accuracy_score", 1.0, "proba_or_decision", {}),
    "r2": ("r2_score", 1.0, "predict", {}),
    "explained_variance": ("explained_variance_score", 1.0, "predict", {}),
    "neg_max_error": ("max_error", -1.0, "predict", {}),
    "neg_mean_squared_error": ("mean_squared_error", -1.0, "predict", {}),
    "neg_root_mean_squared_error": ("root_mean_squared_error", -1.0, "predict", {}),
    "neg_mean_squared_log_error": ("mean_squared_log_error", -1.0, "predict", {}),
    "neg_root_mean_squared_log_error": ("root_mean_squared_log_error", -1.0, "predict", {}),
    "neg_mean_absolute_error": ("mean_absolute_error", -1.0, "predict", {}),
    "neg_mean_absolute_percentage_error": ("mean_absolute_percentage_error", -1.0, "predict", {}),
    "neg_median_absolute_error": ("median_absolute_error", -1.0, "predict", {}),
    "neg_mean_poisson_deviance": ("mean_poisson_deviance", -1.0, "predict", {}),
    "neg_mean_gamma_deviance": ("mean_gamma_deviance", -1.0, "predict", {}),
    "d2_absolute_error_score": ("d2_absolute_error_score", 1.0, "predict", {}),
}
for _avg in ("micro", "macro", "weighted", "samples"):
    for _m in ("precision", "recall", "f1", "jaccard"):
        _SCORERS[f"{_m}_{_avg}"] = (f"{_m}_score", 1.0, "predict", {"average": _avg})


def get_scorer_names() -> list[str]:
    """Names accepted by :func:`get_scorer`."""
    return sorted(_SCORERS)


class _Scorer:
    def __init__(self, name: str) -> None:
        self.name = name
        self._metric, self._sign, self._response, self._kwargs = _SCORERS[name]

    def __repr__(self) -> str:
        return f"make_scorer({self._metric}{', greater_is_better=False' if self._sign < 0 else ''})"

    def _accept_sample_weight(self) -> bool:
        """Whether the metric takes ``sample_weight`` (searches forward fit's weights to it then)."""
        import inspect


        return "sample_weight" in inspect.signature(self._score_func()).parameters

    def _score_func(self) -> Callable[..., Any]:
        from .. import metrics

        return getattr(metrics, self._metric)

    def _response_method(self, estimator: Any) -> str:
        response = self._response
        if response == "proba_or_decision":
            return "predict_proba" if hasattr(estimator, "predict_proba") else "decision_function"
        return response

    def _adapt(self, y_score: Any, response: str, estimator: Any, y: Any, kwargs: dict[str, Any]) -> Any:
        """The response as the metric takes it (``kwargs`` may gain arguments)."""
        if (response == "predict_proba" and self._metric not in ("log_loss", "d2_log_loss_score")
                and getattr(y, "ndim", np.ndim(y)) == 1 and y_score.ndim == 2 and y_score.shape[1] == 2):
            y_score = y_score[:, 1]  # binary: probability of the positive class, as scikit-learn's scorers
        if self._metric in ("log_loss", "d2_log_loss_score"):
            kwargs["labels"] = estimator.classes_
        return y_score

    def __call__(self, estimator: Any, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        kwargs = dict(self._kwargs)
        response = self._response_method(estimator)
        y_score = getattr(estimator, response)(X)
        if response == "predict_proba" and isinstance(y_score, list):
            # a multi-output classifier: one (n_samples, 2) array per label -> the positive columns
            y_score = _stack_positive(y_score)
        else:
            y_score = self._adapt(y_score, response, estimator, y, kwargs)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        item = kwargs.pop("_item", None)  # one value of a metric returning a tuple
        value = self._score_func()(y, y_score, **kwargs)
        score = self._sign * (value if item is None else value[item])
        if not _QUIET.get() and not _hooks.fit_stack():  # scores taken inside a fit are that fit's own
            _hooks.report_metric(estimator, self.name, score)
        return score


class _FunctionScorer(_Scorer):
    """A scorer made by :func:`make_scorer` from a metric function."""

    def __init__(self, score_func: Callable[..., Any], sign: float, response_method: str | tuple[str, ...],
                 kwargs: dict[str, Any]) -> None:
        self.name = getattr(score_func, "__name__", "score")
        self._func, self._sign, self._response, self._kwargs = score_func, sign, response_method, dict(kwargs)
        self._metric = self.name

    def __repr__(self) -> str:
        kwargs = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        sign = ", greater_is_better=False" if self._sign < 0 else ""
        return f"make_scorer({self.name}{sign}, response_method={self._response!r}{kwargs})"

    def _score_func(self) -> Callable[..., Any]:
        return self._func

    def _response_method(self, estimator: Any) -> str:
        methods = (self._response,) if isinstance(self._response, str) else tuple(self._response)
        for name in methods:
            if hasattr(estimator, name):
                return name
        raise AttributeError(f"{type(estimator).__name__} has none of the following attributes: "
                             f"{', '.join(methods)}.")

    def _adapt(self, y_score: Any, response: str, estimator: Any, y: Any, kwargs: dict[str, Any]) -> Any:
        if response == "predict_proba" and getattr(y_score, "ndim", 1) == 2 and y_score.shape[1] == 2 \
                and getattr(y, "ndim", np.ndim(y)) == 1:
            # binary: the positive class's column (pos_label, else classes_[1]), as scikit-learn's scorers
            classes = list(np.asarray(getattr(estimator, "classes_", [0, 1])).tolist())
            pos = kwargs.get("pos_label", classes[-1])
            return y_score[:, classes.index(pos) if pos in classes else 1]
        if response == "decision_function" and "pos_label" in kwargs and getattr(y_score, "ndim", 1) == 1:
            classes = list(np.asarray(getattr(estimator, "classes_", [0, 1])).tolist())
            if classes and kwargs["pos_label"] == classes[0]:
                return -y_score  # the decision function scores classes_[1]
        return y_score


def make_scorer(score_func: Callable[..., Any], *, response_method: str | tuple[str, ...] | None = None,
                greater_is_better: bool = True, **kwargs: Any) -> Callable[..., float]:
    """A scorer ``scorer(estimator, X, y, sample_weight=None) -> float`` from a metric function.

    As :func:`sklearn.metrics.make_scorer`: ``score_func(y_true, y_pred_or_score, **kwargs)`` is
    called on the output of ``response_method`` (``'predict'`` by default; ``'predict_proba'``,
    ``'decision_function'``, or a tuple of them, the first the estimator has), negated when
    ``greater_is_better=False`` so that a larger score is always better. For two classes and
    ``'predict_proba'`` the metric gets the positive class's column (``pos_label`` in
    ``kwargs``, else ``classes_[1]``).
    """
    if not callable(score_func):
        raise TypeError(f"make_scorer: score_func must be callable, got {type(score_func).__name__}.")
    response = "predict" if response_method is None else response_method
    allowed = ("predict", "predict_proba", "decision_function")
    methods = (response,) if isinstance(response, str) else tuple(response)
    if not methods or any(m not in allowed for m in methods):
        raise ValueError(f"make_scorer: response_method must be one of {allowed} or a tuple of them, "
                         f"got {response_method!r}.")
    return _FunctionScorer(score_func, 1.0 if greater_is_better else -1.0, response, kwargs)


def _stack_positive(probas: list[Any]) -> Any:
    """Column ``j``: the probability of label ``j``'s positive class (scikit-learn's multilabel scorers)."""
    from ..backends import framework_of

    fw = framework_of(probas[0])
    xp = np if fw is None else fw.xp
    return xp.stack([p[:, -1] for p in probas], axis=1)


def get_scorer(scoring: str | Callable[..., float]) -> Callable[..., float]:
    """A scorer for a name (see :func:`get_scorer_names`) or the callable itself.

    A name toolbox has no scorer for, but scikit-learn has (its clustering
    scorers: ``'adjusted_rand_score'``, ``'v_measure_score'``...), gives
    scikit-learn's scorer, which computes on the host.
    """
    if callable(scoring):
        return scoring
    if scoring not in _SCORERS:
        import sklearn.metrics

        if isinstance(scoring, str) and scoring in sklearn.metrics.get_scorer_names():
            return sklearn.metrics.get_scorer(scoring)
        raise ValueError(f"{scoring!r} is not a valid scoring value. Valid options are "
                         f"{get_scorer_names()}, a callable(estimator, X, y), or None.")
    return _Scorer(scoring)


def _looks_like_metric(scoring: Any) -> bool:
    module = getattr(scoring, "__module__", None) or ""
    return (module.startswith(("toolbox.metrics.", "sklearn.metrics.")) and not module.endswith("_scorer")
            and ".tests." not in module)


def _passthrough(estimator: Any, X: Any, y: Any = None, sample_weight: Any = None, **params: Any) -> float:
    """``estimator.score`` as a scorer (``sample_weight`` and routed ``params`` passed on only when given)."""
    if sample_weight is not None:
        params["sample_weight"] = sample_weight
    score = float(estimator.score(X, y, **params))
    if not _QUIET.get() and not _hooks.fit_stack():
        _hooks.report_metric(estimator, "score", score)
    return score


def check_scoring(estimator: Any, scoring: Any = None) -> Callable[..., float]:
    """The scorer to use: ``estimator.score`` when ``scoring`` is None."""
    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(f"If no scoring is specified, the estimator passed should have a 'score' "
                            f"method. The estimator {estimator!r} does not.")
        return _passthrough
    if callable(scoring) and _looks_like_metric(scoring):
        raise ValueError(f"scoring value {scoring!r} looks like it is a metric function rather than a scorer. A "
                         "scorer should require an estimator as its first parameter. Please use `make_scorer` "
                         "to convert a metric to a scorer.")
    return get_scorer(scoring)
