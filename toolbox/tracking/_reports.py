"""Reports logged for the dashboard's charts: a classifier's confusion matrix and ROC / PR curves, feature importances.

Each is one JSON artifact in the run (``toolbox/classifier_report.json``,
``toolbox/feature_importance.json``) beside a few metrics, so any reader of
the store can draw them; the arrays may come from any backend and device
(copied to the host once).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["log_classifier_report", "log_feature_importance"]

REPORT = "classifier_report.json"
IMPORTANCE = "feature_importance.json"
FOLDER = "toolbox"


def _host(x: Any, what: str) -> np.ndarray:
    from ..backends._frameworks import framework_of

    fw = framework_of(x)
    a = fw.to_host(x) if fw is not None else np.asarray(x)
    if a.dtype == object:
        raise ValueError(f"{what} must be an array of numbers or labels, got objects.")
    return a


def _run(run: Any) -> Any:
    from ._run import _require_run

    return _require_run() if run is None else run


def _thin(*cols: np.ndarray, limit: int) -> list[list[float]]:
    """At most ``limit`` evenly spread points of the curve (first and last kept)."""
    n = cols[0].shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(np.intp)) if n > limit else np.arange(n)
    return [[float(v) for v in c[idx]] for c in cols]


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _write(run: Any, name: str, data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="toolbox-report-") as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(data, allow_nan=False), encoding="utf-8")
        run.log_artifact(path, FOLDER)


def log_classifier_report(run: Any, y_true: Any, y_score: Any, *, labels: Sequence[Any] | None = None,
                          max_points: int = 1000) -> dict[str, Any]:
    """Log what the dashboard's classifier charts need: confusion matrix, ROC and precision-recall curves.

    Parameters
    ----------
    run : Run or None
        The run to log into (None: the active run).
    y_true : array of shape (n_samples,)
        True labels.
    y_score : array of shape (n_samples,) or (n_samples, n_classes)
        Scores: for two classes the score of the positive class (the larger
        label; probabilities are cut at 0.5, other scores at 0), else one
        column per class (``predict_proba`` or ``decision_function``), in the
        order of ``labels``.
    labels : sequence, optional
        The classes (default: the sorted labels of ``y_true``).
    max_points : int, default=1000
        Most points kept per curve.

    Returns
    -------
    dict
        The report as logged: ``labels``, ``confusion_matrix``, ``roc`` and ``pr``
        (one curve per class, one-vs-rest; one curve for two classes), ``accuracy``.
        The metrics ``accuracy``, ``roc_auc`` and ``average_precision`` (macro
        averages over classes) are logged too.
    """
    from sklearn.metrics import (
        auc,
        average_precision_score,
        confusion_matrix,
        precision_recall_curve,
        roc_curve,
    )

    run = _run(run)
    yt = _host(y_true, "y_true").ravel()
    ys = _host(y_score, "y_score").astype(np.float64)
    if ys.ndim == 2 and ys.shape[1] == 1:
        ys = ys[:, 0]
    if ys.shape[0] != yt.shape[0]:
        raise ValueError(f"y_true has {yt.shape[0]} samples but y_score has {ys.shape[0]}.")
    if not np.all(np.isfinite(ys)):
        raise ValueError("y_score has NaN or infinite values; a classifier report needs finite scores.")
    classes = np.asarray(labels) if labels is not None else np.unique(yt)
    if classes.shape[0] < 2:
        raise ValueError(f"A classifier report needs at least two classes, got {classes.tolist()}.")
    if ys.ndim == 1:
        if classes.shape[0] != 2:
            raise ValueError(f"y_score is one column but there are {classes.shape[0]} classes; give one column "
                             "per class (predict_proba).")
        cut = 0.5 if ys.min() >= 0 and ys.max() <= 1 else 0.0
        y_pred = np.where(ys >= cut, classes[1], classes[0])
        columns = {1: ys}
    else:
        if ys.shape[1] != classes.shape[0]:
            raise ValueError(f"y_score has {ys.shape[1]} columns but there are {classes.shape[0]} classes.")
        y_pred = classes[ys.argmax(axis=1)]
        columns = {i: ys[:, i] for i in range(classes.shape[0])} if classes.shape[0] > 2 else {1: ys[:, 1]}
    unknown = np.setdiff1d(np.unique(yt), classes)
    if unknown.size:
        raise ValueError(f"y_true has labels {unknown.tolist()} that are not among the classes {classes.tolist()}.")
    cm = confusion_matrix(yt, y_pred, labels=classes)
    roc, pr = [], []
    for i, score in columns.items():
        positive = yt == classes[i]
        if positive.all() or not positive.any():
            continue  # a class absent from y_true (or the only one): no curve
        fpr, tpr, _ = roc_curve(positive, score)
        prec, rec, _ = precision_recall_curve(positive, score)
        ap = average_precision_score(positive, score)
        fx, ty = _thin(fpr, tpr, limit=max_points)
        rx, py = _thin(rec, prec, limit=max_points)
        roc.append({"label": str(classes[i]), "fpr": fx, "tpr": ty, "auc": _finite(auc(fpr, tpr))})
        pr.append({"label": str(classes[i]), "recall": rx, "precision": py, "average_precision": _finite(ap)})
    accuracy = float(np.mean(y_pred == yt))
    report = {"labels": [str(c) for c in classes.tolist()], "confusion_matrix": cm.astype(int).tolist(),
              "roc": roc, "pr": pr, "accuracy": accuracy, "n_samples": int(yt.shape[0])}
    _write(run, REPORT, report)
    metrics = {"accuracy": accuracy}
    aucs = [c["auc"] for c in roc if c["auc"] is not None]
    aps = [c["average_precision"] for c in pr if c["average_precision"] is not None]
    if aucs:
        metrics["roc_auc"] = float(np.mean(aucs))
    if aps:
        metrics["average_precision"] = float(np.mean(aps))
    run.log_metrics(metrics)
    return report


def log_feature_importance(run: Any, importances: Any, feature_names: Sequence[str] | None = None, *,
                           kind: str = "permutation", std: Any = None) -> dict[str, Any]:
    """Log feature importances for the dashboard's bar chart (e.g. permutation importance).

    Parameters
    ----------
    run : Run or None
        The run to log into (None: the active run).
    importances : array of shape (n_features,)
    feature_names : sequence of str, optional
        Default ``x0, x1, ...``.
    kind : str, default="permutation"
        What the numbers are (shown on the chart).
    std : array of shape (n_features,), optional
        Their spread (error bars).

    Returns
    -------
    dict
        ``{"kind", "names", "values", "std"}`` as logged.
    """
    run = _run(run)
    values = _host(importances, "importances").astype(np.float64).ravel()
    names = [str(n) for n in feature_names] if feature_names is not None else [f"x{i}" for i in range(values.shape[0])]
    if len(names) != values.shape[0]:
        raise ValueError(f"{values.shape[0]} importances but {len(names)} feature names.")
    spread = None if std is None else _host(std, "std").astype(np.float64).ravel()
    if spread is not None and spread.shape != values.shape:
        raise ValueError(f"std has {spread.shape[0]} values for {values.shape[0]} features.")
    data = {"kind": str(kind), "names": names, "values": [_finite(v) for v in values],
            "std": None if spread is None else [_finite(v) for v in spread]}
    _write(run, IMPORTANCE, data)
    return data
