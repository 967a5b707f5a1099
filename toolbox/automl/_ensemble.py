"""Greedy ensemble selection (Caruana et al., 2004) on out-of-fold predictions, with replacement.

Starting from the best single trial, each step adds (again, possibly) the
trial whose addition most improves the metric of the averaged out-of-fold
predictions; weights are the counts. The ensemble is kept only when its mean
fold score beats the best single trial's on the same validation folds.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ._metrics import Metric

__all__ = ["caruana", "fold_mean"]


def fold_mean(metric: Metric, y: Any, pred: Any, bounds: list[int], n_classes: int) -> float:
    """Mean of the metric over the validation folds (rows ``bounds[i]:bounds[i+1]``)."""
    return float(np.mean([metric(y[a:b], pred[a:b], n_classes) for a, b in itertools.pairwise(bounds)]))


def caruana(metric: Metric, y: Any, preds: list[Any], bounds: list[int], n_classes: int, *,
            max_iter: int = 25, deadline: float | None = None) -> tuple[dict[int, int], float, float]:
    """Select with replacement among ``preds`` (out-of-fold predictions, best single first).

    Returns
    -------
    counts : dict index -> times selected
    ensemble_score : float
        Mean fold score (metric units) of the selection.
    single_score : float
        Mean fold score of ``preds[0]``.
    """
    import time

    single = fold_mean(metric, y, preds[0], bounds, n_classes)
    if len(preds) < 2:
        return {0: 1}, single, single
    counts = {0: 1}
    total = preds[0]
    size = 1
    best_signed = metric.signed(metric(y, total, n_classes))
    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() > deadline:
            break
        scores = [metric.signed(metric(y, (total + p) / (size + 1), n_classes)) for p in preds]
        j = int(np.argmax(scores))
        if scores[j] <= best_signed + 1e-12:
            break
        best_signed = scores[j]
        total = total + preds[j]
        size += 1
        counts[j] = counts.get(j, 0) + 1
    ens = fold_mean(metric, y, total / size, bounds, n_classes)
    return counts, ens, single
