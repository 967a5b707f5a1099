"""k-nearest-neighbors classification."""

from __future__ import annotations

from typing import Any

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
        """Store the training set ``X`` (n_samples, n_features) and its labels ``y`` (n_samples,)."""
        self._check_params(y)
        v = validate_data(self, X, y, reset=True, accept_sparse=True)
        self.classes_, self._y = encode_labels(v.y, compute=v.compute, estimator_name=type(self).__name__)
        self.outputs_2d_ = False
        self._fit_neighbors(v)
        return self

    def _proba(self, X: Any) -> tuple[Any, Compute, Origin]:
        Xq, compute, origin, k, query_is_train = self._query(X, None)
        xp = compute.xp
        (y_enc,) = self._fitted(compute, "_y")
        n_classes = int(self.classes_.shape[0])
        class_ids = xp.arange(n_classes, dtype=y_enc.dtype, device=compute.device)
        parts = []
        uniform = self.weights in (None, "uniform")  # the votes need the set of neighbors only
        for d2, ind in self._iter_kneighbors(Xq, compute, k, query_is_train, extra_per_row=2 * k * n_classes,
                                             need_distances=not uniform):
            labels = xp.reshape(xp.take(y_enc, xp.reshape(ind, (-1,)), axis=0), ind.shape)
            # one-hot votes, (chunk, k, n_classes), summed over the neighbors
            hot = labels[:, :, None] == class_ids[None, None, :]
            if uniform:  # counted from the booleans (exact), without a float one-hot array
                votes = xp.astype(xp.sum(xp.astype(hot, xp.int32), axis=1), Xq.dtype)
            else:
                w = _distance_weights(xp.sqrt(d2), self.weights, xp=xp)
                votes = xp.sum(xp.astype(hot, Xq.dtype) * xp.astype(w, Xq.dtype)[:, :, None], axis=1)
            parts.append(votes / xp.sum(votes, axis=1, keepdims=True))
        proba = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
        return proba, compute, origin

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_queries, n_classes), columns ordered as ``classes_``.

        ``X=None`` predicts for the training points, each not its own neighbor.
        """
        proba, _, origin = self._proba(X)
        return self._output(proba, origin)

    def predict(self, X: Any) -> Any:
        """Predicted class of each query, shape (n_queries,): the (weighted) majority vote.

        Vote ties go to the smallest class. ``X=None`` predicts for the
        training points, each not its own neighbor.
        """
        proba, compute, origin = self._proba(X)
        return self._output_labels(compute.xp.argmax(proba, axis=1), compute, origin)
