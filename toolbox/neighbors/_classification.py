"""k-nearest-neighbors classification."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning

from .._labels import encode_labels
from ..backends import Compute, Origin
from ..base import BaseEstimator, ClassifierMixin, validate_data
from ._base import KNeighborsMixin, _distance_weights

__all__ = ["KNeighborsClassifier"]


class KNeighborsClassifier(KNeighborsMixin, ClassifierMixin, BaseEstimator):
    """Classifier implementing the k-nearest neighbors vote.

    A drop-in for :class:`sklearn.neighbors.KNeighborsClassifier`, computed
    on the data's own backend and device by brute force: chunks of query rows,
    squared distances from one matrix product each, top-k selection.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbors used by :meth:`predict` and :meth:`kneighbors`.
    weights : {"uniform", "distance"}, callable or None, default="uniform"
        ``"uniform"``: every neighbor counts the same. ``"distance"``: weight
        ``1 / distance``; a query at distance zero from training points gives
        them all the weight. A callable receives the distances, an array of
        shape (n_queries_chunk, n_neighbors) *of the computing namespace*, and
        returns weights of the same shape.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Accepted for compatibility; the search is always brute force, which is
        what suits GPUs and BLAS.
    leaf_size : int, default=30
        Accepted for compatibility (used by tree searches, which toolbox does not have).
    p : float, default=2
        Minkowski power; only ``p=2`` (Euclidean) is implemented.
    metric : str, default="minkowski"
        ``"minkowski"`` (with ``p=2``), ``"euclidean"`` or ``"l2"``. Other
        metrics raise ``NotImplementedError``.
    metric_params : dict, default=None
        Only ``{"p": 2}`` is accepted.
    n_jobs : int, default=None
        Accepted for compatibility; the search is vectorized on the backend.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
        Class labels (NumPy for NumPy/list targets, strings included).
    effective_metric_ : str
        ``"euclidean"``.
    effective_metric_params_ : dict
        Empty.
    n_samples_fit_ : int
        Number of training samples.
    outputs_2d_ : bool
        Always False (one output).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    The training set is kept on the namespace and device it was fitted on.
    Ties between equidistant neighbors may be broken differently than in
    scikit-learn; vote ties go to the smallest class, as in scikit-learn.
    Multi-output targets (2-D ``y``) are not supported.

    On NumPy arrays the search never forms the full (n_queries, n_samples)
    distance matrix: cache-sized products are selected as they are made, on
    all BLAS threads. Float64 data is ranked through float32 products first,
    with a rounding bound that keeps every possible float64 neighbor; those
    candidates are then ranked in float64, so the neighbors are those of a
    float64 search.
    """

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Store the training set ``X`` (n_samples, n_features) and its labels ``y``.

        ``y`` of shape (n_samples,), or (n_samples, n_outputs) for several outputs (a multilabel
        indicator matrix included): then ``classes_`` is a list (one array per output), ``predict``
        gives (n_queries, n_outputs) and ``predict_proba`` a list of arrays, as scikit-learn's.
        """
        self._check_params(y)
        v = validate_data(self, X, y, reset=True, accept_sparse=True, multi_output=True)
        name = type(self).__name__
        if v.y.ndim == 2 and v.y.shape[1] > 1:
            xp = v.compute.xp
            cols = [encode_labels(v.y[:, j], compute=v.compute, estimator_name=name, min_classes=1)
                    for j in range(int(v.y.shape[1]))]
            self.classes_ = [c for c, _ in cols]
            self._y = xp.stack([e for _, e in cols], axis=1)
            self.outputs_2d_ = True
        else:
            if v.y.ndim == 2:  # a column vector: one output, with scikit-learn's warning
                warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the "
                              "shape of y to (n_samples,), for example using ravel().", DataConversionWarning,
                              stacklevel=2)
            y1 = v.y[:, 0] if v.y.ndim == 2 else v.y
            self.classes_, self._y = encode_labels(y1, compute=v.compute, estimator_name=name)
            self.outputs_2d_ = False
        self._fit_neighbors(v)
        return self

    def _proba(self, X: Any) -> tuple[list[Any], Compute, Origin]:
        """Class probabilities per output: a list of (n_queries, n_classes_j) arrays (one for one output)."""
        Xq, compute, origin, k, query_is_train = self._query(X, None)
        xp = compute.xp
        (y_enc,) = self._fitted(compute, "_y")
        Y = y_enc if self.outputs_2d_ else y_enc[:, None]
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        n_classes = [int(c.shape[0]) for c in classes]
        class_ids = [xp.arange(m, dtype=Y.dtype, device=compute.device) for m in n_classes]
        parts: list[list[Any]] = [[] for _ in classes]
        uniform = self.weights in (None, "uniform")  # the votes need the set of neighbors only
        for d2, ind in self._iter_kneighbors(Xq, compute, k, query_is_train, extra_per_row=2 * k * max(n_classes),
                                             need_distances=not uniform):
            w = None if uniform else xp.astype(_distance_weights(xp.sqrt(d2), self.weights, xp=xp), Xq.dtype)
            flat = xp.reshape(ind, (-1,))
            for j, ids in enumerate(class_ids):  # a loop over the outputs
                labels = xp.reshape(xp.take(Y[:, j], flat, axis=0), ind.shape)
                # one-hot votes, (chunk, k, n_classes), summed over the neighbors
                hot = labels[:, :, None] == ids[None, None, :]
                if w is None:  # counted from the booleans (exact), without a float one-hot array
                    votes = xp.astype(xp.sum(xp.astype(hot, xp.int32), axis=1), Xq.dtype)
                else:
                    votes = xp.sum(xp.astype(hot, Xq.dtype) * w[:, :, None], axis=1)
                parts[j].append(votes / xp.sum(votes, axis=1, keepdims=True))
        probas = [p[0] if len(p) == 1 else xp.concat(p, axis=0) for p in parts]
        return probas, compute, origin

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_queries, n_classes), columns ordered as ``classes_``
        (a list of such arrays, one per output, for several outputs).

        ``X=None`` predicts for the training points, each not its own neighbor.
        """
        probas, _, origin = self._proba(X)
        out = [self._output(p, origin) for p in probas]
        return out if self.outputs_2d_ else out[0]

    def predict(self, X: Any) -> Any:
        """Predicted class of each query, shape (n_queries,), or (n_queries, n_outputs) for several
        outputs: the (weighted) majority vote.

        Vote ties go to the smallest class. ``X=None`` predicts for the
        training points, each not its own neighbor.
        """
        probas, compute, origin = self._proba(X)
        xp = compute.xp
        if not self.outputs_2d_:
            return self._output_labels(xp.argmax(probas[0], axis=1), compute, origin)
        from .._labels import decode_labels

        cols = [decode_labels(xp.argmax(p, axis=1), self._classes_on(c, compute), xp=xp)
                for p, c in zip(probas, self.classes_, strict=True)]
        if all(isinstance(c, np.ndarray) for c in cols):
            return np.stack(cols, axis=1)
        return self._output(xp.stack(cols, axis=1), origin)

    @staticmethod
    def _classes_on(classes: Any, compute: Compute) -> Any:
        """An output's classes where the labels are decoded (numeric ones on the compute device)."""
        if isinstance(classes, np.ndarray) and classes.dtype.kind not in "biuf":
            return classes
        return compute.asarray(classes)
