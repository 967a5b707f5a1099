"""The metric a search optimizes: a name -> how to score out-of-fold predictions on their device.

Predictions in the search are class probabilities (classification, columns in
sorted class order) or values (regression); the true target is class codes
``0..K-1`` or values, on the same device. Scores are in the metric's own units
(a log-loss is positive, lower is better); :attr:`Metric.sign` turns them into
"higher is better" for the search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..backends import framework_of

__all__ = ["DEFAULT_METRIC", "Metric", "get_metric"]

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}


@dataclass(frozen=True)
class Metric:
    """A metric: ``name``, ``sign`` (+1: higher is better), ``fn(y_true, prediction, n_classes)``."""

    name: str
    sign: float
    fn: Callable[[Any, Any, int], float]
    tasks: frozenset[str]

    def __call__(self, y_true: Any, pred: Any, n_classes: int = 0) -> float:
        return float(self.fn(y_true, pred, n_classes))

    def signed(self, value: float) -> float:
        """Higher is better."""
        return self.sign * value

    @property
    def greater_is_better(self) -> bool:
        return self.sign > 0


def _xp(a: Any) -> Any:
    return framework_of(a).xp


def _labels(proba: Any) -> Any:
    return _xp(proba).argmax(proba, axis=1)


def _log_loss(y: Any, proba: Any, k: int) -> float:
    xp = _xp(proba)
    eps = 1e-15 if proba.dtype == getattr(xp, "float64", None) else 1e-7
    p = xp.clip(proba, eps, 1.0) if hasattr(xp, "clip") else xp.maximum(proba, eps)
    p = p / xp.sum(p, axis=1, keepdims=True)
    ar = xp.arange(int(p.shape[1]), dtype=y.dtype, device=y.device)
    picked = xp.sum(xp.where(y[:, None] == ar[None, :], p, xp.zeros_like(p)), axis=1)
    return float(-xp.mean(xp.log(picked)))


def _roc_auc(y: Any, proba: Any, k: int) -> float:
    from ..metrics import roc_auc_score

    if int(proba.shape[1]) == 2:
        return roc_auc_score(y, proba[:, 1])
    return roc_auc_score(y, proba, multi_class="ovr", labels=list(range(int(proba.shape[1]))))


def _on_labels(name: str, **kwargs: Any) -> Callable[[Any, Any, int], float]:
    def fn(y: Any, proba: Any, k: int) -> float:
        from .. import metrics

        return getattr(metrics, name)(y, _labels(proba), **kwargs)

    return fn


def _on_values(name: str, root: bool = False) -> Callable[[Any, Any, int], float]:
    def fn(y: Any, pred: Any, k: int) -> float:
        from .. import metrics

        v = float(getattr(metrics, name)(y, pred))
        return math.sqrt(v) if root else v

    return fn


_CLS = frozenset({"binary", "multiclass"})
_BIN = frozenset({"binary"})
_REG = frozenset({"regression"})

_TABLE: dict[str, tuple[float, Callable, frozenset]] = {
    "roc_auc": (1.0, _roc_auc, _CLS),
    "log_loss": (-1.0, _log_loss, _CLS),
    "accuracy": (1.0, _on_labels("accuracy_score"), _CLS),
    "balanced_accuracy": (1.0, _on_labels("recall_score", average="macro"), _CLS),
    "f1": (1.0, _on_labels("f1_score"), _BIN),
    "precision": (1.0, _on_labels("precision_score"), _BIN),
    "recall": (1.0, _on_labels("recall_score"), _BIN),
    "r2": (1.0, _on_values("r2_score"), _REG),
    "mean_squared_error": (-1.0, _on_values("mean_squared_error"), _REG),
    "root_mean_squared_error": (-1.0, _on_values("mean_squared_error", root=True), _REG),
    "mean_absolute_error": (-1.0, _on_values("mean_absolute_error"), _REG),
}
for _avg in ("micro", "macro", "weighted"):
    for _m in ("f1", "precision", "recall"):
        _TABLE[f"{_m}_{_avg}"] = (1.0, _on_labels(f"{_m}_score", average=_avg), _CLS)

#: other spellings: toolbox scorer names (``neg_*``), metric function names, short forms
_ALIASES = {
    "auc": "roc_auc", "roc_auc_score": "roc_auc", "roc_auc_ovr": "roc_auc",
    "neg_log_loss": "log_loss", "logloss": "log_loss", "accuracy_score": "accuracy",
    "f1_score": "f1", "precision_score": "precision", "recall_score": "recall", "r2_score": "r2",
    "mse": "mean_squared_error", "neg_mean_squared_error": "mean_squared_error",
    "rmse": "root_mean_squared_error", "neg_root_mean_squared_error": "root_mean_squared_error",
    "mae": "mean_absolute_error", "neg_mean_absolute_error": "mean_absolute_error",
}


def get_metric(metric: str, task: str) -> Metric:
    """The :class:`Metric` for ``metric`` ("auto": ROC AUC, log-loss or R^2 by task).

    Raises
    ------
    ValueError
        An unknown name, or a metric that does not fit the task (R^2 for a
        classification, F1 for a multiclass target without an average).
    """
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a name (see toolbox.automl.metric_names()); got {type(metric).__name__}.")
    name = DEFAULT_METRIC[task] if metric == "auto" else _ALIASES.get(metric, metric)
    if name not in _TABLE:
        raise ValueError(f"Unknown metric {metric!r}; use one of {sorted(set(_TABLE) | set(_ALIASES))}.")
    sign, fn, tasks = _TABLE[name]
    if task not in tasks:
        raise ValueError(f"metric {metric!r} does not fit a {task} task; metrics for it: "
                         f"{sorted(k for k, v in _TABLE.items() if task in v[2])}.")
    return Metric(name, sign, fn, tasks)


def metric_names() -> list[str]:
    """Every metric name :func:`toolbox.fit` accepts."""
    return sorted(set(_TABLE) | set(_ALIASES))
