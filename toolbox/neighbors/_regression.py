"""k-nearest-neighbors regression."""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn.base

from ..base import BaseEstimator, RegressorMixin, validate_data
from ._base import KNeighborsMixin, _distance_weights

__all__ = ["KNeighborsRegressor"]


class KNeighborsRegressor(KNeighborsMixin, sklearn.base.MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Regression by the (weighted) mean of the targets of the k nearest neighbors.

    A drop-in for :class:`sklearn.neighbors.KNeighborsRegressor`, computed on
    the data's own backend and device by brute force (see
    :class:`~toolbox.neighbors.KNeighborsClassifier` for the search and the
    parameters).

    Parameters
    ----------
    n_neighbors : int, default=5
    weights : {"uniform", "distance"}, callable or None, default="uniform"
        ``"distance"``: weight ``1 / distance``; a query at distance zero from
        training points takes the mean of their targets.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Accepted; the search is always brute force.
    leaf_size : int, default=30
        Accepted for compatibility.
    p : float, default=2
        Only ``p=2`` is implemented.
    metric : str, default="minkowski"
        ``"minkowski"`` (``p=2``), ``"euclidean"`` or ``"l2"``.
    metric_params : dict, default=None
    n_jobs : int, default=None
        Accepted for compatibility.

    Attributes
    ----------
    effective_metric_ : str
    effective_metric_params_ : dict
    n_samples_fit_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
    """

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Store the training set ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        self._check_params(y)
        if isinstance(y, np.ndarray) and y.dtype.kind == "O":
            # numbers held in an object array: numeric targets (validate_data refuses object arrays)
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                pass
        v = validate_data(self, X, y, reset=True, y_numeric=True, multi_output=True, accept_sparse=True)
        if v.y.dtype != v.X.dtype and v.y.shape[0]:
            # predictions are averaged in X's float dtype (float32 for float32 X): y must fit it
            biggest = float(v.xp.max(v.xp.abs(v.y)))
            if biggest > float(v.xp.finfo(v.X.dtype).max):
                raise ValueError(
                    f"{type(self).__name__}: y has values up to {biggest:.3g}, which overflow {v.X.dtype}, the "
                    "floating dtype of X that predictions are computed in. Pass X as float64, or rescale y.")
        self._y = v.y
        self._fit_neighbors(v)
        return self

    def predict(self, X: Any) -> Any:
        """Predicted targets, shape (n_queries,) or (n_queries, n_outputs), in ``X``'s float dtype.

        ``X=None`` predicts for the training points, each not its own neighbor.
        """
        Xq, compute, origin, k, query_is_train = self._query(X, None)
        xp = compute.xp
        (y,) = self._fitted(compute, "_y", dtype=Xq.dtype)
        y2 = y[:, None] if y.ndim == 1 else y
        parts = []
        for d2, ind in self._iter_kneighbors(Xq, compute, k, query_is_train, extra_per_row=2 * k * y2.shape[1]):
            m = ind.shape[0]
            vals = xp.reshape(xp.take(y2, xp.reshape(ind, (-1,)), axis=0), (m, k, y2.shape[1]))
            w = _distance_weights(xp.sqrt(d2), self.weights, xp=xp)
            if w is None:
                parts.append(xp.mean(vals, axis=1))
            else:
                w = xp.astype(w, Xq.dtype)
                parts.append(xp.sum(vals * w[:, :, None], axis=1) / xp.sum(w, axis=1)[:, None])
        pred = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
        if y.ndim == 1:
            pred = pred[:, 0]
        return self._output(pred, origin)
