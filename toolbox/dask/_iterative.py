"""Iterative blockwise fits: KMeans (one distributed pass per Lloyd iteration) and
LogisticRegression (Newton's method, one distributed pass per iteration for the objective,
gradient and Hessian). The parameters (centres, coefficients) are small and travel to
the blocks with each pass; only per-block sums come back.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import array_api_compat.numpy as npx
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _moments as m
from ._graph import check_rows_1d, compute, map_reduce, row_blocks

__all__ = ["fit_kmeans", "fit_logistic_regression"]

#: rows of X sampled (and brought to the client) to seed KMeans: at most this many,
#: and at least 50 per cluster
SEED_ROWS = 20_000


def _float(X: np.ndarray, dtype: Any) -> np.ndarray:
    return np.asarray(X, dtype=dtype)


# --------------------------------------------------------------------------- #
# KMeans
# --------------------------------------------------------------------------- #


def _sq_dists(Xc: np.ndarray, centers: np.ndarray) -> np.ndarray:
    x2 = np.einsum("ij,ij->i", Xc, Xc)
    c2 = np.einsum("ij,ij->i", centers, centers)
    return np.maximum(x2[:, None] - 2.0 * (Xc @ centers.T) + c2[None, :], 0.0)


#: distances computed per batch of rows inside a block: at most this many (rows x clusters) entries
_BATCH_ENTRIES = 1 << 22


def _nearest(Xc: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest centre of each row and the squared distance to it, in batches of rows (bounded memory)."""
    n = Xc.shape[0]
    step = max(1, _BATCH_ENTRIES // max(1, centers.shape[0]))
    labels = np.empty(n, dtype=np.intp)
    dist = np.empty(n, dtype=Xc.dtype)
    for start in range(0, n, step):  # batches of rows, not single rows
        D = _sq_dists(Xc[start:start + step], centers)
        lab = np.argmin(D, axis=1)
        labels[start:start + step] = lab
        dist[start:start + step] = D[np.arange(D.shape[0]), lab]
    return labels, dist


def lloyd_block(X: np.ndarray, centers: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-cluster sums (k, d) and counts (k,) of the block's rows assigned to ``centers``, and its inertia."""
    import scipy.sparse

    Xc = _float(X, centers.dtype) - offset
    labels, dist = _nearest(Xc, centers)
    k, n = centers.shape[0], Xc.shape[0]
    assign = scipy.sparse.csr_matrix((np.ones(n, dtype=Xc.dtype), (labels, np.arange(n))), shape=(k, n))
    return np.asarray(assign @ Xc), np.bincount(labels, minlength=k).astype(Xc.dtype), float(dist.sum())


def merge_lloyd(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def farthest_block(X: np.ndarray, centers: np.ndarray, offset: np.ndarray, count: int) -> tuple:
    """The block's ``count`` rows farthest from their closest centre: (distances, rows, labels)."""
    Xc = _float(X, centers.dtype) - offset
    labels, dist = _nearest(Xc, centers)
    top = np.argsort(-dist, kind="stable")[:count]
    return dist[top], Xc[top], labels[top]


def merge_farthest(a: tuple, b: tuple) -> tuple:
    dist = np.concatenate([a[0], b[0]])
    top = np.argsort(-dist, kind="stable")[: max(len(a[0]), len(b[0]))]
    return dist[top], np.concatenate([a[1], b[1]])[top], np.concatenate([a[2], b[2]])[top]


def _seed(est: Any, X: Any, offset: np.ndarray, n_runs: int) -> np.ndarray:
    """Initial centres (centred coordinates) from a uniform sample of rows, seeded as the NumPy path seeds."""
    from sklearn.utils import check_random_state

    from ..cluster import KMeans

    n, k = int(X.shape[0]), int(est.n_clusters)
    size = min(n, max(SEED_ROWS, 50 * k))
    rng = check_random_state(est.random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    idx = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False)) if size < n else None
    (sample,) = compute(X if idx is None else X[idx])
    sample = np.asarray(sample, dtype=X.dtype)
    local = KMeans(n_clusters=k, init=est.init, n_init=n_runs, max_iter=est.max_iter, tol=est.tol,
                   random_state=seed, algorithm=est.algorithm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local.fit(sample)
    return np.asarray(local.cluster_centers_, dtype=X.dtype) - offset


def _relocate(X: Any, blocks: list, centers: np.ndarray, offset: np.ndarray, sums: np.ndarray,
              counts: np.ndarray) -> np.ndarray:
    """Empty clusters take the rows farthest from their centres, as the NumPy path (and scikit-learn) do."""
    empty = np.flatnonzero(counts == 0)
    dist, rows, labels = map_reduce(farthest_block, merge_farthest, blocks, centers, offset, len(empty))
    sums, counts = sums.copy(), counts.copy()
    if dist.size and dist[0] > 0:
        for j, c in enumerate(empty[: len(dist)]):  # a loop over empty clusters (Python ints)
            sums[c], counts[c] = rows[j], 1.0
            sums[labels[j]] -= rows[j]
            counts[labels[j]] -= 1.0
    return _average(sums, counts)


def _average(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    nonempty = counts > 0
    centers = sums / np.where(nonempty, counts, 1.0)[:, None]
    return np.where(nonempty[:, None], centers, centers[np.argmax(counts)][None, :])


def fit_kmeans(est: Any, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
    from ._dispatch import lazy_method
    from ._fits import _no_weights

    _no_weights(est, sample_weight)
    est._check_params()
    n, d = int(X.shape[0]), int(X.shape[1])
    k = int(est.n_clusters)
    if n < k:
        raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
    init = est.init
    init_is_array = not isinstance(init, str) and not callable(init)
    n_runs = est._n_runs(init_is_array)
    blocks = row_blocks(X)
    _, mean, ssd = map_reduce(m.moments_block, m.merge_moments, blocks)
    mean = mean.astype(X.dtype, copy=False)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(ssd))):
        raise ValueError("Input X contains NaN or infinity (found while KMeans reduced the Dask array's "
                         "blocks). Remove or impute them first (toolbox.impute.SimpleImputer).")
    offset = mean if est.copy_x else np.zeros_like(mean)
    total_ss = float(ssd.sum())  # sklearn's tol: tol * the mean per-feature variance
    tol = 0.0 if est.tol == 0 else max(total_ss / n, 0.0) / d * float(est.tol)
    if init_is_array:
        centers = np.asarray(init, dtype=X.dtype)
        if centers.shape != (k, d):
            raise ValueError(f"The shape of the initial centers {centers.shape} does not match the number of "
                             f"clusters {k} and features {d}.")
        centers = centers - offset
    else:
        centers = _seed(est, X, offset, n_runs)
    n_iter = 0
    for n_iter in range(1, int(est.max_iter) + 1):  # noqa: B007 (one distributed pass per Lloyd iteration)
        sums, counts, _ = map_reduce(lloyd_block, merge_lloyd, blocks, centers, offset)
        if np.any(counts == 0):
            new = _relocate(X, blocks, centers, offset, sums, counts)
        else:
            new = sums / counts[:, None]
        shift = float(np.sum((new - centers) ** 2))
        centers = new
        if shift <= tol:
            break
    _, counts, inertia = map_reduce(lloyd_block, merge_lloyd, blocks, centers, offset)
    distinct = int(np.sum(counts > 0))
    if distinct < k:
        warnings.warn(f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                      "Possibly due to duplicate points in X.", ConvergenceWarning, stacklevel=4)
    est.cluster_centers_ = centers + offset
    est._n_features_out = k
    est.inertia_ = float(inertia)
    est.n_iter_ = n_iter
    est.labels_ = lazy_method(est, "predict", X)  # a lazy dask array: the labels stay on the workers
    return est


# --------------------------------------------------------------------------- #
# LogisticRegression
# --------------------------------------------------------------------------- #


def logistic_block(X: np.ndarray, y: np.ndarray, w: np.ndarray, classes: np.ndarray, cw: np.ndarray,
                   scale: float, n_rows: int, fit_intercept: bool, hessian: bool) -> tuple:
    """Objective, gradient (and Hessian) of one block's share of the (unpenalized) loss."""
    from ..linear_model._logistic_loss import _gradient_parts, _hessian

    X = _float(X, w.dtype)
    y_enc = np.searchsorted(classes, np.asarray(y))
    if n_rows == 1:
        Y = (y_enc == 1).astype(X.dtype)[:, None]
    else:
        Y = (y_enc[:, None] == np.arange(n_rows)[None, :]).astype(X.dtype)
    sw = cw[y_enc].astype(X.dtype) * scale
    pen = np.zeros_like(w)
    f, g, P = _gradient_parts(w, X, Y, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept, xp=npx)
    H = _hessian(P.T, X, sw, pen, n_rows=n_rows, fit_intercept=fit_intercept, xp=npx) if hessian else None
    return float(f), g, H


def merge_logistic(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1], None if a[2] is None else a[2] + b[2]


def fit_logistic_regression(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    from ..backends import primitives
    from ..exceptions import IllConditionedWarning
    from ._fits import _no_weights

    _no_weights(est, sample_weight)
    C, l1_ratio = est._check_params()
    if l1_ratio:
        raise NotImplementedError("LogisticRegression on Dask arrays implements the L2 (or no) penalty only; "
                                  f"l1_ratio={l1_ratio} (an L1 / elastic-net penalty) needs the data in memory.")
    if y is None:
        raise ValueError("LogisticRegression requires y to be passed, but the target y is None.")
    y = check_rows_1d(y, X)
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    blocks = row_blocks(X, y)
    yb = [b[1:] for b in blocks]
    classes, counts = map_reduce(m.labels_block, m.merge_labels, yb)
    n_classes = int(classes.shape[0])
    if n_classes < 2:
        raise ValueError(f"This solver needs samples of at least 2 classes in the data, but the data contains "
                         f"only one class: {classes[0]!r}")
    if est.solver == "liblinear" and n_classes > 2:
        raise ValueError("The 'liblinear' solver does not support multiclass classification (n_classes >= 3).")
    dtype = X.dtype
    n, d = int(X.shape[0]), int(X.shape[1])
    n_rows = 1 if n_classes == 2 else n_classes
    fi = bool(est.fit_intercept)
    if est.class_weight is None:
        cw = np.ones(n_classes, dtype=dtype)
    elif est.class_weight == "balanced":
        cw = (n / (n_classes * counts)).astype(dtype)
    else:
        labels = classes.tolist()
        missing = [c for c in labels if c not in est.class_weight]
        if missing and n_classes - len(missing) != len(est.class_weight):
            raise ValueError(f"The classes, {missing}, are not in class_weight")
        cw = np.asarray([float(est.class_weight.get(c, 1.0)) for c in labels], dtype=dtype)
    total = float(cw @ counts)
    if not total > 0:
        raise ValueError("LogisticRegression: the sample weights (times class weights) must have a positive sum.")
    scale = 1.0 / total
    lam = 0.0 if math.isinf(C) else 1.0 / (C * total)
    row_pen = [lam] * d
    if fi:
        row_pen.append(lam / float(est.intercept_scaling) ** 2 if est.solver == "liblinear" else 0.0)
    pen = np.asarray(row_pen * n_rows, dtype=dtype)
    p = n_rows * (d + int(fi))
    w = np.zeros(p, dtype=dtype)
    if est.warm_start and hasattr(est, "coef_") and tuple(np.shape(est.coef_)) == (n_rows, d):
        W = np.concatenate([est.coef_, np.asarray(est.intercept_)[:, None]], axis=1) if fi else est.coef_
        w = np.asarray(W, dtype=dtype).reshape(-1)

    def evaluate(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        f, g, H = map_reduce(logistic_block, merge_logistic, blocks, w, classes, cw, scale, n_rows, fi, True)
        return f + 0.5 * float(np.sum(pen * w * w)), g + pen * w, H + np.diag(pen)

    tol, max_iter = float(est.tol), int(est.max_iter)
    f, g, H = evaluate(w)
    n_iter, converged = max_iter, False
    for it in range(max_iter):  # one distributed pass per Newton iteration (more if it backtracks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IllConditionedWarning)
            step = primitives.solve_spd(H, -g, xp=npx)
        if float(np.max(np.abs(g))) <= tol:
            # as the NumPy path: the step already solved is taken too (far more precise than tol)
            w, n_iter, converged = w + step, it + 1, True
            break
        slope = float(g @ step)
        if not slope < 0:  # not a descent direction (numerical trouble): the gradient instead
            step, slope = -g, -float(g @ g)
        t = 1.0
        while True:
            w_new = w + t * step
            f_new, g_new, H_new = evaluate(w_new)
            if f_new <= f + 1e-4 * t * slope or t < 1e-10 or abs(f_new - f) <= 1e-15 * max(1.0, abs(f)):
                break
            t *= 0.5
        w, f, g, H = w_new, f_new, g_new, H_new
    if not converged and max_iter > 0:
        warnings.warn(f"Newton's method (Dask) did not converge in {max_iter} iterations: the largest gradient "
                      f"entry is {float(np.max(np.abs(g))):.3g} > tol={tol:g}. Increase max_iter.",
                      ConvergenceWarning, stacklevel=4)
    W = w.reshape(n_rows, d + int(fi))
    est.classes_ = classes
    est.coef_ = W[:, :d]
    est.intercept_ = W[:, d] if fi else np.zeros(n_rows, dtype=dtype)
    est.n_iter_ = np.asarray([n_iter], dtype=np.int32)
    return est
