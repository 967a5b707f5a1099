"""Brute-force k-nearest-neighbors search, shared by the classifier and the regressor.

The search is written once against the Array API. Query rows are taken in
chunks; for each chunk one matrix product against the training set (stored
with its halved squared norms as an extra column) ranks every training point
by ``|y|^2 / 2 - x.y``, the squared distance up to a per-query constant. A
two-stage top-k (block minimums, then the best blocks) built on
:func:`~toolbox.backends.primitives.smallest_k` keeps the ``k`` nearest, whose
distances are then computed exactly. Memory stays bounded by the chunk size
whatever the number of queries.

On NumPy arrays the ranking and selection run in :mod:`._native` instead:
cache-sized BLAS tiles selected as they are made (a numba kernel when numba
is active), in parallel over blocks of queries; the same ranks, the same
first-index tie rule, then the same exact distances.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse
import sklearn

from ..backends import Compute, Origin, jit, namespace_kind, origin_of, primitives, resolve, to_backend
from ..backends import _sparse as sp
from ..backends._dispatch import numba_active
from ..base import check_is_fitted, validate_data

__all__ = ["KNeighborsMixin"]

#: Memory budget for one chunk of queries (None: ``primitives.CHUNK_BYTES``); tests lower it.
_CHUNK_BYTES: int | None = None
#: Names of the Euclidean distance (``"minkowski"`` only with ``p=2``).
_EUCLIDEAN = ("minkowski", "euclidean", "l2")
_ALGORITHMS = ("auto", "ball_tree", "kd_tree", "brute")


def _known_metrics() -> set[str]:
    from sklearn.neighbors import VALID_METRICS

    return {m for names in VALID_METRICS.values() for m in names if isinstance(m, str)}


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _block_size(n: int, k: int) -> int:
    """Block length for the two-stage top-k over ``n`` columns (0: select directly)."""
    block = int(math.sqrt(n / k))
    if block < 8 or n // block < 4 * k:
        return 0
    return block


def _smallest_k_blocked(S: Any, col_ids: Any, k: int, block: int, *, xp: Any) -> Any:
    """Indices of the ``k`` smallest values of each row of ``S`` (m, n), in two stages.

    The k smallest values of a row lie in the k blocks (of ``block`` columns)
    with the smallest minimums, plus the leftover columns: one min-reduction
    over ``S`` and two small selections replace a selection over all ``n``
    columns. Static shapes throughout; ``col_ids`` is ``arange(n)`` (no array
    creation with a device inside a function that JAX traces).
    """
    m, n = S.shape[0], S.shape[1]
    n_blocks = n // block
    main = n_blocks * block
    block_min = xp.min(xp.reshape(S[:, :main], (m, n_blocks, block)), axis=2)
    _, best = primitives.smallest_k(block_min, k, xp=xp)  # (m, k) block numbers
    offsets = xp.astype(col_ids[:block], best.dtype)
    cand = xp.reshape(best[:, :, None] * block + offsets[None, None, :], (m, k * block))
    if main < n:
        rest = xp.astype(col_ids[main:], best.dtype)
        cand = xp.concat([cand, xp.broadcast_to(rest[None, :], (m, n - main))], axis=1)
    vals = xp.take_along_axis(S, cand, axis=1)
    _, pos = primitives.smallest_k(vals, k, xp=xp)
    return xp.take_along_axis(cand, pos, axis=1)


def _chunk_kneighbors(Xq: Any, fit_aug: Any, col_ids: Any, *, k: int, xp: Any) -> tuple[Any, Any]:
    """Squared distances and indices of the ``k`` nearest training rows of each row of ``Xq``.

    ``fit_aug`` is the training set with ``|y|^2 / 2`` appended as a last
    column, so that one matrix product, ``[-x, 1] @ fit_aug.T``, gives
    ``|y|^2 / 2 - x.y``: the squared distance less the query's own norm,
    halved, which ranks the candidates in the same order. The ``k`` kept are
    then measured directly from the differences (exact zeros for exact
    matches, full precision for close points) and sorted.
    """
    S = xp.concat([-Xq, xp.ones_like(Xq[:, :1])], axis=1) @ fit_aug.T
    block = _block_size(int(fit_aug.shape[0]), k)
    if block:
        ind = _smallest_k_blocked(S, col_ids, k, block, xp=xp)
    else:
        _, ind = primitives.smallest_k(S, k, xp=xp)
    return _exact_sorted(Xq, fit_aug, ind, xp=xp)


def _exact_sorted(Xq: Any, fit_aug: Any, ind: Any, *, xp: Any) -> tuple[Any, Any]:
    """Exact squared distances from each row of ``Xq`` (m, d) to its candidates ``ind`` (m, k), ascending.

    Returns ``(d2, ind)``, both of shape (m, k), re-sorted by distance (stably:
    equal distances keep the order of ``ind``).
    """
    m, d, k = Xq.shape[0], Xq.shape[1], ind.shape[1]
    neigh = xp.reshape(xp.take(fit_aug, xp.reshape(ind, (-1,)), axis=0), (m, k, d + 1))
    diff = neigh[:, :, :d] - Xq[:, None, :]
    exact = xp.sum(diff * diff, axis=2)
    order = xp.argsort(exact, axis=1, stable=True)
    return xp.take_along_axis(exact, order, axis=1), xp.take_along_axis(ind, order, axis=1)


_chunk_kneighbors_jit = jit(_chunk_kneighbors, static_argnames=("k",))


class _SearchCache(dict):
    """What the tiled search keeps between searches on one training set (see ``_native.ranked_nearest``).

    Derived data only: pickling and copying give an empty cache.
    """

    def __reduce__(self) -> Any:
        return (_SearchCache, ())


def _native_search(xp: Any, k: int) -> Callable[..., Any] | None:
    """The tiled NumPy search of :mod:`._native` for ``xp`` and ``k`` neighbors (None: the generic one).

    Called as ``search(Xq, fit_aug, k)``; returns the candidate indices (m, k)
    or None (non-finite ranks: use the generic path). An optional ``cache=``
    (a dict the estimator keeps between searches) serves NumPy data.
    """
    kind = namespace_kind(xp)
    if kind not in ("numpy", "torch", "jax"):
        return None
    from . import _native

    if k > _native.MAX_K:
        return None

    use_numba = False
    if numba_active() or kind != "numpy":
        try:
            import toolbox.backends.native.numba  # noqa: F401
        except ImportError:
            pass
        else:
            use_numba = True
    if kind == "numpy":
        return lambda Xq, fit_aug, k, cache=None: _native.ranked_nearest(Xq, fit_aug, k, use_numba=use_numba,
                                                                          cache=cache)

    def on_host(Xq: Any, fit_aug: Any, k: int, cache: Any = None) -> Any:
        # torch / JAX arrays in CPU memory: the same search on zero-copy NumPy views
        from ..backends.native._host import cpu_views

        views = cpu_views(Xq, fit_aug)
        if views is None:
            return None
        ind = _native.ranked_nearest(*views, k, use_numba=use_numba)
        return None if ind is None else xp.asarray(ind, device=Xq.device if kind == "torch" else None)

    return on_host


def _drop_self(d2: Any, ind: Any, start: int, *, xp: Any) -> tuple[Any, Any]:
    """Remove each query's own index from its ``k + 1`` neighbors, as scikit-learn does.

    Row ``i`` of the chunk is training sample ``start + i``. When the sample is
    not among its neighbors (more exact duplicates than neighbors), the first
    neighbor is dropped instead. No boolean indexing: a gather shifts the
    columns after the dropped one.
    """
    m, k1 = ind.shape
    rows = xp.arange(start, start + m, dtype=ind.dtype, device=ind.device)[:, None]
    # first position of the sample itself; 0 (the first neighbor) when absent
    pos = xp.argmax(xp.astype(ind == rows, xp.int32), axis=1)
    cols = xp.arange(k1 - 1, dtype=pos.dtype, device=ind.device)[None, :]
    src = cols + xp.astype(cols >= pos[:, None], pos.dtype)
    src = xp.astype(src, ind.dtype) if src.dtype != ind.dtype else src
    return xp.take_along_axis(d2, src, axis=1), xp.take_along_axis(ind, src, axis=1)


def _distance_weights(dist: Any, weights: Any, *, xp: Any) -> Any:
    """Neighbor weights from distances, scikit-learn's ``_get_weights``; ``None`` for uniform.

    ``"distance"``: ``1 / dist``, except that a query with a neighbor at distance
    zero gives all the weight to its zero-distance neighbors (1 each, the others 0).
    """
    if weights in (None, "uniform"):
        return None
    if weights == "distance":
        zero = dist == 0
        has_zero = xp.any(zero, axis=1, keepdims=True)
        inv = 1.0 / xp.where(zero, xp.ones_like(dist), dist)
        return xp.where(has_zero, xp.astype(zero, dist.dtype), inv)
    w = weights(dist)
    if bool(xp.any(xp.all(w == 0, axis=1))):
        raise ValueError(
            "All neighbors of some sample is getting zero weights. Please modify 'weights' to "
            "avoid this case if you are using a user-defined function."
        )
    return w


class KNeighborsMixin:
    """Parameter checks, ``fit`` storage and the chunked k-neighbors search.

    Holds the parameters shared by the classifier and the regressor, with
    scikit-learn's names and defaults.
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str | Callable[..., Any] | None = "uniform",
        algorithm: str = "auto",
        leaf_size: int = 30,
        p: float = 2,
        metric: str = "minkowski",
        metric_params: dict[str, Any] | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ #
    # parameters
    # ------------------------------------------------------------------ #

    def _check_params(self, y: Any = 0) -> None:
        """Validate the parameters; ``y=None`` (a missing target at ``fit``) is refused."""
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        n = self.n_neighbors
        if not _is_int(n) or n < 1:
            raise ValueError(
                f"The 'n_neighbors' parameter of {name} must be an int in the range [1, inf). "
                f"Got {n!r} instead."
            )
        if not (self.weights in ("uniform", "distance") or self.weights is None or callable(self.weights)):
            raise ValueError(
                f"The 'weights' parameter of {name} must be 'uniform', 'distance', a callable or None. "
                f"Got {self.weights!r} instead."
            )
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(
                f"The 'algorithm' parameter of {name} must be one of {_ALGORITHMS}. "
                f"Got {self.algorithm!r} instead."
            )
        if not _is_int(self.leaf_size) or self.leaf_size < 1:
            raise ValueError(
                f"The 'leaf_size' parameter of {name} must be an int in the range [1, inf). "
                f"Got {self.leaf_size!r} instead."
            )
        if self.n_jobs is not None and not _is_int(self.n_jobs):
            raise ValueError(f"The 'n_jobs' parameter of {name} must be an int or None. Got {self.n_jobs!r} instead.")
        if self.metric_params is not None and not isinstance(self.metric_params, dict):
            raise ValueError(
                f"The 'metric_params' parameter of {name} must be a dict or None. "
                f"Got {self.metric_params!r} instead."
            )
        self._check_metric()

    def _check_metric(self) -> None:
        name = type(self).__name__
        metric = self.metric
        only = (
            "only the Euclidean distance is implemented (metric='minkowski' with p=2, "
            f"'euclidean' or 'l2'); use scikit-learn's {name} for other metrics."
        )
        if callable(metric):
            raise NotImplementedError(f"A callable metric ({metric!r}) is not supported by toolbox's {name}: {only}")
        if not isinstance(metric, str) or metric not in _EUCLIDEAN:
            if isinstance(metric, str) and metric in _known_metrics():
                raise NotImplementedError(f"metric={metric!r} is not supported by toolbox's {name}: {only}")
            raise ValueError(f"Metric {metric!r} not valid for {name}: {only}")
        params = dict(self.metric_params or {})
        p = params.pop("p", self.p) if metric == "minkowski" else 2
        if p is None:
            p = 2
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or p <= 0:
            raise ValueError(f"The 'p' parameter of {name} must be a float in the range (0, inf]. Got {p!r} instead.")
        if p != 2:
            raise NotImplementedError(
                f"metric='minkowski' with p={p} is not supported by toolbox's {name}: {only}"
            )
        if params:
            raise NotImplementedError(
                f"metric_params {sorted(params)} are not supported by toolbox's {name}: {only}"
            )

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def _fit_neighbors(self, v: Any) -> None:
        """Store the training set (``v``: the validated fit data) and its halved squared row norms."""
        xp = v.xp
        if sp.is_sparse(v.X):  # kept sparse, with its halved squared row norms beside it
            self._fit_X_sparse = v.X
            self._fit_half_sq = 0.5 * sp.row_sq_norms(v.X)
            self._fit_X_aug = None
        else:
            self._fit_X_sparse = self._fit_half_sq = None
            # the training set with |y|^2 / 2 appended: the search's one matrix product needs both
            half_norm = 0.5 * xp.sum(v.X * v.X, axis=1)
            self._fit_X_aug = xp.concat([v.X, half_norm[:, None]], axis=1)
        self._fit_origin = v.origin
        self._search_cache = _SearchCache()
        self._fit_method = "brute"
        self.n_samples_fit_ = int(v.X.shape[0])
        self.effective_metric_ = "euclidean"
        self.effective_metric_params_: dict[str, Any] = {}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.sparse = True
        return tags

    def to_backend(self, name: str, device: Any = None) -> Any:
        """Move the fitted attributes, the stored training set included, to ``name`` on ``device``."""
        if getattr(self, "_fit_X_sparse", None) is not None:
            raise TypeError(f"{type(self).__name__} was fitted on sparse X, which stays in its library: "
                            "refit on the target backend instead of moving it.")
        super().to_backend(name, device)  # type: ignore[misc]
        for attr in ("_fit_X_aug", "_y"):
            setattr(self, attr, to_backend(getattr(self, attr), name, device))
        self._fit_origin = origin_of(self._fit_X_aug)  # kneighbors(None) now mirrors the new place
        return self

    # ------------------------------------------------------------------ #
    # search
    # ------------------------------------------------------------------ #

    def _query(self, X: Any, n_neighbors: int | None) -> tuple[Any, Compute, Origin, int, bool]:
        """Validate the query; return ``(Xq, compute, origin, k, query_is_train)``.

        ``X=None`` queries the training set itself (each point excluded from
        its own neighbors); the results then mirror the data given to ``fit``.
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        elif n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        elif not _is_int(n_neighbors):
            raise TypeError(f"n_neighbors does not take {type(n_neighbors)} value, enter integer value")
        n_neighbors = int(n_neighbors)
        query_is_train = X is None
        if query_is_train and getattr(self, "_fit_X_sparse", None) is not None:
            Xq, origin = self._fit_X_sparse, self._fit_origin
            compute = resolve(Xq)
        elif query_is_train:
            compute = resolve(self._fit_X_aug)
            (fit_aug,) = self._fitted(compute, "_fit_X_aug")
            Xq = fit_aug[:, :-1]
            origin = self._fit_origin
        else:
            v = validate_data(self, X, reset=False, accept_sparse=True)
            Xq, compute, origin = v.X, v.compute, v.origin
        n_fit = self.n_samples_fit_
        if n_neighbors > n_fit - (1 if query_is_train else 0):
            ineq = "n_neighbors < n_samples_fit" if query_is_train else "n_neighbors <= n_samples_fit"
            raise ValueError(
                f"Expected {ineq}, but n_neighbors = {n_neighbors}, n_samples_fit = {n_fit}, "
                f"n_samples = {Xq.shape[0]}"
            )
        return Xq, compute, origin, n_neighbors, query_is_train

    def _iter_kneighbors(self, Xq: Any, compute: Compute, k: int, query_is_train: bool,
                         extra_per_row: int = 0, need_distances: bool = True) -> Iterator[tuple[Any, Any]]:
        """Yield ``(squared_distances, indices)``, each of shape (chunk, k), chunk by chunk of ``Xq``.

        ``extra_per_row``: array elements per query row that the caller allocates
        for each chunk (e.g. one-hot votes), counted in the chunk's memory budget.
        ``need_distances=False`` (callers that use the set of neighbors only, such as
        uniform votes): the tiled search's indices are yielded as found, in rank
        order, with ``None`` for the distances (the same set; no exact distances).
        """
        if sp.is_sparse(Xq) or getattr(self, "_fit_X_sparse", None) is not None:
            yield from self._iter_kneighbors_sparse(Xq, compute, k, query_is_train, extra_per_row)
            return
        xp = compute.xp
        (fit_aug,) = self._fitted(compute, "_fit_X_aug", dtype=Xq.dtype)
        n_q, n_fit = int(Xq.shape[0]), int(fit_aug.shape[0])
        col_ids = xp.arange(n_fit, device=compute.device)
        k_search = k + 1 if query_is_train else k
        itemsize = 4 if Xq.dtype == xp.float32 else 8
        cache = getattr(self, "_search_cache", None)
        search = _native_search(xp, k_search)
        # the distance block and its temporaries (not made by the tiled search),
        # the selection's indices and the gathered neighbors
        d = int(Xq.shape[1])
        ranks = 0 if search is not None else 2 * n_fit
        step = primitives.chunk_rows(n_q, (ranks + 3 * k_search * d + extra_per_row) * itemsize,
                                     _CHUNK_BYTES or primitives.CHUNK_BYTES)
        for start in range(0, n_q, step):
            chunk = Xq[start:min(start + step, n_q), ...]
            ind = None if search is None else search(chunk, fit_aug, k_search,
                                                     cache=cache if isinstance(cache, dict) else None)
            if ind is not None and not need_distances and not query_is_train:
                yield None, ind
                continue
            if ind is not None:
                d2, ind = _exact_sorted(chunk, fit_aug, ind, xp=xp)
            else:
                d2, ind = _chunk_kneighbors_jit(chunk, fit_aug, col_ids, k=k_search, xp=xp)
            if query_is_train:
                d2, ind = _drop_self(d2, ind, start, xp=xp)
            yield d2, ind

    def _iter_kneighbors_sparse(self, Xq: Any, compute: Compute, k: int, query_is_train: bool,
                                extra_per_row: int) -> Iterator[tuple[Any, Any]]:
        """:meth:`_iter_kneighbors` when the training set or the queries are sparse.

        Per chunk of queries, one product ``Xq @ X_fit.T`` (sparse products, dense
        (chunk, n_fit) result) ranks the training points by ``|y|^2 / 2 - x.y``; the
        ``k`` kept get ``|x|^2 + |y|^2 - 2 x.y`` (clipped at 0), as scikit-learn's
        ``euclidean_distances`` on sparse input. Neither side is densified.
        """
        xp = compute.xp
        if getattr(self, "_fit_X_sparse", None) is not None:
            fit_X, (half,) = self._fit_X_sparse, self._fitted(compute, "_fit_half_sq", dtype=Xq.dtype)
        else:
            (fit_aug,) = self._fitted(compute, "_fit_X_aug", dtype=Xq.dtype)
            fit_X, half = fit_aug[:, :-1], fit_aug[:, -1]
        q_sq = sp.row_sq_norms(Xq) if sp.is_sparse(Xq) else xp.sum(Xq * Xq, axis=1)
        n_q, n_fit = int(Xq.shape[0]), int(fit_X.shape[0])
        k_search = k + 1 if query_is_train else k
        itemsize = 4 if Xq.dtype == xp.float32 else 8
        step = primitives.chunk_rows(n_q, (3 * n_fit + extra_per_row) * itemsize,
                                     _CHUNK_BYTES or primitives.CHUNK_BYTES)
        # torch, both sparse: the training set's transpose as CSR, made once for every chunk
        fit_T = (sp.transpose(fit_X) if sp.sparse_kind(fit_X) == "torch" and sp.is_sparse(Xq) and n_q > step
                 else None)
        for start in range(0, n_q, step):
            stop = min(start + step, n_q)
            chunk = sp.row_slice(Xq, start, stop) if sp.is_sparse(Xq) else Xq[start:stop, ...]
            cross = sp.product_dense(chunk, fit_X, fit_T)  # (m, n_fit)
            _, ind = primitives.smallest_k(half[None, :] - cross, k_search, xp=xp)
            near_half = xp.reshape(xp.take(half, xp.reshape(ind, (-1,)), axis=0), ind.shape)
            d2 = xp.clip(q_sq[start:stop, None] + 2.0 * near_half - 2.0 * xp.take_along_axis(cross, ind, axis=1),
                         min=0.0)
            order = xp.argsort(d2, axis=1, stable=True)
            d2, ind = xp.take_along_axis(d2, order, axis=1), xp.take_along_axis(ind, order, axis=1)
            if query_is_train:
                d2, ind = _drop_self(d2, ind, start, xp=xp)
            yield d2, ind

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True) -> Any:
        """Find the k nearest neighbors of each query point.

        Parameters
        ----------
        X : array of shape (n_queries, n_features) or None
            Query points. ``None`` queries the training points, each one not
            counted as its own neighbor.
        n_neighbors : int, optional
            Number of neighbors (default: the ``n_neighbors`` parameter).
        return_distance : bool, default=True
            Return the distances as well.

        Returns
        -------
        neigh_dist : array of shape (n_queries, n_neighbors), floating
            Euclidean distances, ascending; only when ``return_distance``.
        neigh_ind : array of shape (n_queries, n_neighbors), integer
            Indices of the neighbors in the training set.
        """
        Xq, compute, origin, k, query_is_train = self._query(X, n_neighbors)
        xp = compute.xp
        dists, inds = [], []
        for d2, ind in self._iter_kneighbors(Xq, compute, k, query_is_train):
            inds.append(ind)
            if return_distance:
                dists.append(xp.sqrt(d2))
        ind = inds[0] if len(inds) == 1 else xp.concat(inds, axis=0)
        if not return_distance:
            return self._output(ind, origin)
        dist = dists[0] if len(dists) == 1 else xp.concat(dists, axis=0)
        return self._output(dist, origin), self._output(ind, origin)

    def kneighbors_graph(self, X: Any = None, n_neighbors: int | None = None, mode: str = "connectivity") -> Any:
        """The k-neighbors graph as a SciPy sparse matrix of shape (n_queries, n_samples_fit).

        ``mode="connectivity"`` puts ones, ``mode="distance"`` the Euclidean
        distances. The graph is built on the host (SciPy), whatever the backend.
        """
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        if mode == "connectivity":
            ind = self.kneighbors(X, n_neighbors, return_distance=False)
            ind = np.asarray(to_backend(ind, "numpy"))
            data = np.ones(ind.size)
        elif mode == "distance":
            dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
            ind = np.asarray(to_backend(ind, "numpy"))
            data = np.asarray(to_backend(dist, "numpy")).ravel()
        else:
            raise ValueError(
                'Unsupported mode, must be one of "connectivity", '
                f'or "distance" but got "{mode}" instead'
            )
        n_queries = ind.shape[0]
        indptr = np.arange(0, n_queries * n_neighbors + 1, n_neighbors)
        graph = scipy.sparse.csr_array((data, ind.ravel(), indptr), shape=(n_queries, self.n_samples_fit_))
        if sklearn.get_config().get("sparse_interface") == "spmatrix":
            graph = scipy.sparse.csr_matrix(graph)
        return graph
